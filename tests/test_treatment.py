"""COINr default outlier treatment: statistics, winsorisation ties and cap, log fallback, ASEM."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from scipy import stats

from pipelines.index.treatment import (
    kurt_type2,
    passes_skew_kurt,
    skew_type2,
    treat_coinr,
    treat_vector,
)
from tests.reference_data import COINR_ASEM_DIR as COINR


def _fails(v: np.ndarray) -> bool:
    """README's check, written independently with scipy (bias=False = type 2)."""
    return abs(stats.skew(v, bias=False)) >= 2 and stats.kurtosis(v, bias=False) >= 3.5


def reference_treat(x: np.ndarray, winmax: int = 5) -> tuple[np.ndarray, str, int]:
    """A literal, slow reading of the rule: count = points changed from their original value."""
    x = np.asarray(x, dtype=float)
    if x.size < 4 or np.all(x == x[0]) or not _fails(x):
        return x, "none", 0
    w = x.copy()
    count = 0
    while _fails(w) and count < winmax:
        if stats.skew(w, bias=False) >= 0:
            tied = w == w.max()
            w[tied] = w[~tied].max()
        else:
            tied = w == w.min()
            w[tied] = w[~tied].min()
        count = int((w != x).sum())
    if not _fails(w):
        return w, "winsorised", count
    return np.log(x - x.min() + 0.01 * (x.max() - x.min())), "log", count


def _long(values: dict[str, list[float | None]], year: int = 2020) -> pl.DataFrame:
    rows = [
        (f"u{i:03d}", year, icode, v) for icode, vals in values.items() for i, v in enumerate(vals)
    ]
    return pl.DataFrame(
        rows, schema=["unit_code", "year", "icode", "value"], orient="row"
    ).with_columns(pl.col("value").cast(pl.Float64))


# --- statistics -------------------------------------------------------------------------


@pytest.mark.parametrize("n", [4, 5, 11, 50])
def test_type2_statistics_agree_with_scipy_unbiased(n: int) -> None:
    rng = np.random.default_rng(n)
    x = rng.lognormal(size=n)
    assert skew_type2(x) == pytest.approx(stats.skew(x, bias=False), rel=1e-12)
    assert kurt_type2(x) == pytest.approx(stats.kurtosis(x, bias=False), rel=1e-12)


def test_type2_statistics_by_hand() -> None:
    # x = 1, 2, 3, 10: mean 4, deviations -3 -2 -1 6; m2 = 50, m3 = 180, m4 = 1394.
    x = np.array([1.0, 2.0, 3.0, 10.0])
    n = 4
    g1 = math.sqrt(n) * 180 / 50**1.5
    assert skew_type2(x) == pytest.approx(g1 * math.sqrt(n * (n - 1)) / (n - 2))
    r = n * 1394 / 50**2
    assert kurt_type2(x) == pytest.approx(((n + 1) * (r - 3) + 6) * (n - 1) / ((n - 2) * (n - 3)))


def test_statistics_edge_cases_are_nan() -> None:
    assert math.isnan(skew_type2(np.array([1.0, 2.0])))
    assert math.isnan(kurt_type2(np.array([1.0, 2.0, 3.0])))
    assert math.isnan(skew_type2(np.ones(10)))
    assert math.isnan(kurt_type2(np.ones(10)))
    assert skew_type2(np.array([1.0, np.nan, 2.0, 7.0])) == pytest.approx(
        skew_type2(np.array([1.0, 2.0, 7.0]))
    )


def test_check_uses_r_three_valued_or() -> None:
    assert passes_skew_kurt(1.9, 100.0) is True  # |skew| < 2 is enough
    assert passes_skew_kurt(5.0, 3.4) is True  # kurt < 3.5 is enough
    assert passes_skew_kurt(2.0, 3.5) is False  # both at the threshold fail
    assert passes_skew_kurt(-2.5, 4.0) is False
    assert passes_skew_kurt(math.nan, 1.0) is True  # NA | TRUE = TRUE
    assert passes_skew_kurt(math.nan, 9.0) is None  # NA | FALSE = NA


