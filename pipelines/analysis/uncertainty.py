"""Monte Carlo uncertainty and variance-based sensitivity analysis of the index ranks.

Why: a rank is only as solid as the assumptions behind it (JRC/COINr practice, Saisana et al.
2005). Each replication draws the assumptions below, recomputes the index with the vectorised
engine (`engine_numpy`), and ranks the units; the 5th-95th percentile of a unit's ranks is
its rank interval, and a year-on-year rank change inside it is not significant.

Assumptions drawn per replication (numpy Generator, seeded):
- weights: every aggregate weight (levels 2 and up; the top weight has no effect) multiplied
  by U(1 - p, 1 + p), p = `weight_perturbation` (COINr's `get_noisy_weights` style);
  indicator weights too when `perturb_indicator_weights` is true;
- treatment: on/off (`treat_options`); when on, the winsorisation limit is drawn from
  `winsor_points`. Treated data are computed once per limit with `treat_coinr`, never per
  replication;
- normalisation: min-max [0, 100] or z-score (COINr n_zscore, mean 0, sd 1);
- aggregation: arithmetic or geometric mean. The geometric mean needs positive values, which a
  z-score cannot give, so whenever gmean is drawn the normalisation is min-max to [1, 100]
  (COINr's advice for a_gmean) whatever normalisation was drawn.

The nominal configuration is the edition's method (`pipelines.index.method.MethodConfig`,
read back from what the dbt build recorded): its treatment (winmax 5), imputation (applied to
the values first, as the engine does before treatment), normalisation and range, aggregation
and weights. Every replication perturbs around it, so the nominal replication reproduces the
published ranks (`tests/test_method_parity.py`). The min-max option uses the method's range;
with gmean drawn, the method's range when it is positive, else [1, 100].
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from pipelines.analysis.engine_numpy import (
    Framework,
    aggregate,
    compile_framework,
    normalise,
    rank_desc,
)
from pipelines.index.method import MethodConfig
from pipelines.index.treatment import treat_coinr

__all__ = ["monte_carlo_ranks", "sensitivity_indices", "change_significance"]

# Normalisation kinds used internally, in this order in `_Context.norm_table`.
_NORM_KEYS = ("minmax", "zscore", "minmax_positive")
_AGGS = ("amean", "gmean")


def _norm_table(method: MethodConfig) -> tuple[tuple[str, tuple[float, float]], ...]:
    """(engine_numpy method, params) per internal key, around the edition's method."""
    lower, upper = method.range_lower, method.range_upper
    positive = (lower, upper) if lower > 0 else (1.0, 100.0)
    return (("minmax", (lower, upper)), ("zscore", (0.0, 1.0)), ("minmax", positive))


def impute(values: np.ndarray, method: str) -> np.ndarray:
    """The engine's imputation on values[unit, indicator] (eng_imputed): none, or each
    indicator's mean of present values (a column with no value stays missing)."""
    if method == "none":
        return values
    if method == "mean":
        present = ~np.isnan(values)
        counts = present.sum(axis=0)
        sums = np.where(present, values, 0.0).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            means = np.where(counts > 0, sums / counts, np.nan)
        return np.where(present, values, means[None, :])
    raise ValueError(f"impute must be none or mean for the analysis, got {method!r}")


@dataclass
class _Context:
    """Data variants (untreated, treated per winsorisation limit) and their normalisations."""

    fw: Framework
    values: np.ndarray
    unit_codes: list[str]
    winmaxes: tuple[int, ...]
    method: MethodConfig = field(default_factory=MethodConfig)
    _variants: dict[int, np.ndarray] = field(default_factory=dict)
    _level1: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)

    def variant(self, v: int) -> np.ndarray:
        """v = 0: untreated; v = k >= 1: treated with winmax = winmaxes[k - 1]."""
        if v not in self._variants:
            if v == 0:
                self._variants[v] = self.values
            else:
                self._variants[v] = _treated(
                    self.values, self.fw, self.unit_codes, self.winmaxes[v - 1]
                )
        return self._variants[v]

    def level1(self, v: int, norm: int) -> np.ndarray:
        key = (v, norm)
        if key not in self._level1:
            method, params = _norm_table(self.method)[norm]
            self._level1[key] = normalise(self.variant(v), self.fw, method, params)
        return self._level1[key]


