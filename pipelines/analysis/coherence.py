"""Statistical coherence of each pillar: indicator correlations and Cronbach's alpha.

Why: the JRC/COINr audit checks that indicators grouped in a pillar point the same way
(negative correlations suggest a wrong direction or a trade-off) without being redundant
(|r| > 0.9 double-counts one concept), and that the pillar is internally consistent.

Pillars are the framework's level-2 aggregates; their indicators are the level-1 codes whose
parent they are. Missing data: pairwise complete observations for both Pearson r and the
covariances behind alpha, as COINr's `get_corr` and `get_cronbach`
(`use = "pairwise.complete.obs"`). Alpha follows `get_cronbach` exactly:
`k^2 * mean(off-diagonal cov) / sum(cov)`.
"""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import polars as pl

__all__ = ["pillar_correlations", "pillar_alpha", "cronbach_alpha", "pairwise_pearson"]

HIGH_R = 0.9


def _pillars(framework: pl.DataFrame) -> dict[str, list[str]]:
    """Level-2 aggregates and their level-1 indicators, in framework order."""
    fw = framework.rename({c: c.lower() for c in framework.columns})
    inds = fw.filter(pl.col("level") == 1)
    out: dict[str, list[str]] = {}
    for p in fw.filter(pl.col("level") == 2)["icode"].to_list():
        out[p] = inds.filter(pl.col("parent") == p)["icode"].to_list()
    return out


def pairwise_pearson(a: np.ndarray, b: np.ndarray, min_obs: int = 3) -> float:
    """Pearson r over the units where both are present; NaN below `min_obs` or no variance."""
    m = ~(np.isnan(a) | np.isnan(b))
    if m.sum() < min_obs:
        return math.nan
    x, y = a[m] - a[m].mean(), b[m] - b[m].mean()
    den = math.sqrt(float(x @ x) * float(y @ y))
    return float(x @ y) / den if den > 0 else math.nan


def cronbach_alpha(x: np.ndarray) -> float:
    """Cronbach's alpha of x[unit, indicator] as COINr's get_cronbach (pairwise covariances)."""
    k = x.shape[1]
    if k < 2:
        return math.nan
    cov = np.full((k, k), np.nan)
    for i in range(k):
        for j in range(i, k):
            m = ~(np.isnan(x[:, i]) | np.isnan(x[:, j]))
            n = int(m.sum())
            if n >= 2:
                xi, xj = x[m, i], x[m, j]
                cov[i, j] = cov[j, i] = float((xi - xi.mean()) @ (xj - xj.mean())) / (n - 1)
    sigall = np.nansum(cov)
    sigav = (sigall - np.nansum(np.diag(cov))) / (k * (k - 1))
    return float(k**2 * sigav / sigall) if sigall != 0 else math.nan


def _flag(r: float) -> str:
    """'high' when |r| > 0.9, 'negative' when r < 0, both joined by '+', else 'ok'."""
    if math.isnan(r):
        return "insufficient_data"
    flags = []
    if abs(r) > HIGH_R:
        flags.append("high")
    if r < 0:
        flags.append("negative")
    return "+".join(flags) if flags else "ok"


def _matrix(df: pl.DataFrame, codes: list[str]) -> np.ndarray:
    """values[unit, indicator] for the given codes (units = those in df)."""
    wide = df.filter(pl.col("icode").is_in(codes)).pivot(
        on="icode", index="unit_code", values="value", aggregate_function=None
    )
    cols = [
        pl.col(c).cast(pl.Float64) if c in wide.columns else pl.lit(None, pl.Float64).alias(c)
        for c in codes
    ]
    return wide.select(cols).to_numpy().astype(float) if wide.height else np.empty((0, len(codes)))


def _by_year(normalised: pl.DataFrame):
    if "year" in normalised.columns:
        for (year,), part in normalised.group_by("year", maintain_order=True):
            yield year, part
    else:
        yield None, normalised


def pillar_correlations(normalised: pl.DataFrame, framework: pl.DataFrame) -> pl.DataFrame:
    """Pearson r between every pair of indicators within each pillar.

    normalised: long (unit_code, icode, value[, year]) of normalised indicator values.
    Returns [year,] pillar, icode_a, icode_b (framework order, a before b), pearson_r (null
    with fewer than 3 complete pairs or no variance), flag ("ok" | "high" | "negative" |
    "high+negative" | "insufficient_data").
    """
    pillars = _pillars(framework)
    rows = []
    for year, part in _by_year(normalised.with_columns(pl.col("value").fill_nan(None))):
        for pillar, codes in pillars.items():
            x = _matrix(part, codes)
            for (i, a), (j, b) in combinations(enumerate(codes), 2):
                r = pairwise_pearson(x[:, i], x[:, j])
                rows.append((year, pillar, a, b, None if math.isnan(r) else r, _flag(r)))
    schema = {
        "year": normalised.schema.get("year", pl.Int64),
        "pillar": pl.String,
        "icode_a": pl.String,
        "icode_b": pl.String,
        "pearson_r": pl.Float64,
        "flag": pl.String,
    }
    out = pl.DataFrame(rows, schema=schema, orient="row")
    return out if "year" in normalised.columns else out.drop("year")


def pillar_alpha(normalised: pl.DataFrame, framework: pl.DataFrame) -> pl.DataFrame:
    """Cronbach's alpha per pillar: [year,] pillar, cronbach_alpha, n_indicators.

    n_indicators counts the pillar's indicators in the framework; alpha is null for fewer
    than two.
    """
    pillars = _pillars(framework)
    rows = []
    for year, part in _by_year(normalised.with_columns(pl.col("value").fill_nan(None))):
        for pillar, codes in pillars.items():
            a = cronbach_alpha(_matrix(part, codes))
            rows.append((year, pillar, None if math.isnan(a) else a, len(codes)))
    schema = {
        "year": normalised.schema.get("year", pl.Int64),
        "pillar": pl.String,
        "cronbach_alpha": pl.Float64,
        "n_indicators": pl.Int64,
    }
    out = pl.DataFrame(rows, schema=schema, orient="row")
    return out if "year" in normalised.columns else out.drop("year")
