"""Pillar correlations, their flags, and Cronbach's alpha (COINr get_cronbach semantics)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import polars as pl
import pytest
from scipy import stats

from pipelines.analysis.coherence import (
    cronbach_alpha,
    pairwise_pearson,
    pillar_alpha,
    pillar_correlations,
)
from pipelines.analysis.engine_numpy import compile_framework, normalise
from tests.reference_data import COINR_ASEM_DIR as COINR

FRAMEWORK = pl.DataFrame(
    {
        "level": [1, 1, 1, 1, 1, 2, 2, 3],
        "icode": ["a", "b", "c", "d", "e", "P", "Q", "I"],
        "direction": [1] * 8,
        "weight": [1.0] * 8,
        "parent": ["P", "P", "P", "Q", "Q", "I", "I", None],
        "type": ["Indicator"] * 5 + ["Aggregate"] * 3,
    }
)


def _long(x: np.ndarray, codes: list[str], year: int | None = None) -> pl.DataFrame:
    rows = [
        (f"u{i}", c, None if np.isnan(x[i, j]) else float(x[i, j]))
        for i in range(x.shape[0])
        for j, c in enumerate(codes)
    ]
    df = pl.DataFrame(rows, schema=["unit_code", "icode", "value"], orient="row")
    return df if year is None else df.with_columns(pl.lit(year).alias("year"))


def _textbook_alpha(x: np.ndarray) -> float:
    k = x.shape[1]
    return k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / x.sum(axis=1).var(ddof=1))


def test_pearson_pairwise_complete() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=30), rng.normal(size=30)
    a[[1, 5]] = np.nan
    b[[5, 9]] = np.nan
    ok = ~(np.isnan(a) | np.isnan(b))
    assert pairwise_pearson(a, b) == pytest.approx(stats.pearsonr(a[ok], b[ok]).statistic)
    assert math.isnan(pairwise_pearson(np.array([1.0, 2.0, np.nan]), np.array([1.0, 3.0, 2.0])))
    assert math.isnan(pairwise_pearson(np.ones(5), np.arange(5.0)))


def test_cronbach_complete_data_equals_textbook_formula() -> None:
    rng = np.random.default_rng(1)
    f = rng.normal(size=(40, 1))
    x = f + rng.normal(scale=0.7, size=(40, 4))
    assert cronbach_alpha(x) == pytest.approx(_textbook_alpha(x), rel=1e-12)
    assert math.isnan(cronbach_alpha(x[:, :1]))


def test_cronbach_missing_uses_pairwise_covariances() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(25, 3)) + rng.normal(size=(25, 1))
    x[rng.random(x.shape) < 0.15] = np.nan
    cov = pd.DataFrame(x).cov().to_numpy()  # pandas cov is pairwise complete, as R's
    k = 3
    expected = k**2 * ((cov.sum() - np.trace(cov)) / (k * (k - 1))) / cov.sum()
    assert cronbach_alpha(x) == pytest.approx(expected, rel=1e-12)
    listwise = x[~np.isnan(x).any(axis=1)]
    assert cronbach_alpha(x) != pytest.approx(_textbook_alpha(listwise))


def test_pillar_correlations_and_flags() -> None:
    rng = np.random.default_rng(3)
    n = 40
    a = rng.normal(size=n)
    b = 2 * a + rng.normal(scale=0.01, size=n)  # redundant with a
    c = -a + rng.normal(scale=3.0, size=n)  # weak negative link
    d = rng.normal(size=n)
    e = -d + rng.normal(scale=0.01, size=n)  # strong negative
    x = np.column_stack([a, b, c, d, e])
    out = pillar_correlations(_long(x, list("abcde")), FRAMEWORK)
    assert out.columns == ["pillar", "icode_a", "icode_b", "pearson_r", "flag"]
    got = {(p, i, j): (r, f) for p, i, j, r, f in out.iter_rows()}
    assert set(got) == {("P", "a", "b"), ("P", "a", "c"), ("P", "b", "c"), ("Q", "d", "e")}
    assert got[("P", "a", "b")][1] == "high"
    assert got[("P", "a", "c")][1] == "negative"
    assert got[("Q", "d", "e")][1] == "high+negative"
    assert got[("P", "a", "c")][0] == pytest.approx(np.corrcoef(a, c)[0, 1])


def test_pillar_alpha_by_year() -> None:
    rng = np.random.default_rng(4)
    x1 = rng.normal(size=(30, 5)) + rng.normal(size=(30, 1))
    x2 = rng.normal(size=(30, 5))
    long = pl.concat([_long(x1, list("abcde"), 2023), _long(x2, list("abcde"), 2024)])
    out = pillar_alpha(long, FRAMEWORK)
    assert out.columns == ["year", "pillar", "cronbach_alpha", "n_indicators"]
    got = {(y, p): (al, k) for y, p, al, k in out.iter_rows()}
    assert got[(2023, "P")][0] == pytest.approx(_textbook_alpha(x1[:, :3]))
    assert got[(2024, "Q")][0] == pytest.approx(_textbook_alpha(x2[:, 3:]))
    assert got[(2023, "P")][1] == 3 and got[(2023, "Q")][1] == 2
    corr = pillar_correlations(long, FRAMEWORK)
    assert corr.height == 8 and corr["year"].unique().sort().to_list() == [2023, 2024]


def test_asem_pillars() -> None:
    meta = pl.read_csv(COINR / "inputs_iMeta.csv")
    fw = compile_framework(meta)
    data = pl.read_csv(COINR / "inputs_iData.csv")
    norm = normalise(data.select(fw.indicator_codes).to_numpy().astype(float), fw)
    long = _long(norm, list(fw.indicator_codes))
    corr = pillar_correlations(long, meta)
    sizes = meta.filter(pl.col("Level") == 1).group_by("Parent").len()["len"].to_list()
    assert corr.height == sum(k * (k - 1) // 2 for k in sizes)
    assert corr["pearson_r"].is_not_null().all()
    neg = corr.filter(pl.col("pearson_r") < 0)
    assert neg.height > 0 and neg["flag"].str.contains("negative").all()
    alpha = pillar_alpha(long, meta)
    assert alpha.height == 8 and alpha["cronbach_alpha"].is_not_null().all()
    assert alpha["n_indicators"].sum() == 49