def _treated(values: np.ndarray, fw: Framework, units: list[str], winmax: int) -> np.ndarray:
    """Treat a dense year with COINr's rule (via the long-frame API used by dbt)."""
    n_u, n_i = values.shape
    long = pl.DataFrame(
        {
            "unit_code": np.repeat(np.asarray(units, dtype=object), n_i).tolist(),
            "year": np.zeros(n_u * n_i, dtype=np.int64),
            "icode": list(fw.indicator_codes) * n_u,
            "value": values.reshape(-1),
        }
    )
    treated, _ = treat_coinr(long, winmax=winmax)
    return treated["value"].fill_null(np.nan).to_numpy().reshape(n_u, n_i)


def _evaluate(
    ctx: _Context,
    variant: np.ndarray,
    norm: np.ndarray,
    agg: np.ndarray,
    weights: np.ndarray,
    chunk: int = 256,
) -> np.ndarray:
    """Index scores (R, U) for R configurations, grouped by discrete choice, vectorised."""
    top = ctx.fw.top_index()
    out = np.full((len(variant), ctx.values.shape[0]), np.nan)
    norm = np.where(agg == 1, _NORM_KEYS.index("minmax_positive"), norm)
    keys = np.stack([variant, norm, agg], axis=1)
    combos, inverse = np.unique(keys, axis=0, return_inverse=True)
    for ci, (v, n, a) in enumerate(combos):
        rows = np.flatnonzero(inverse.reshape(-1) == ci)
        level1 = ctx.level1(int(v), int(n))
        for start in range(0, rows.size, chunk):
            r = rows[start : start + chunk]
            scores = aggregate(level1, ctx.fw, weights[r], _AGGS[int(a)])
            out[r] = scores[:, :, top]
    return out


def _weight_multipliers(
    fw: Framework, rng: np.random.Generator, n: int, p: float, indicators: bool
) -> np.ndarray:
    """Nominal weights times U(1-p, 1+p) on the perturbed codes, shape (n, n_codes)."""
    mult = rng.uniform(1.0 - p, 1.0 + p, size=(n, len(fw.codes)))
    fixed = fw.levels == 1 if not indicators else np.zeros(len(fw.codes), dtype=bool)
    mult[:, fixed] = 1.0
    return fw.weight[None, :] * mult


def _setup(
    framework: pl.DataFrame | Framework,
    values: np.ndarray,
    unit_codes: Sequence[str],
    winsor_points: Sequence[int],
    method: MethodConfig | None = None,
) -> _Context:
    fw = framework if isinstance(framework, Framework) else compile_framework(framework)
    method = method or MethodConfig()
    values = impute(np.asarray(values, dtype=float), method.impute)
    if values.shape != (len(unit_codes), fw.n_indicators):
        raise ValueError(
            f"values must be (units, indicators) = ({len(unit_codes)}, {fw.n_indicators}), "
            f"got {values.shape}"
        )
    wm = tuple(sorted(set(int(k) for k in winsor_points) | {5}))
    return _Context(fw=fw, values=values, unit_codes=list(unit_codes), winmaxes=wm, method=method)


def _options(treat_options, normalisations, aggregations, winsor_points, ctx):
    """Map option tuples to internal codes (variant, norm, agg)."""
    for n in normalisations:
        if n not in ("minmax", "zscore"):
            raise ValueError(f"normalisation must be minmax or zscore, got {n!r}")
    for a in aggregations:
        if a not in _AGGS:
            raise ValueError(f"aggregation must be amean or gmean, got {a!r}")
    treat_variants = [ctx.winmaxes.index(int(k)) + 1 for k in winsor_points]
    norm_codes = [_NORM_KEYS.index(n) for n in normalisations]
    agg_codes = [_AGGS.index(a) for a in aggregations]
    return [bool(t) for t in treat_options], treat_variants, norm_codes, agg_codes


def _centred_draw(
    rng: np.random.Generator, options: Sequence, nominal, n: int, nominal_share: float
) -> np.ndarray:
    """n draws among the options, centred on the method's own choice: the nominal option with
    probability `nominal_share`, each alternative with an equal share of the rest. So the
    intervals follow the method (another aggregation moves them), as a perturbation around
    the published configuration should."""
    options = np.asarray(options)
    alternatives = options[options != nominal]
    if nominal not in options or alternatives.size == 0:
        return options[rng.integers(len(options), size=n)]
    picks = alternatives[rng.integers(alternatives.size, size=n)]
    return np.where(rng.random(n) < nominal_share, nominal, picks)


