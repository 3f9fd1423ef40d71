"""The statistical audit of an edition: is each indicator fit to rank cities, does each pillar
hold together, and does each pillar weigh in the index as its weight says?

Why: the engine reproduces COINr exactly, but an exact computation on a hollow indicator
(two distinct values, or a third of the cities missing) still publishes nonsense. The audit
follows the JRC's audits of composite indicators (COINr's `get_stats`, `get_corr`,
`get_cronbach`, `get_PCA`) and sorts each finding into:

- **block**: the edition must not be released (the `indicator_audit` asset check fails and
  names the indicator and its numbers): an indicator present for fewer than
  `min_coverage` of the ranked cities, with fewer than `min_distinct` distinct values, or one
  value held by more than `max_modal_share` of the cities that have it;
- **flag**: published with a plain sentence in the report: a pillar whose Cronbach's alpha is
  below `min_alpha` (indicators pulling in opposite directions), a pillar whose share of the
  index variance is below `min_variance_ratio` times its weight share, an indicator still
  skewed after treatment (COINr's own |skew| >= 2 and kurtosis >= 3.5 rule).

Statistics are computed over the ranked cities of the year only (screened-out cities take no
part in the index). Correlations use pairwise complete observations (as `get_corr`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import polars as pl

from pipelines.analysis.coherence import cronbach_alpha, pairwise_pearson
from pipelines.index.treatment import kurt_type2, passes_skew_kurt, skew_type2

__all__ = ["AuditThresholds", "audit_edition", "read_audit_inputs", "blocking_findings"]

BLOCK, FLAG, PASS = "block", "flag", "pass"


@dataclass(frozen=True)
class AuditThresholds:
    """Where the audit draws its lines (defaults documented in docs/methodology.md)."""

    min_coverage: float = 0.90  # share of ranked cities with a value (block below)
    min_distinct: int = 5  # distinct values among them (block below)
    max_modal_share: float = 0.50  # share of cities holding the most common value (block above)
    min_alpha: float = 0.0  # Cronbach's alpha of a pillar (flag below)
    min_variance_ratio: float = 0.5  # pillar's index-variance share / weight share (flag below)
    skew_threshold: float = 2.0  # COINr's treatment thresholds: still failing after
    kurt_threshold: float = 3.5  # treatment is flagged

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


AUDIT_SCHEMA = {
    "kind": pl.String,  # indicator | pillar
    "code": pl.String,
    "parent": pl.String,
    "n_ranked": pl.Int64,
    "n_present": pl.Int64,
    "coverage": pl.Float64,
    "distinct_values": pl.Int64,
    "modal_value": pl.Float64,
    "modal_share": pl.Float64,
    "skew_treated": pl.Float64,
    "kurt_treated": pl.Float64,
    "r_pillar": pl.Float64,
    "r_index": pl.Float64,
    "cronbach_alpha": pl.Float64,
    "pc1_variance_share": pl.Float64,
    "weight_share": pl.Float64,
    "index_variance_share": pl.Float64,
    "status": pl.String,  # pass | flag | block
    "findings": pl.String,  # one sentence per finding, blocking ones first
}


def read_audit_inputs(con, year: int) -> dict[str, pl.DataFrame]:
    """The year's indicator values, scores, ranked cities and framework from the warehouse."""
    return {
        "indicators": con.sql(
            "select city_id, icode, raw_value, treated_value, normalised_value"
            " from marts.fct_indicator_value where year = ? order by city_id, icode",
            params=[year],
        ).pl(),
        "scores": con.sql(
            "select city_id, icode, level, score from marts.fct_index_score where year = ?"
            " order by city_id, icode",
            params=[year],
        ).pl(),
        "ranked": con.sql(
            "select city_id from marts.mart_city_ranking where year = ? and ranked"
            " order by city_id",
            params=[year],
        ).pl(),
        "framework": con.sql(
            "select level, icode, weight, parent from engine.eng_framework order by level, icode"
        ).pl(),
    }