# --- winsorisation ------------------------------------------------------------------------


def test_coinr_own_example_one_high_outlier() -> None:
    # COINr tests/testthat/test-treat.R: x = c(1:10, 100) -> the 100 becomes 10.
    x = np.array([*range(1, 11), 100.0])
    assert _fails(x)
    xt, lab, det = treat_vector(x)
    assert xt[-1] == 10 and np.array_equal(xt[:-1], x[:-1])
    assert list(lab).count("winsorised") == 1 and lab[-1] == "winsorised"
    assert det["method"] == "winsorised" and det["winsorised_points"] == 1
    assert det["low_or_high"] == "high"
    assert not _fails(xt)


def test_negative_skew_winsorises_the_minimum() -> None:
    x = -np.array([*range(1, 11), 100.0])
    xt, lab, det = treat_vector(x)
    assert xt[-1] == -10 and det["low_or_high"] == "low" and det["method"] == "winsorised"


def test_tied_maximum_is_winsorised_as_one_set() -> None:
    x = np.array([*range(1, 31), 500.0, 500.0])
    assert _fails(x)
    xt, lab, det = treat_vector(x)
    assert np.array_equal(xt[-2:], [30.0, 30.0])
    assert det["winsorised_points"] == 2
    assert list(lab[-2:]) == ["winsorised", "winsorised"]
    assert not _fails(xt)


def test_tie_set_takes_the_count_past_the_cap() -> None:
    # Four single outliers then a tied set of three: 4 + 3 = 7 > 5, and then it passes.
    x = np.array([*range(1, 61), 1000, 900, 800, 700, 600, 600, 600], dtype=float)
    xt, lab, det = treat_vector(x)
    assert det["winsorised_points"] == 7
    assert det["method"] == "winsorised"
    assert (lab == "winsorised").sum() == 7
    assert np.all(xt[-7:] == 60.0) and np.array_equal(xt[:60], x[:60])


def test_cap_reached_then_log_of_the_original_values() -> None:
    x = np.array([*range(1, 201), 1e5, 9e4, 8e4, 7e4, 6e4, 6e4, 6e4, 5e4])
    xt, lab, det = treat_vector(x)
    assert det["winsorised_points"] == 7  # stopped by the cap, via the tied set
    assert det["method"] == "log"
    expected = np.log(x - x.min() + 0.01 * (x.max() - x.min()))
    np.testing.assert_allclose(xt, expected, rtol=0, atol=0)
    assert set(lab) == {"log"}
    assert det["skew_after"] == pytest.approx(stats.skew(expected, bias=False))


def test_coinr_two_step_example_falls_back_to_log() -> None:
    # COINr test-treat.R: x = c(1:20, 100, 200) with winmax = 1 still fails after winsorising.
    x = np.array([*range(1, 21), 100.0, 200.0])
    xt, _lab, det = treat_vector(x, winmax=1)
    assert det["method"] == "log" and det["winsorised_points"] == 1
    np.testing.assert_allclose(xt, np.log(x - 1 + 0.01 * 199))
    # with the default cap it is winsorised instead
    xt5, _lab, det5 = treat_vector(x)
    assert det5["method"] == "winsorised"
    assert not _fails(xt5)


@pytest.mark.parametrize("seed", range(16))
def test_matches_literal_reference_on_heavy_tailed_samples(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(8, 80))
    x = np.round(rng.pareto(0.6 + (seed % 4) * 0.5, size=n) * 10, 0)  # rounding: ties
    if seed % 2:
        x = -x
    xt, lab, det = treat_vector(x)
    ref, method, count = reference_treat(x)
    assert det["method"] == method
    np.testing.assert_allclose(xt, ref, rtol=1e-12)
    if method != "none":
        assert det["winsorised_points"] == count
    if method == "winsorised":
        assert np.array_equal(lab == "winsorised", xt != x)


def test_too_few_points_and_constant_are_untouched() -> None:
    for x in (np.array([1.0, 2.0, 1000.0]), np.full(12, 3.0)):
        xt, lab, det = treat_vector(x)
        assert np.array_equal(xt, x) and set(lab) == {"none"} and det["method"] == "none"