def _nominal_index(ctx: _Context, nominal_treat: bool | None = None) -> np.ndarray:
    """Index scores of the nominal configuration: the method (treatment as `nominal_treat`
    says when given, for callers that pass untreated data as their nominal)."""
    treat = ctx.method.treat == "coinr" if nominal_treat is None else nominal_treat
    v = ctx.winmaxes.index(5) + 1 if treat else 0
    norm = _NORM_KEYS.index(ctx.method.normalise)
    agg = _AGGS.index(ctx.method.aggregate)
    scores = _evaluate(ctx, np.array([v]), np.array([norm]), np.array([agg]), ctx.fw.weight[None])
    return scores[0]


def nominal_ranks(
    framework: pl.DataFrame | Framework,
    values: np.ndarray,
    unit_codes: Sequence[str],
    method: MethodConfig,
) -> np.ndarray:
    """Index ranks of the method itself (the Monte Carlo's nominal replication)."""
    return rank_desc(_nominal_index(_setup(framework, values, unit_codes, (5,), method)))


def monte_carlo_ranks(
    framework: pl.DataFrame | Framework,
    values: np.ndarray,
    unit_codes: Sequence[str],
    *,
    n_reps: int = 1000,
    seed: int = 20250101,
    weight_perturbation: float = 0.25,
    treat_options: Sequence[bool] = (True, False),
    normalisations: Sequence[str] = ("minmax", "zscore"),
    aggregations: Sequence[str] = ("amean", "gmean"),
    winsor_points: Sequence[int] = (1, 2, 3, 4, 5),
    perturb_indicator_weights: bool = False,
    nominal_treat: bool | None = None,
    method: MethodConfig | None = None,
    nominal_share: float = 0.5,
) -> pl.DataFrame:
    """Rank intervals of the index from `n_reps` seeded replications, centred on the method:
    each discrete assumption (treatment, normalisation, aggregation) takes the method's own
    choice with probability `nominal_share` and an alternative otherwise; weights are the
    method's, perturbed.

    values: the screened-in units' raw (untreated) values[unit, indicator] of one year (the
    method's imputation is applied here, as in the engine), indicators in the
    compiled framework's level-1 order (`engine_numpy.dense_values` builds it from long
    data); pass only the units that are ranked (screened), since they all share the ranks.
    Returns one row per unit: unit_code, median_rank, rank_p05, rank_p95 (R's default
    quantile type 7 = numpy "linear", as COINr's get_sensitivity), nominal_rank; null when the
    unit has no index score.
    """
    ctx = _setup(framework, values, unit_codes, winsor_points, method)
    treats, tvars, norms, aggs = _options(
        treat_options, normalisations, aggregations, winsor_points, ctx
    )
    rng = np.random.default_rng(seed)
    nominal_treated = ctx.method.treat == "coinr" if nominal_treat is None else nominal_treat
    nominal_norm = _NORM_KEYS.index(ctx.method.normalise)
    treat = _centred_draw(rng, treats, nominal_treated, n_reps, nominal_share)
    variant = np.where(treat, np.asarray(tvars)[rng.integers(len(tvars), size=n_reps)], 0)
    norm = _centred_draw(rng, norms, nominal_norm, n_reps, nominal_share)
    agg = _centred_draw(rng, aggs, _AGGS.index(ctx.method.aggregate), n_reps, nominal_share)
    weights = _weight_multipliers(
        ctx.fw, rng, n_reps, weight_perturbation, perturb_indicator_weights
    )
    ranks = rank_desc(_evaluate(ctx, variant, norm, agg, weights), axis=-1)  # (R, U)
    nominal = rank_desc(_nominal_index(ctx, nominal_treat))
    has = (~np.isnan(ranks)).any(axis=0)
    safe = np.where(has[None, :], ranks, 0.0)
    med, p05, p95 = (np.nanpercentile(safe, q, axis=0) for q in (50, 5, 95))

    def nan_to_none(a: np.ndarray) -> list[float | None]:
        return [float(x) if h and not math.isnan(x) else None for x, h in zip(a, has, strict=True)]

    return pl.DataFrame(
        {
            "unit_code": list(unit_codes),
            "median_rank": nan_to_none(med),
            "rank_p05": nan_to_none(p05),
            "rank_p95": nan_to_none(p95),
            "nominal_rank": [None if math.isnan(x) else int(x) for x in nominal],
        },
        schema={
            "unit_code": pl.String,
            "median_rank": pl.Float64,
            "rank_p05": pl.Float64,
            "rank_p95": pl.Float64,
            "nominal_rank": pl.Int64,
        },
    )