def _fmt(value: float) -> str:
    """A value as a reader would write it: integers without decimals."""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.4g}"


def _none(value: float) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def _column(frame: pl.DataFrame, units: list[str], value: str) -> np.ndarray:
    """Values of one column in `units` order, NaN where absent."""
    lookup = dict(zip(frame["city_id"].to_list(), frame[value].to_list(), strict=True))
    return np.array(
        [np.nan if lookup.get(u) is None else float(lookup[u]) for u in units], dtype=float
    )


def _indicator_row(
    code: str,
    parent: str,
    values: pl.DataFrame,
    units: list[str],
    pillar_scores: np.ndarray,
    index_scores: np.ndarray,
    th: AuditThresholds,
) -> dict:
    raw = _column(values, units, "raw_value")
    treated = _column(values, units, "treated_value")
    normalised = _column(values, units, "normalised_value")
    present = raw[~np.isnan(raw)]
    n_ranked, n_present = len(units), int(present.size)
    coverage = n_present / n_ranked if n_ranked else math.nan
    distinct, modal_value, modal_share = 0, math.nan, math.nan
    if n_present:
        uniques, counts = np.unique(present, return_counts=True)
        distinct = int(uniques.size)
        top = int(np.argmax(counts))  # ties: the smallest value (np.unique sorts)
        modal_value, modal_share = float(uniques[top]), counts[top] / n_present
    skew = skew_type2(treated)
    kurt = kurt_type2(treated)
    blocks, flags = [], []
    if n_ranked and coverage < th.min_coverage:
        blocks.append(
            f"{code} has a value for {n_present} of {n_ranked} ranked cities "
            f"({coverage:.1%}), below the {th.min_coverage:.0%} minimum."
        )
    if distinct < th.min_distinct:
        blocks.append(
            f"{code} takes only {distinct} distinct value{'s' if distinct != 1 else ''} "
            f"among {n_present} cities (minimum {th.min_distinct})."
        )
    if n_present and modal_share > th.max_modal_share:
        blocks.append(
            f"{code} has the same value ({_fmt(modal_value)}) for "
            f"{round(modal_share * n_present)} of {n_present} cities ({modal_share:.1%}), "
            f"above the {th.max_modal_share:.0%} maximum."
        )
    if passes_skew_kurt(skew, kurt, th.skew_threshold, th.kurt_threshold) is False:
        flags.append(
            f"{code} is still strongly skewed after outlier treatment (skew {skew:.2f}, "
            f"kurtosis {kurt:.2f}): a few cities dominate its scale."
        )
    status = BLOCK if blocks else FLAG if flags else PASS
    return {
        "kind": "indicator",
        "code": code,
        "parent": parent,
        "n_ranked": n_ranked,
        "n_present": n_present,
        "coverage": _none(coverage),
        "distinct_values": distinct,
        "modal_value": _none(modal_value),
        "modal_share": _none(modal_share),
        "skew_treated": _none(skew),
        "kurt_treated": _none(kurt),
        "r_pillar": _none(pairwise_pearson(normalised, pillar_scores)),
        "r_index": _none(pairwise_pearson(normalised, index_scores)),
        "status": status,
        "findings": " ".join(blocks + flags) or None,
    }


def pc1_share(x: np.ndarray) -> float:
    """Share of the variance of standardised columns explained by the first principal
    component (largest eigenvalue of the pairwise correlation matrix / number of columns)."""
    k = x.shape[1]
    if k < 2:
        return math.nan
    corr = np.eye(k)
    for i in range(k):
        for j in range(i + 1, k):
            corr[i, j] = corr[j, i] = pairwise_pearson(x[:, i], x[:, j])
    if np.isnan(corr).any():
        return math.nan
    return float(np.linalg.eigvalsh(corr)[-1] / k)


