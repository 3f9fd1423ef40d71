"""A vectorised numpy copy of the index engine, for Monte Carlo and sensitivity analysis.

Why: the dbt engine computes one configuration per run; the uncertainty analysis needs
thousands. This module computes the same normalise -> aggregate -> rank chain (COINr
semantics, see `reference/coinr/README.md`) for R weight sets at once with array operations;
`tests/test_analysis_engine.py` proves it against COINr's own ASEM results.

Conventions: `values[unit, indicator]` holds one year's raw (or treated) values, NaN for
missing, indicators in `Framework.indicator_codes` order. Scores arrays are
`[..., unit, code]` over `Framework.codes` (indicators first, then each aggregate level).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

__all__ = [
    "Framework",
    "compile_framework",
    "dense_values",
    "normalise",
    "aggregate",
    "rank_desc",
    "compute",
]


@dataclass(frozen=True)
class Framework:
    """A framework compiled to index arrays (codes ordered by level, then framework order)."""

    codes: tuple[str, ...]
    levels: np.ndarray  # (n_codes,) int
    direction: np.ndarray  # (n_codes,) float, only meaningful for indicators
    weight: np.ndarray  # (n_codes,) nominal weights
    parent: np.ndarray  # (n_codes,) index of the parent code, -1 at the top
    n_indicators: int

    @property
    def indicator_codes(self) -> tuple[str, ...]:
        return self.codes[: self.n_indicators]

    @property
    def max_level(self) -> int:
        return int(self.levels.max())

    def level_slice(self, level: int) -> slice:
        """Codes of one level are contiguous; return their slice."""
        idx = np.flatnonzero(self.levels == level)
        return slice(int(idx[0]), int(idx[-1]) + 1)

    def top_index(self) -> int:
        """Index of the single top-level code (the index)."""
        idx = np.flatnonzero(self.levels == self.max_level)
        if idx.size != 1:
            raise ValueError(f"expected one top-level code, got {[self.codes[i] for i in idx]}")
        return int(idx[0])

    def index_of(self, code: str) -> int:
        return self.codes.index(code)


def compile_framework(framework: pl.DataFrame) -> Framework:
    """Compile framework rows (level, icode, direction, weight, parent[, type]).

    Column names are matched case-insensitively, so COINr's iMeta (Level, iCode, ...) works too.

    Rows whose type is neither Indicator nor Aggregate (COINr Group/Denominator rows), or
    whose level is null, are ignored. Every code below the top level needs a parent one level
    up, as COINr requires.
    """
    fw = framework.rename({c: c.lower() for c in framework.columns})
    if "type" in fw.columns:
        fw = fw.filter(pl.col("type").is_in(["Indicator", "Aggregate"]) | pl.col("type").is_null())
    fw = fw.filter(pl.col("level").is_not_null()).with_row_index("_ord")
    fw = fw.sort(["level", "_ord"])
    codes = tuple(fw["icode"].cast(pl.String).to_list())
    if len(set(codes)) != len(codes):
        raise ValueError("duplicate icode in framework")
    levels = fw["level"].cast(pl.Int64).to_numpy()
    if levels.min() != 1:
        raise ValueError("framework has no level-1 indicators")
    direction = fw["direction"].cast(pl.Float64).fill_null(1.0).to_numpy().copy()
    weight = fw["weight"].cast(pl.Float64).fill_null(1.0).to_numpy().copy()
    pos = {c: i for i, c in enumerate(codes)}
    parent = np.full(len(codes), -1, dtype=np.int64)
    top = levels.max()
    for i, p in enumerate(fw["parent"].cast(pl.String).to_list()):
        if levels[i] == top:
            continue
        if p is None or p not in pos:
            raise ValueError(f"{codes[i]} has no parent in the framework")
        if levels[pos[p]] != levels[i] + 1:
            raise ValueError(f"parent {p} of {codes[i]} is not one level up")
        parent[i] = pos[p]
    return Framework(
        codes=codes,
        levels=levels,
        direction=direction,
        weight=weight,
        parent=parent,
        n_indicators=int((levels == 1).sum()),
    )


def dense_values(
    long: pl.DataFrame, fw: Framework, unit_codes: Sequence[str] | None = None
) -> tuple[np.ndarray, list[str]]:
    """Pivot long (unit_code, icode, value) rows of one year to values[unit, indicator]."""
    units = sorted(long["unit_code"].unique().to_list()) if unit_codes is None else list(unit_codes)
    upos = {u: i for i, u in enumerate(units)}
    ipos = {c: i for i, c in enumerate(fw.indicator_codes)}
    out = np.full((len(units), fw.n_indicators), np.nan)
    for u, c, v in long.select("unit_code", "icode", "value").iter_rows():
        if u in upos and c in ipos and v is not None:
            out[upos[u], ipos[c]] = v
    return out, units


def normalise(
    values: np.ndarray,
    fw: Framework,
    method: str = "minmax",
    params: tuple[float, float] | None = None,
) -> np.ndarray:
    """Normalise values[..., unit, indicator] per indicator, direction applied.

    minmax: (x*dir - min) / (max - min) * (u - l) + l, params (l, u), default (0, 100);
    zscore: (x*dir - mean) / sd * s + m with the sample sd, params (m, s), default (0, 1)
    (COINr's n_zscore). A constant indicator gives NaN (0/0), as in COINr.
    """
    x = values * fw.direction[: fw.n_indicators]
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "minmax":
            lo, hi = params if params is not None else (0.0, 100.0)
            mn = _nan_reduce(np.nanmin, x)
            mx = _nan_reduce(np.nanmax, x)
            return (x - mn) / (mx - mn) * (hi - lo) + lo
        if method == "zscore":
            m, s = params if params is not None else (0.0, 1.0)
            count = (~np.isnan(x)).sum(axis=-2, keepdims=True)
            mean = np.nansum(x, axis=-2, keepdims=True) / count
            var = np.nansum((x - mean) ** 2, axis=-2, keepdims=True) / (count - 1)
            return (x - mean) / np.sqrt(var) * s + m
    raise ValueError(f"unknown normalisation {method!r}")


def _nan_reduce(func, x: np.ndarray) -> np.ndarray:
    """nanmin/nanmax over units without the all-NaN warning (an all-missing column stays NaN)."""
    allnan = np.isnan(x).all(axis=-2, keepdims=True)
    filled = np.where(allnan, 0.0, x)
    return np.where(allnan, np.nan, func(filled, axis=-2, keepdims=True))


def aggregate(
    level1: np.ndarray,
    fw: Framework,
    weights: np.ndarray | None = None,
    method: str = "amean",
) -> np.ndarray:
    """Aggregate level by level; returns scores[..., unit, code] for every code.

    level1: normalised values [unit, indicator] or [R, unit, indicator].
    weights: (n_codes,) or (R, n_codes); default the framework's nominal weights.
    amean: sum(w x) / sum(w) over present children (weights renormalised);
    gmean: exp(sum(w log x) / sum(w)) over present children, all present values must be > 0.
    A parent with no present child is NaN. The output has a leading R axis when either input
    has one.
    """
    if method not in ("amean", "gmean"):
        raise ValueError(f"unknown aggregation {method!r}")
    w = fw.weight if weights is None else np.asarray(weights, dtype=float)
    batched = level1.ndim == 3 or w.ndim == 2
    if level1.ndim == 2:
        level1 = level1[None]
    if w.ndim == 1:
        w = w[None]
    n_rep = max(level1.shape[0], w.shape[0])
    n_unit = level1.shape[1]
    scores = np.full((n_rep, n_unit, len(fw.codes)), np.nan)
    scores[:, :, : fw.n_indicators] = level1
    for lev in range(2, fw.max_level + 1):
        child = fw.level_slice(lev - 1)
        par = fw.level_slice(lev)
        onehot = (fw.parent[child][:, None] == np.arange(par.start, par.stop)[None, :]).astype(
            float
        )  # (C, K)
        s = scores[:, :, child]  # (R, U, C)
        present = ~np.isnan(s)
        wc = np.broadcast_to(w[:, None, child], s.shape)  # (R, U, C)
        if method == "gmean":
            if np.any(s[present] <= 0):
                raise ValueError("gmean needs positive values: normalise to [1, 100] first")
            with np.errstate(divide="ignore"):
                term = np.where(present, np.log(np.where(present, s, 1.0)), 0.0)
        else:
            term = np.where(present, s, 0.0)
        num = (term * wc) @ onehot
        den = np.where(present, wc, 0.0) @ onehot
        with np.errstate(invalid="ignore", divide="ignore"):
            val = num / den
        val = np.where(den > 0, val, np.nan)
        scores[:, :, par] = np.exp(val) if method == "gmean" else val
    return scores if batched else scores[0]


def rank_desc(scores: np.ndarray, axis: int = -1) -> np.ndarray:
    """COINr ranks, `rank(-x, ties.method = "min")` along `axis`: highest = 1, NaN unranked.

    Returns floats (NaN where the score is missing); vectorised over all other axes.
    """
    x = np.moveaxis(np.asarray(scores, dtype=float), axis, -1)
    missing = np.isnan(x)
    key = np.where(missing, np.inf, -x)
    order = np.argsort(key, axis=-1, kind="stable")
    sk = np.take_along_axis(key, order, axis=-1)
    pos = np.arange(1, x.shape[-1] + 1, dtype=float)
    new = np.ones(sk.shape, dtype=bool)
    new[..., 1:] = sk[..., 1:] != sk[..., :-1]
    ranks_sorted = np.maximum.accumulate(np.where(new, pos, 0.0), axis=-1)
    ranks = np.empty_like(ranks_sorted)
    np.put_along_axis(ranks, order, ranks_sorted, axis=-1)
    ranks[missing] = np.nan
    return np.moveaxis(ranks, -1, axis)


def compute(
    values: np.ndarray,
    fw: Framework,
    *,
    normalisation: str = "minmax",
    norm_params: tuple[float, float] | None = None,
    aggregation: str = "amean",
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Normalise, aggregate and rank one year; returns (scores, ranks) over every code."""
    scores = aggregate(normalise(values, fw, normalisation, norm_params), fw, weights, aggregation)
    return scores, rank_desc(scores, axis=-2)
