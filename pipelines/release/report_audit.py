"""The report's audit and sensitivity sections: the indicator audit (analysis.audit) as a table
and one plain sentence per flag, and the Sobol indices per assumption as an inline SVG chart
with a sentence naming the assumption that moves ranks most.

Kept apart from `report.py` (the ranking and its charts) because it reads other tables; it
draws with the same SVG helpers, so the report stays one offline file.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from markupsafe import Markup

from pipelines.release.report import _empty_chart, _is_missing, _line, _num, _svg, _text

FIRST_ORDER_COLOUR = "#3b6ea5"
TOTAL_ORDER_COLOUR = "#c9822b"
ASSUMPTION_NAMES = {
    "weights": "Weights",
    "treatment": "Outlier treatment on/off",
    "winsorisation_limit": "Winsorisation limit",
    "normalisation": "Normalisation (min-max or z-score)",
    "aggregation": "Aggregation (arithmetic or geometric)",
}


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


def sensitivity_sentence(sensitivity: pl.DataFrame | None) -> str:
    """Which assumption moves the ranks most (by total-order index), in words."""
    if sensitivity is None or sensitivity.is_empty():
        return "The sensitivity analysis was not computed for this edition."
    known = sensitivity.filter(pl.col("total_order").is_not_null())
    if known.is_empty() or known["total_order"].max() <= 0:
        return "None of the assumptions tested moves the ranks."
    top = known.sort("total_order", descending=True).row(0, named=True)
    name = ASSUMPTION_NAMES.get(top["assumption"], top["assumption"])
    first = 0.0 if _is_missing(top["first_order"]) else float(top["first_order"])
    alone = f"{first:.0%} on its own" if first > 0 else "little on its own"
    return (
        f"{name} moves the ranks most: it accounts for {float(top['total_order']):.0%} of the "
        f"variance of the average rank shift including its interactions with the other "
        f"assumptions ({alone})."
    )


def chart_sensitivity(sensitivity: pl.DataFrame | None) -> Markup:
    """Paired horizontal bars per assumption: first-order and total Sobol index (0-1)."""
    title = "Sensitivity of the ranks to each assumption (Sobol indices)"
    if sensitivity is None or sensitivity.is_empty():
        return _empty_chart("No sensitivity analysis for this edition", title)
    rows = sensitivity.to_dicts()
    left, right, top, row_h, bottom = 260, 60, 16, 40, 70
    width = 960
    axis_y = top + row_h * len(rows)
    height = axis_y + bottom
    plot_w = width - left - right

    def x(value: float) -> float:
        return left + max(0.0, min(1.0, value)) * plot_w

    body: list[Markup] = []
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        body.append(_line(x(tick), top, x(tick), axis_y, "grid" if tick else "zero"))
        body.append(_text(x(tick), axis_y + 16, f"{tick:.2f}", "middle", "tick"))
    body.append(_line(left, axis_y, width - right, axis_y, "axis"))
    for i, row in enumerate(rows):
        y0 = top + row_h * i
        name = ASSUMPTION_NAMES.get(row["assumption"], row["assumption"])
        body.append(_text(left - 10, y0 + row_h / 2 + 4, name, "end", "label"))
        for j, (column, colour) in enumerate(
            (("first_order", FIRST_ORDER_COLOUR), ("total_order", TOTAL_ORDER_COLOUR))
        ):
            value = row.get(column)
            shown = 0.0 if _is_missing(value) else float(value)
            y = y0 + 6 + j * 14
            tip = f"{name}: {column.replace('_', ' ')} index {_num(value, 3)}"
            body.append(
                Markup(
                    '<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="12" fill="{}">'
                    "<title>{}</title></rect>"
                ).format(left, y, x(shown) - left, colour, tip)
            )
            body.append(_text(x(shown) + 5, y + 10, _num(value, 2), "start", "value"))
    legend_y = axis_y + 40
    for k, (label, colour) in enumerate(
        (
            ("First order (alone)", FIRST_ORDER_COLOUR),
            ("Total (with interactions)", TOTAL_ORDER_COLOUR),
        )
    ):
        lx = left + k * 240
        body.append(
            Markup('<rect x="{:.1f}" y="{:.1f}" width="12" height="12" fill="{}"/>').format(
                lx, legend_y - 10, colour
            )
        )
        body.append(_text(lx + 18, legend_y, label, "start", "note"))
    body.append(
        _text(
            left + plot_w / 2,
            axis_y + 62,
            "Share of the variance of the mean absolute rank shift",
            "middle",
            "axis-label",
        )
    )
    return _svg(width, height, title, body)
