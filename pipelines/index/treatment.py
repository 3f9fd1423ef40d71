"""COINr's default outlier treatment (`Treat()` / `qTreat` defaults), reproduced exactly.

Why a Python module: the rule iterates (winsorise one tied set, re-test, fall back to a log
transform), which SQL expresses badly; the dbt Python model `eng_treatment` (once per build:
values and log) and the Monte Carlo analysis both call `treat_coinr` so that they share one
implementation.

The rule, per indicator and per year (COINr treats each coin of a purse separately), on the
raw values with missing removed (COINr `R/treat.R`: `Treat.numeric`, `winsorise`, `log_CT`,
`check_SkewKurt`, `skew`, `kurt`):

1. Pass when ``|skew| < skew_thresh`` OR ``kurt < kurt_thresh`` (type-2 skew and excess
   kurtosis, as Excel SKEW and KURT); fail otherwise.
2. While failing and ``nwin < winmax``: if the current skew is >= 0, every point tied at the
   maximum takes the largest value among the other points (else the same at the minimum).
   ``nwin`` is COINr's ``length(imax) + length(imin)`` where ``imax``/``imin`` are the latest
   tied sets on each side; since earlier winsorised points stay tied at the extreme, this is
   the cumulative count, and a tied set can take it past ``winmax``.
3. If still failing, ``log(x - min(x) + 0.01 * (max(x) - min(x)))`` on the ORIGINAL values.

Edge cases: fewer than 4 values (COINr's `kurt` stops with an error) or zero variance (the
check is NA, and COINr returns the vector untreated with a warning) give no treatment. The
same applies if a later check turns NA.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from pipelines.index.arrow_stream import polars_schema
from pipelines.index.treatment_schema import LOG_COLUMNS

__all__ = ["skew_type2", "kurt_type2", "passes_skew_kurt", "treat_vector", "treat_coinr"]


def skew_type2(x: np.ndarray) -> float:
    """Sample-adjusted (type-2, Excel SKEW) skewness as COINr's `skew`; NaN if n < 3."""
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x)]
    n = x.size
    if n < 3:
        return math.nan
    d = x - x.mean()
    m2 = float(np.sum(d**2))
    if m2 == 0.0:
        return math.nan  # 0/0 in R
    y = math.sqrt(n) * float(np.sum(d**3)) / m2**1.5
    return y * math.sqrt(n * (n - 1)) / (n - 2)


def kurt_type2(x: np.ndarray) -> float:
    """Sample-adjusted (type-2, Excel KURT) excess kurtosis as COINr's `kurt`; NaN if n < 4."""
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x)]
    n = x.size
    if n < 4:
        return math.nan
    d = x - x.mean()
    m2 = float(np.sum(d**2))
    if m2 == 0.0:
        return math.nan
    r = n * float(np.sum(d**4)) / m2**2
    return ((n + 1) * (r - 3) + 6) * (n - 1) / ((n - 2) * (n - 3))


def passes_skew_kurt(
    sk: float, kt: float, skew_thresh: float = 2.0, kurt_thresh: float = 3.5
) -> bool | None:
    """COINr's `check_SkewKurt` with R's three-valued `|`: None stands for NA."""
    a = None if math.isnan(sk) else abs(sk) < skew_thresh
    b = None if math.isnan(kt) else kt < kurt_thresh
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return False


