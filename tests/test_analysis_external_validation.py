"""Spearman correlation against a benchmark over the common units."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats

from pipelines.analysis.external_validation import spearman_against


def test_common_units_only_and_monotone_relation() -> None:
    scores = pl.DataFrame({"unit_code": list("abcdef"), "score": [1.0, 2, 3, 4, 5, None]})
    bench = pl.DataFrame({"unit_code": list("abcdez"), "value": [10.0, 20, 40, 80, 160, 1]})
    out = spearman_against(scores, bench, "gawc")
    assert out["benchmark"] == "gawc" and out["n_units"] == 5
    assert out["spearman_rho"] == pytest.approx(1.0)
    rev = spearman_against(scores, bench.with_columns(-pl.col("value")), "gawc")
    assert rev["spearman_rho"] == pytest.approx(-1.0)


def test_matches_scipy_on_the_intersection() -> None:
    rng = np.random.default_rng(0)
    units = [f"c{i}" for i in range(40)]
    s = rng.normal(size=40)
    v = s + rng.normal(size=40)
    v[3] = np.nan
    out = spearman_against(
        pl.DataFrame({"unit_code": units, "score": s}),
        pl.DataFrame({"unit_code": units[:30], "value": v[:30]}),
        "kearney",
    )
    keep = [i for i in range(30) if i != 3]
    ref = stats.spearmanr(s[keep], v[keep])
    assert out["n_units"] == 29
    assert out["spearman_rho"] == pytest.approx(ref.statistic)
    assert out["p_value"] == pytest.approx(ref.pvalue)


def test_too_few_or_constant_gives_none() -> None:
    scores = pl.DataFrame({"unit_code": ["a", "b"], "score": [1.0, 2.0]})
    out = spearman_against(scores, scores.rename({"score": "value"}), "x")
    assert out == {"benchmark": "x", "n_units": 2, "spearman_rho": None, "p_value": None}
    flat = pl.DataFrame({"unit_code": list("abcd"), "value": [1.0] * 4})
    scores4 = pl.DataFrame({"unit_code": list("abcd"), "score": [1.0, 2, 3, 4]})
    assert spearman_against(scores4, flat, "x")["spearman_rho"] is None


def test_duplicate_units_are_rejected() -> None:
    scores = pl.DataFrame({"unit_code": ["a", "a", "b"], "score": [1.0, 2.0, 3.0]})
    bench = pl.DataFrame({"unit_code": ["a", "b"], "value": [1.0, 2.0]})
    with pytest.raises(ValueError, match="duplicate"):
        spearman_against(scores, bench, "x")