# --- long-frame API -----------------------------------------------------------------------


def test_long_frame_keeps_rows_missing_values_and_treats_years_separately() -> None:
    base = [float(v) for v in range(1, 11)]
    a = _long({"A": [*base, 100.0, None], "B": [*base, 11.0, 12.0]}, year=2020)
    b = _long({"A": [*base, 11.0, None]}, year=2021)
    long = pl.concat([b, a]).sample(fraction=1.0, shuffle=True, seed=3)
    treated, log = treat_coinr(long)
    assert treated.columns == ["unit_code", "year", "icode", "value", "treatment"]
    assert treated.select("unit_code", "year", "icode").equals(
        long.select("unit_code", "year", "icode")
    )
    key = treated.join(long, on=["unit_code", "year", "icode"], suffix="_raw")
    changed = key.filter(pl.col("value") != pl.col("value_raw"))
    assert changed.select("year", "icode", "unit_code", "value").rows() == [
        (2020, "A", "u010", 10.0)
    ]
    assert key.filter(pl.col("value_raw").is_null())["value"].is_null().all()
    assert key.filter(pl.col("value_raw").is_null())["treatment"].to_list() == ["none", "none"]
    assert log.height == 3
    row = log.filter((pl.col("year") == 2020) & (pl.col("icode") == "A")).row(0, named=True)
    assert row["n"] == 11 and row["method"] == "winsorised" and row["winsorised_points"] == 1
    others = log.filter(~((pl.col("year") == 2020) & (pl.col("icode") == "A")))
    assert others["method"].to_list() == ["none", "none"]
    assert others["low_or_high"].is_null().all()


def _asem_long() -> pl.DataFrame:
    data = pl.read_csv(COINR / "inputs_iData.csv")
    meta = pl.read_csv(COINR / "inputs_iMeta.csv")
    codes = meta.filter(pl.col("Type") == "Indicator")["iCode"].to_list()
    return data.select(
        pl.col("uCode").alias("unit_code"), pl.col("Time").alias("year"), *codes
    ).unpivot(index=["unit_code", "year"], variable_name="icode", value_name="value")


def test_asem_invariants() -> None:
    long = _asem_long()
    treated, log = treat_coinr(long)
    assert log.height == 49
    joined = treated.join(long, on=["unit_code", "year", "icode"], suffix="_raw")
    for row in log.iter_rows(named=True):
        part = joined.filter(pl.col("icode") == row["icode"])
        raw = part["value_raw"].drop_nulls().to_numpy()
        new = part["value"].drop_nulls().to_numpy()
        assert row["n"] == raw.size
        assert row["skew_before"] == pytest.approx(stats.skew(raw, bias=False))
        assert row["kurt_before"] == pytest.approx(stats.kurtosis(raw, bias=False))
        if row["method"] == "none":
            assert np.array_equal(new, raw)  # untouched indicators are identical
            assert not _fails(raw)
            continue
        assert _fails(raw)
        assert row["skew_after"] == pytest.approx(stats.skew(new, bias=False))
        if row["method"] == "winsorised":
            assert not _fails(new)  # treated indicators pass afterwards
            moved = new != raw
            assert moved.sum() == row["winsorised_points"]
            assert set(new[moved]) <= set(raw[~moved])  # values reassigned, never invented
            assert (part["treatment"] == "winsorised").sum() == row["winsorised_points"]
        ref, method, count = reference_treat(raw)
        assert method == row["method"] and count == row["winsorised_points"]
        np.testing.assert_allclose(new, ref)
    assert (log["method"] == "winsorised").sum() > 0


def test_empty_input_gives_empty_frames_with_schema() -> None:
    empty = pl.DataFrame(
        schema={"unit_code": pl.String, "year": pl.Int32, "icode": pl.String, "value": pl.Float64}
    )
    treated, log = treat_coinr(empty)
    assert treated.height == 0 and treated.columns[-1] == "treatment"
    assert log.height == 0 and log.schema["year"] == pl.Int32
    assert log.schema["low_or_high"] == pl.String