def treat_vector(
    x: np.ndarray, *, winmax: int = 5, skew_thresh: float = 2.0, kurt_thresh: float = 3.5
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Treat one vector of present values (no NaN).

    Returns (treated values, per-point label array of "none"/"winsorised"/"log", details dict
    with the log-frame statistics).
    """
    x = np.asarray(x, dtype=float)
    n = x.size
    labels = np.full(n, "none", dtype=object)
    sk0, kt0 = skew_type2(x), kurt_type2(x)
    details = {
        "n": n,
        "skew_before": sk0,
        "kurt_before": kt0,
        "skew_after": sk0,
        "kurt_after": kt0,
        "winsorised_points": 0,
        "method": "none",
        "low_or_high": None,
    }
    if n < 4:
        return x.copy(), labels, details
    pass0 = passes_skew_kurt(sk0, kt0, skew_thresh, kurt_thresh)
    if pass0 is None or pass0:
        return x.copy(), labels, details

    # Stage 1: winsorise one tied set at a time (COINr `winsorise`).
    xw = x.copy()
    imax = np.empty(0, dtype=np.int64)
    imin = np.empty(0, dtype=np.int64)
    nwin = 0
    passing: bool | None = False
    while passing is False and nwin < winmax:
        if skew_type2(xw) >= 0:
            imax = np.flatnonzero(xw == xw.max())
            xw[imax] = np.delete(xw, imax).max()
        else:
            imin = np.flatnonzero(xw == xw.min())
            xw[imin] = np.delete(xw, imin).min()
        nwin = imax.size + imin.size
        passing = passes_skew_kurt(skew_type2(xw), kurt_type2(xw), skew_thresh, kurt_thresh)
    if passing is None:  # NA check: COINr returns the vector untreated
        return x.copy(), labels, details
    details["winsorised_points"] = nwin
    details["low_or_high"] = "both" if imax.size and imin.size else ("high" if imax.size else "low")
    if passing:
        labels[imax] = "winsorised"
        labels[imin] = "winsorised"
        details.update(method="winsorised", skew_after=skew_type2(xw), kurt_after=kurt_type2(xw))
        return xw, labels, details

    # Stage 2: log transform of the original values (COINr `log_CT`, combine_treat = FALSE).
    mn, mx = x.min(), x.max()
    xl = np.log(x - mn + 0.01 * (mx - mn))
    sk2, kt2 = skew_type2(xl), kurt_type2(xl)
    if passes_skew_kurt(sk2, kt2, skew_thresh, kurt_thresh) is None:
        return x.copy(), labels, details
    labels[:] = "log"
    details.update(method="log", skew_after=sk2, kurt_after=kt2)
    return xl, labels, details


def treat_coinr(
    long: pl.DataFrame,
    *,
    winmax: int = 5,
    skew_thresh: float = 2.0,
    kurt_thresh: float = 3.5,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Apply COINr's default treatment per (year, icode) to a long frame.

    Input columns: unit_code, year, icode, value (null or NaN = missing).
    Returns:
    - the treated frame, same rows and order, columns unit_code, year, icode, value (Float64),
      treatment ("none" | "winsorised" | "log"; missing values stay missing with "none");
    - the log frame, one row per (year, icode): year, icode, n (present values), skew_before,
      kurt_before, skew_after, kurt_after, winsorised_points (COINr's `nwin`, reported also
      when winsorisation was not enough and the log transform was used instead), method
      ("none" | "winsorised" | "log"), low_or_high ("high" | "low" | "both", null when no
      winsorisation was attempted).
    """
    df = long.select(
        pl.col("unit_code"),
        pl.col("year"),
        pl.col("icode"),
        pl.col("value").cast(pl.Float64).fill_nan(None),
    ).with_row_index("_row")
    # Units in a fixed order within each (year, icode): the statistics then sum in the same
    # order whatever order the rows arrive in, so the same inputs give the same bits.
    ordered = df.sort(["year", "icode", "unit_code", "_row"])
    gid = ordered.select(pl.struct("year", "icode").rle_id()).to_series().to_numpy()
    vals = ordered["value"].to_numpy(allow_copy=True).astype(float, copy=True)
    out_vals = vals.copy()
    out_lab = np.full(vals.size, "none", dtype=object)
    starts = np.flatnonzero(np.r_[True, gid[1:] != gid[:-1]]) if gid.size else gid[:0]
    ends = np.r_[starts[1:], gid.size].astype(int) if gid.size else gid[:0]
    years = ordered["year"].to_list()
    icodes = ordered["icode"].to_list()
    log_rows = []
    for s, e in zip(starts, ends, strict=True):
        seg = vals[s:e]
        present = np.flatnonzero(~np.isnan(seg))
        xt, lab, det = treat_vector(
            seg[present], winmax=winmax, skew_thresh=skew_thresh, kurt_thresh=kurt_thresh
        )
        out_vals[s + present] = xt
        out_lab[s + present] = lab
        log_rows.append({"year": years[s], "icode": icodes[s], **det})
    treated = (
        ordered.with_columns(
            pl.Series("value", out_vals, dtype=pl.Float64).fill_nan(None),
            pl.Series("treatment", out_lab.tolist(), dtype=pl.String),
        )
        .sort("_row")
        .drop("_row")
    )
    schema = polars_schema(LOG_COLUMNS)
    schema["year"] = df.schema["year"]
    log = pl.DataFrame(log_rows, schema=schema)
    for c in ("skew_before", "kurt_before", "skew_after", "kurt_after"):
        log = log.with_columns(pl.col(c).fill_nan(None))
    return treated, log
