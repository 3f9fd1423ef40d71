"""The report's audit and sensitivity sections: the indicator audit (analysis.audit) as a table
and one plain sentence per flag, and the Sobol indices per assumption as an inline SVG chart
with a sentence naming the assumption that moves ranks most.

Kept apart from `report.py` (the ranking and its charts) because it reads other tables; its
chart is drawn by `charts.py` like the others, so the report stays one offline file.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from markupsafe import Markup

from pipelines.release.charts import draw_sensitivity
from pipelines.release.messages import Translator
from pipelines.release.report import _is_missing, _num

ASSUMPTION_KEYS = ("weights", "treatment", "winsorisation_limit", "normalisation", "aggregation")


def assumption_names(lang: str = "en") -> dict[str, str]:
    """The assumptions varied in the Monte Carlo, named in the message catalogue."""
    t = Translator(lang)
    return {key: t.plain(f"assumption_{key}") for key in ASSUMPTION_KEYS}


ASSUMPTION_NAMES = assumption_names("en")


def _pct(value: Any) -> str:
    return "–" if _is_missing(value) else f"{float(value):.0%}"


def audit_rows(audit: pl.DataFrame | None) -> list[dict[str, Any]]:
    """One row per indicator for the table (pillars are in `pillar_audit_rows`)."""
    if audit is None or audit.is_empty():
        return []
    return [
        {
            "code": r["code"],
            "pillar": r["parent"],
            "coverage": f"{r['n_present']}/{r['n_ranked']}",
            "distinct": r["distinct_values"],
            "modal": _pct(r["modal_share"]),
            "skew": _num(r["skew_treated"], 2),
            "kurt": _num(r["kurt_treated"], 2),
            "r_pillar": _num(r["r_pillar"], 2),
            "r_index": _num(r["r_index"], 2),
            "status": r["status"],
        }
        for r in audit.filter(pl.col("kind") == "indicator").to_dicts()
    ]


def pillar_audit_rows(audit: pl.DataFrame | None) -> list[dict[str, Any]]:
    if audit is None or audit.is_empty():
        return []
    return [
        {
            "pillar": r["code"],
            "alpha": _num(r["cronbach_alpha"], 2),
            "pc1": _pct(r["pc1_variance_share"]),
            "weight": _pct(r["weight_share"]),
            "share": _pct(r["index_variance_share"]),
            "r_index": _num(r["r_index"], 2),
            "status": r["status"],
        }
        for r in audit.filter(pl.col("kind") == "pillar").to_dicts()
    ]


def audit_notes(audit: pl.DataFrame | None) -> list[str]:
    """Every finding sentence, blocking ones first (a released edition has none of those)."""
    if audit is None or audit.is_empty():
        return []
    order = {"block": 0, "flag": 1}
    flagged = audit.filter(pl.col("findings").is_not_null()).with_row_index("_i")
    rows = sorted(flagged.to_dicts(), key=lambda r: (order.get(r["status"], 2), r["_i"]))
    return [r["findings"] for r in rows]


def sensitivity_sentence(sensitivity: pl.DataFrame | None, lang: str = "en") -> str:
    """Which assumption moves the ranks most (by total-order index), in words."""
    t = Translator(lang)
    if sensitivity is None or sensitivity.is_empty():
        return t.plain("sens_missing")
    known = sensitivity.filter(pl.col("total_order").is_not_null())
    if known.is_empty() or known["total_order"].max() <= 0:
        return t.plain("sens_none")
    top = known.sort("total_order", descending=True).row(0, named=True)
    name = assumption_names(lang).get(top["assumption"], top["assumption"])
    first = 0.0 if _is_missing(top["first_order"]) else float(top["first_order"])
    alone = t.plain("sens_alone", share=f"{first:.0%}") if first > 0 else t.plain("sens_little")
    return t.plain("sens_top", name=name, total=f"{float(top['total_order']):.0%}", alone=alone)


def sensitivity_data(sensitivity: pl.DataFrame | None) -> list[dict[str, Any]]:
    """What the sensitivity chart shows: first-order and total index per assumption."""
    if sensitivity is None or sensitivity.is_empty():
        return []
    return sensitivity.select("assumption", "first_order", "total_order").to_dicts()


def chart_sensitivity(sensitivity: pl.DataFrame | None, lang: str = "en") -> Markup:
    """Paired horizontal bars per assumption: first-order and total Sobol index (0-1)."""
    t = Translator(lang)
    return draw_sensitivity(
        sensitivity_data(sensitivity),
        assumption_names(lang),
        {
            "title": t.plain("sens_title"),
            "empty": t.plain("sens_missing"),
            "first": t.plain("sens_first"),
            "total": t.plain("sens_total"),
            "axis": t.plain("sens_axis"),
        },
    )
