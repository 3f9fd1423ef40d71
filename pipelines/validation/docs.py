"""The release's validation page: one self-contained HTML file rendered from the gate's results.

Why not GX Data Docs: they load their scripts, styles and icons from CDNs (a blank page offline,
and every open is a request to third parties) and carry the machine's paths and a newsletter
link. GX stays the validator; this module only presents what `gate.run_checkpoint` returned.

The page (`index.html`) lists every suite and every expectation with its status, the
parameters GX ran with, the rule it enforces, and for a failure its sample of offending rows.
It is rendered with jinja2 (autoescape on: values come from data), with inline CSS, no script
and no URL that leaves the file; absolute paths of the machine are replaced before rendering.
The page holds no timestamp, so the same results give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from pipelines.validation.gate import (
    REPO_ROOT,
    CheckpointResult,
    ExpectationFailure,
    SuiteResult,
)
from pipelines.validation.suites import PARAMETER_DOCS, suite_document

TEMPLATE_DIR = Path(__file__).parent / "templates"
PAGE = "index.html"
LOCAL_PATH_MARK = "<local path>"


def write_validation_docs(
    result: CheckpointResult,
    parameters: dict[str, Any],
    docs_dir: Path,
    *,
    local_paths: Iterable[Path] = (),
) -> Path:
    """Write `docs_dir/index.html` (via a temporary file, never half a page); return its path.

    `local_paths` are folders of this run (GX context, output) whose absolute paths must not
    appear in the page; the repository, the home and the temp folder are always hidden too.
    """
    docs_dir = Path(docs_dir)
    docs_dir.mkdir(parents=True, exist_ok=True)
    html = render_validation_page(result, parameters, local_paths=(*local_paths, docs_dir))
    target = docs_dir / PAGE
    partial = target.with_suffix(".html.partial")
    partial.write_text(html, encoding="utf-8")
    os.replace(partial, target)
    return target


def render_validation_page(
    result: CheckpointResult,
    parameters: dict[str, Any],
    *,
    local_paths: Iterable[Path] = (),
) -> str:
    """The whole validation page as one HTML string."""
    scrub = _path_scrubber([*local_paths, REPO_ROOT, Path.home(), Path(tempfile.gettempdir())])
    suites = [_suite_view(s, scrub, parameters) for s in result.suites]
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("validation.html.j2").render(
        checkpoint=scrub(result.name or "checkpoint"),
        success=result.success,
        suites=suites,
        failed_suites=sum(not s["success"] for s in suites),
        expectations=sum(len(s["expectations"]) for s in suites),
        failed_expectations=sum(
            1 for s in suites for e in s["expectations"] if e["status"] != "pass"
        ),
        parameters=[
            {"name": k, "value": scrub(_show(v)), "doc": PARAMETER_DOCS.get(k, "")}
            for k, v in sorted(parameters.items())
        ],
        gx_version=_gx_version(),
    )


# --------------------------------------------------------------------------- view model


def _suite_view(suite: SuiteResult, scrub: Any, parameters: dict[str, Any]) -> dict[str, Any]:
    """One suite: its expectations (evaluated, or listed as not run) and errors outside them."""
    rows = [
        {
            "status": "pass" if o.success else "fail",
            "expectation": o.expectation,
            "columns": scrub(_columns(o.column)),
            "rule": scrub(o.rule),
            "kwargs": _kwargs_view(o.kwargs, scrub),
            "detail": scrub(o.detail),
            "sample": _sample_view(o.failure, scrub),
        }
        for o in suite.expectations
    ]
    tied = {id(o.failure) for o in suite.expectations if o.failure is not None}
    errors = [scrub(f.message) for f in suite.failures if id(f) not in tied]
    if not rows:  # GX never evaluated this suite: list what it would have checked
        rows = [
            {
                "status": "not run",
                "expectation": e["type"],
                "columns": scrub(_columns(_declared_columns(e["kwargs"]))),
                "rule": scrub(str((e.get("meta") or {}).get("rule", ""))),
                "kwargs": _kwargs_view(e["kwargs"], scrub),
                "detail": "not evaluated (see the suite error above)",
                "sample": None,
            }
            for e in _declared_expectations(suite.suite, parameters)
        ]
    return {
        "key": suite.suite,
        "anchor": "suite-" + re.sub(r"[^A-Za-z0-9]+", "-", suite.suite).strip("-"),
        "success": suite.success,
        "evaluated": suite.evaluated,
        "failed": len(suite.failures),
        "errors": errors,
        "expectations": rows,
    }


def _declared_expectations(key: str, parameters: dict[str, Any]) -> list[dict[str, Any]]:
    try:
        return list(suite_document(key.split("@", 1)[0], parameters)["expectations"])
    except (KeyError, ValueError):
        return []


def _declared_columns(kwargs: dict[str, Any]) -> str | tuple[str, ...] | None:
    for name in ("column", "column_list", "column_set"):
        if name in kwargs:
            value = kwargs[name]
            return value if isinstance(value, str) else tuple(str(v) for v in value)
    if "column_A" in kwargs:
        return (str(kwargs["column_A"]), str(kwargs["column_B"]))
    return None


def _kwargs_view(kwargs: dict[str, Any], scrub: Any) -> list[dict[str, str]]:
    return [{"name": k, "value": scrub(_show(v))} for k, v in kwargs.items()]


def _sample_view(failure: ExpectationFailure | None, scrub: Any) -> dict[str, Any] | None:
    """Failing rows as a small table: the union of shown columns, in first-seen order."""
    if failure is None or not failure.sample_rows:
        return None
    rows = failure.display_rows()
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    return {
        "columns": columns,
        "rows": [[scrub(_show(row.get(c))) if c in row else "" for c in columns] for row in rows],
    }


# --------------------------------------------------------------------------- formatting


def _columns(column: str | tuple[str, ...] | None) -> str:
    if column is None:
        return ""
    return column if isinstance(column, str) else ", ".join(column)


def _show(value: Any) -> str:
    """A value as a reader expects it: dates as dates, lists in brackets, None as null."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return "NaN" if math.isnan(value) else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        if set(value) == {"$PARAMETER"}:
            return f"${value['$PARAMETER']}"
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple | set):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return str(value)


def _path_scrubber(roots: Sequence[Path]) -> Any:
    """A function replacing absolute paths under any of `roots` with a neutral mark."""
    spelled = {str(p) for root in roots for p in (Path(root), Path(root).resolve())}
    spelled = {s.rstrip("/") for s in spelled if len(s.rstrip("/")) > 1}
    if not spelled:
        return lambda text: text
    alternatives = "|".join(re.escape(s) for s in sorted(spelled, key=len, reverse=True))
    pattern = re.compile(rf"(?:{alternatives})(?=[/\s'\"<>,;:)\]}}]|$)[^\s'\"<>,;:)\]}}]*")

    def scrub(text: str) -> str:
        return pattern.sub(LOCAL_PATH_MARK, text)

    return scrub


def _gx_version() -> str:
    from importlib.metadata import version

    return version("great_expectations")
