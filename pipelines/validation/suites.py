"""Suite files and their parameters (no GX import here, so callers stay cheap to import).

Suites live in the repository as `gx/expectations/<suite>.json` in GX's own serialized
ExpectationSuite layout (`name`, `expectations: [{type, kwargs, meta}]`). Why this layout and
not a private format: GX itself validates every file when it is turned into an
`ExpectationSuite` (unknown expectation types or bad kwargs fail loudly at load), and the files
stay readable by any GX tooling. Why they are loaded by `gate.py` instead of pointing a file
context at `gx/`: a GX file context writes runtime state (ids, `uncommitted/`, validation
results) next to its suites, and that must never land in the repository; the runner copies the
suites into a context under a runtime folder instead.

Thresholds are suite parameters (`{"$PARAMETER": name}`), supplied per run; see
`PARAMETER_DOCS` and `default_parameters`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SUITES_DIR = Path(__file__).resolve().parents[2] / "gx" / "expectations"

PARAMETER_DOCS: dict[str, str] = {
    "year": "partition year: every row's `year` column must equal it",
    "min_city_availability": "least share of a city's indicators with a raw value (0..1)",
    "max_imputed_share": "largest share of imputed indicator values in the year (0..1)",
    "max_rank_change": "largest |rank_change| accepted without a change_reason",
    "weight_sum_tolerance": "largest |sum of weights - 1| accepted per parent",
    "score_min": "least score at any level: the method's range (pipelines.index.method)",
    "score_max": "largest score at any level: the method's range (pipelines.index.method)",
    "pillars": "the framework's pillar codes (children of the index, in file order): the "
    "ranking must have a column for each, and each has its own score-range expectation",
}

#: Lists that expand a suite rather than reach GX: a kwarg value {"$EACH": name} repeats the
#: expectation for every item (its meta rule may say {item}), and {"$ALL": name} inside a list
#: is replaced by every item. This is how the pillars come from the framework, not the file.
EXPANSIONS = ("pillars",)


def suite_names() -> list[str]:
    """All suites kept in the repository."""
    return sorted(p.stem for p in SUITES_DIR.glob("*.json"))


def suite_document(name: str, parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    """The suite file as a dict (GX ExpectationSuite JSON); with ``parameters``, its
    ``$EACH``/``$ALL`` markers expanded (see EXPANSIONS)."""
    path = SUITES_DIR / f"{name}.json"
    if not path.is_file():
        raise KeyError(f"unknown validation suite {name!r}; known: {', '.join(suite_names())}")
    doc = json.loads(path.read_text(encoding="utf-8"))
    if doc.get("name") != name:
        raise ValueError(f"{path} declares name {doc.get('name')!r}, expected {name!r}")
    if parameters is not None:
        doc["expectations"] = [item for e in doc["expectations"] for item in _expand(e, parameters)]
    return doc


def _splice(value: Any, parameters: dict[str, Any]) -> Any:
    """A list with every {"$ALL": name} replaced by the items of ``parameters[name]``."""
    if not isinstance(value, list):
        return value
    out: list[Any] = []
    for item in value:
        if isinstance(item, dict) and "$ALL" in item:
            out.extend(parameters[item["$ALL"]])
        else:
            out.append(item)
    return out


def _expand(expectation: dict[str, Any], parameters: dict[str, Any]) -> list[dict[str, Any]]:
    kwargs = {k: _splice(v, parameters) for k, v in expectation["kwargs"].items()}
    each = {k: v["$EACH"] for k, v in kwargs.items() if isinstance(v, dict) and "$EACH" in v}
    if not each:
        return [{**expectation, "kwargs": kwargs}]
    (key, name), *_ = each.items()
    meta = expectation.get("meta") or {}
    return [
        {
            **expectation,
            "kwargs": {**kwargs, key: item},
            "meta": {**meta, "rule": str(meta.get("rule", "")).format(item=item)},
        }
        for item in parameters[name]
    ]


def _collect_parameters(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        for marker in ("$PARAMETER", "$EACH", "$ALL"):
            if marker in node:
                found.add(str(node[marker]))
        for value in node.values():
            _collect_parameters(value, found)
    elif isinstance(node, list):
        for value in node:
            _collect_parameters(value, found)


def required_parameters(name: str) -> set[str]:
    """Suite parameters referenced by a suite (checked before GX runs: no silent defaults)."""
    found: set[str] = set()
    _collect_parameters(suite_document(name)["expectations"], found)
    return found


def default_parameters(
    year: int,
    *,
    pillars: Sequence[str],
    min_city_availability: float = 0.5,
    max_imputed_share: float = 0.3,
    max_rank_change: int = 20,
    weight_sum_tolerance: float = 1e-6,
    score_range: tuple[float, float] = (0.0, 100.0),
) -> dict[str, Any]:
    """Every suite parameter for one edition (raw data has its own checks: raw_checks.py);
    ``pillars`` are the framework's (an edition without pillars is a caller's bug)."""
    if not pillars:
        raise ValueError("the gate needs the framework's pillars: none given")
    return {
        "year": year,
        "min_city_availability": min_city_availability,
        "max_imputed_share": max_imputed_share,
        "max_rank_change": max_rank_change,
        "weight_sum_tolerance": weight_sum_tolerance,
        "score_min": score_range[0],
        "score_max": score_range[1],
        "pillars": list(pillars),
    }