def sensitivity_indices(
    framework: pl.DataFrame | Framework,
    values: np.ndarray,
    unit_codes: Sequence[str],
    *,
    n_base: int = 512,
    seed: int = 20250101,
    weight_perturbation: float = 0.25,
    n_weight_sets: int = 100,
    treat_options: Sequence[bool] = (True, False),
    normalisations: Sequence[str] = ("minmax", "zscore"),
    aggregations: Sequence[str] = ("amean", "gmean"),
    winsor_points: Sequence[int] = (1, 2, 3, 4, 5),
    nominal_treat: bool | None = None,
    method: MethodConfig | None = None,
) -> pl.DataFrame:
    """First- and total-order Sobol indices of the mean absolute rank shift per assumption.

    Estimator: SALib's Sobol sequence design (Saltelli scheme, n_base * (d + 2) model runs,
    d = number of assumptions, about 3,600 runs by default) and `SALib.analyze.sobol`
    (Saltelli 2010 first order, Jansen total order). The assumptions are discrete, so each
    factor is U(0, 1) mapped to one of its k options by floor(u * k), as COINr's
    get_sensitivity does for discrete distributions; the weights factor picks one of
    `n_weight_sets` pre-drawn perturbed weight sets (COINr's noisy-weights approach). The
    output is one scalar per run: mean over units of |rank - nominal rank| at the index level
    (scores themselves are not comparable across normalisations, ranks are).

    Returns assumption ("weights", "treatment", "winsorisation_limit" when more than one limit
    is drawn, "normalisation", "aggregation"), first_order, total_order. A factor with no
    effect gets 0; NaN (no variance at all) becomes null.
    """
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    ctx = _setup(framework, values, unit_codes, winsor_points, method)
    treats, tvars, norms, aggs = _options(
        treat_options, normalisations, aggregations, winsor_points, ctx
    )
    rng = np.random.default_rng(seed)
    weight_sets = _weight_multipliers(ctx.fw, rng, n_weight_sets, weight_perturbation, False)
    names = ["weights", "treatment"]
    if len(tvars) > 1 and any(treats):
        names.append("winsorisation_limit")
    names += ["normalisation", "aggregation"]
    problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
    x = sobol_sample.sample(problem, n_base, calc_second_order=False, seed=seed)

    def pick(col: str, k: int) -> np.ndarray:
        return np.minimum((x[:, names.index(col)] * k).astype(int), k - 1)

    treat = np.asarray(treats)[pick("treatment", len(treats))]
    wl = pick("winsorisation_limit", len(tvars)) if "winsorisation_limit" in names else 0
    variant = np.where(treat, np.asarray(tvars)[wl], 0)
    norm = np.asarray(norms)[pick("normalisation", len(norms))]
    agg = np.asarray(aggs)[pick("aggregation", len(aggs))]
    weights = weight_sets[pick("weights", n_weight_sets)]

    ranks = rank_desc(_evaluate(ctx, variant, norm, agg, weights), axis=-1)
    nominal = rank_desc(_nominal_index(ctx, nominal_treat))
    y = np.nanmean(np.abs(ranks - nominal[None, :]), axis=1)
    if np.allclose(y, y[0]):
        s1 = st = np.zeros(len(names))
    else:
        res = sobol_analyze.analyze(problem, y, calc_second_order=False, seed=seed)
        s1, st = np.asarray(res["S1"]), np.asarray(res["ST"])
    return pl.DataFrame(
        {
            "assumption": names,
            "first_order": [None if math.isnan(v) else float(v) for v in s1],
            "total_order": [None if math.isnan(v) else float(v) for v in st],
        },
        schema={"assumption": pl.String, "first_order": pl.Float64, "total_order": pl.Float64},
    )


def change_significance(
    prev_rank: float | None, rank: float | None, p05: float | None, p95: float | None
) -> bool:
    """A rank change is significant only when the previous rank lies outside [p05, p95].

    No previous rank, no interval, or no change at all is never significant.
    """
    vals = (prev_rank, rank, p05, p95)
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in vals):
        return False
    if prev_rank == rank:
        return False
    return bool(prev_rank < p05 or prev_rank > p95)