def variance_shares(pillars: np.ndarray, index: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Each pillar's share of the index variance, w_j cov(P_j, I) / var(I) over complete
    cities (weights normalised). For an arithmetic mean the shares sum to 1; a pillar that
    matters as its weight says has a share near its weight share."""
    complete = ~np.isnan(pillars).any(axis=1) & ~np.isnan(index)
    if complete.sum() < 3:
        return np.full(pillars.shape[1], np.nan)
    p, y = pillars[complete], index[complete]
    var = float(np.var(y, ddof=1))
    if var == 0:
        return np.full(pillars.shape[1], np.nan)
    w = weights / weights.sum()
    cov = np.array([np.cov(p[:, j], y, ddof=1)[0, 1] for j in range(p.shape[1])])
    return w * cov / var


def audit_edition(
    indicators: pl.DataFrame,
    scores: pl.DataFrame,
    ranked: pl.DataFrame,
    framework: pl.DataFrame,
    thresholds: AuditThresholds | None = None,
) -> pl.DataFrame:
    """One row per indicator and per pillar (AUDIT_SCHEMA), framework order."""
    th = thresholds or AuditThresholds()
    fw = framework.rename({c: c.lower() for c in framework.columns})
    units = sorted(ranked["city_id"].to_list())
    top = fw.filter(pl.col("parent").is_null())["icode"][0]
    pillar_rows = fw.filter(pl.col("level") == 2)
    pillar_codes = pillar_rows["icode"].to_list()
    in_units = pl.col("city_id").is_in(units)
    score_of = {
        code: _column(scores.filter(in_units & (pl.col("icode") == code)), units, "score")
        for code in [*pillar_codes, top]
    }
    rows = []
    normalised_by_pillar: dict[str, list[np.ndarray]] = {p: [] for p in pillar_codes}
    for code, parent in fw.filter(pl.col("level") == 1).select("icode", "parent").iter_rows():
        values = indicators.filter(in_units & (pl.col("icode") == code))
        rows.append(
            _indicator_row(code, parent, values, units, score_of[parent], score_of[top], th)
        )
        normalised_by_pillar[parent].append(_column(values, units, "normalised_value"))

    weights = pillar_rows["weight"].cast(pl.Float64).to_numpy()
    shares = variance_shares(
        np.column_stack([score_of[p] for p in pillar_codes]), score_of[top], weights
    )
    weight_shares = weights / weights.sum()
    for j, pillar in enumerate(pillar_codes):
        x = (
            np.column_stack(normalised_by_pillar[pillar])
            if normalised_by_pillar[pillar]
            else (np.empty((len(units), 0)))
        )
        alpha = cronbach_alpha(x) if x.shape[1] >= 2 else math.nan
        flags = []
        if not math.isnan(alpha) and alpha < th.min_alpha:
            flags.append(
                f"The {pillar} pillar's indicators pull in different directions: Cronbach's "
                f"alpha is {alpha:.2f} (below {_fmt(th.min_alpha)}), so its score averages "
                "things that do not move together."
            )
        share = float(shares[j])
        if not math.isnan(share) and share < th.min_variance_ratio * weight_shares[j]:
            flags.append(
                f"The {pillar} pillar accounts for {share:.0%} of the differences between "
                f"cities' index scores while its weight share is {weight_shares[j]:.0%}: it "
                "matters less in the ranking than its weight says."
            )
        rows.append(
            {
                "kind": "pillar",
                "code": pillar,
                "parent": top,
                "n_ranked": len(units),
                "r_index": _none(pairwise_pearson(score_of[pillar], score_of[top])),
                "cronbach_alpha": _none(alpha),
                "pc1_variance_share": _none(pc1_share(x)),
                "weight_share": float(weight_shares[j]),
                "index_variance_share": _none(share),
                "status": FLAG if flags else PASS,
                "findings": " ".join(flags) or None,
            }
        )
    return pl.DataFrame(
        [{column: row.get(column) for column in AUDIT_SCHEMA} for row in rows],
        schema=AUDIT_SCHEMA,
    )


def blocking_findings(audit: pl.DataFrame) -> list[str]:
    """The sentences of every blocking finding (empty when the edition may be released)."""
    return audit.filter(pl.col("status") == BLOCK)["findings"].to_list()
