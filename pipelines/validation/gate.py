"""Release gate: run the repository's GX suites on polars frames and report failing rows.

How it runs (and why):
- Frames are validated by GX's pandas engine, never its SQL data source (on DuckDB it fails every
  expectation with "list index out of range", an engine error that looks like a data failure).
  Each frame goes through `derive_columns`, is written as parquet under
  `context_root/frames/<checkpoint>/` and registered as a parquet asset: one GX `Checkpoint`
  passes the same `batch_parameters` to every validation definition, so in-memory dataframe
  assets cannot give each suite its own frame; files can, and they remain as evidence.
- The GX file context lives in `context_root` (a runtime folder, never the repository); suites
  are loaded from `gx/expectations/` and copied into it on every run, so edits apply at once.
- An expectation counts as passed only if GX says success *and* reports no exception. Any GX
  exception (in a metric, or out of `Checkpoint.run`) becomes a failure carrying its message.
- Validation pages go to `docs_dir` (shipped with the release), rendered from these results by
  `pipelines.validation.docs`, not GX Data Docs: those fetch their scripts, styles and icons from
  CDNs (blank offline) and carry local paths.

GX is imported lazily: importing this module (e.g. from Dagster definitions) stays cheap.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.validation.derive import derive_columns
from pipelines.validation.suites import EXPANSIONS, required_parameters, suite_document

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

REPO_ROOT = Path(__file__).resolve().parents[2]
DATASOURCE = "gate_frames"
RESULT_FORMAT: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": 5}
MAX_SAMPLE_ROWS = 5
KEY_COLUMNS = (
    "city_id",
    "country_iso3",
    "indicator_id",
    "year",
    "obs_year",
    "date",
    "lang",
    "month",
    "icode",
    "level",
    "parent",
)

_CONTEXTS: dict[Path, Any] = {}
_LOCK = threading.RLock()


@dataclass(frozen=True)
class ExpectationFailure:
    """One failed (or errored) expectation, with up to five offending rows."""

    expectation: str
    column: str | tuple[str, ...] | None
    kwargs: dict[str, Any]
    sample_rows: list[dict[str, Any]]
    message: str

    def summary(self) -> str:
        cols = self.column if isinstance(self.column, str) else ", ".join(self.column or ())
        lines = [f"- {self.expectation}" + (f" on {cols}" if cols else "") + f": {self.message}"]
        for row in self.display_rows():
            lines.append("    row: " + ", ".join(f"{k}={_fmt(v)}" for k, v in row.items()))
        return "\n".join(lines)

    def display_rows(self) -> list[dict[str, Any]]:
        """Sample rows cut to the key columns and the expectation's own: enough to find them."""
        shown = _display_columns(self)
        return [{k: v for k, v in row.items() if k in shown} for row in self.sample_rows]


@dataclass(frozen=True)
class ExpectationOutcome:
    """One evaluated expectation, passed or failed: what the validation pages list.

    `kwargs` are the resolved parameters GX ran with; `failure` is the same object that
    `SuiteResult.failures` holds when the expectation failed.
    """

    expectation: str
    column: str | tuple[str, ...] | None
    kwargs: dict[str, Any]
    rule: str
    success: bool
    detail: str
    failure: ExpectationFailure | None = None


@dataclass
class SuiteResult:
    """Outcome of one suite on one frame; `suite` is the frames key (`suite` or `suite@label`)."""

    suite: str
    success: bool
    evaluated: int
    failures: list[ExpectationFailure] = field(default_factory=list)
    expectations: list[ExpectationOutcome] = field(default_factory=list)

    def summary(self) -> str:
        if self.success:
            return f"PASS {self.suite} ({self.evaluated} expectations)"
        head = (
            f"FAIL {self.suite} ({self.evaluated} expectations evaluated, "
            f"{len(self.failures)} failed)"
        )
        body = [_indent(f.summary(), "  ") for f in self.failures]
        return "\n".join([head, *body])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record (e.g. the edition gate's summary.json, one row per suite)."""
        return {
            "suite": self.suite,
            "success": self.success,
            "evaluated": self.evaluated,
            "failed": len(self.failures),
            "failures": [_json_safe(asdict(f)) for f in self.failures],
        }


@dataclass
class CheckpointResult:
    """Outcome of one edition checkpoint: every suite, and the validation page if written."""

    success: bool
    suites: list[SuiteResult]
    docs_index: Path | None
    name: str = ""

    def summary(self) -> str:
        """Text used verbatim by the CLI and the Dagster UI: failing expectations and rows."""
        failed = [s for s in self.suites if not s.success]
        verdict = (
            "PASSED" if self.success else f"FAILED ({len(failed)} of {len(self.suites)} suites)"
        )
        lines = [f"Validation {self.name or 'checkpoint'}: {verdict}"]
        lines += [_indent(s.summary(), "  ") for s in self.suites]
        if self.docs_index is not None:
            lines.append(f"  Validation page: {self.docs_index}")
        return "\n".join(lines)

    @property
    def failures(self) -> list[tuple[str, ExpectationFailure]]:
        return [(s.suite, f) for s in self.suites for f in s.failures]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record of the whole checkpoint, summary text included."""
        return {
            "checkpoint": self.name,
            "success": self.success,
            "docs_index": str(self.docs_index) if self.docs_index else None,
            "suites": [s.to_dict() for s in self.suites],
            "summary": self.summary(),
        }


def run_suite(
    suite_name: str,
    frame: pl.DataFrame,
    *,
    parameters: dict[str, Any],
    context_root: Path,
    docs_dir: Path | None = None,
) -> SuiteResult:
    """Validate one frame against one suite (a one-suite checkpoint named `suite_<name>`)."""
    result = _run(
        f"suite_{suite_name.replace('@', '_')}",
        {suite_name: frame},
        parameters,
        Path(context_root),
        docs_dir,
    )
    return result.suites[0]


def run_checkpoint(
    edition_name: str,
    frames: dict[str, pl.DataFrame],
    parameters: dict[str, Any],
    context_root: Path,
    docs_dir: Path | None,
) -> CheckpointResult:
    """Run every suite of a yearly edition in one GX Checkpoint named `edition_name`.

    `frames` maps a suite name to its frame; `suite@label` runs a suite on a further frame
    (e.g. `index_scores@2024`). `parameters` holds every suite parameter (see
    `suites.default_parameters`).
    """
    if not frames:
        raise ValueError("run_checkpoint needs at least one frame")
    return _run(edition_name, frames, parameters, Path(context_root), docs_dir)


# --------------------------------------------------------------------------- internals


def _suite_of(key: str) -> str:
    return key.split("@", 1)[0]


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "NaN" if math.isnan(value) else f"{value:g}"
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    return repr(value) if isinstance(value, str) else str(value)


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return str(value)


def _columns_of(kwargs: dict[str, Any]) -> str | tuple[str, ...] | None:
    if "column" in kwargs:
        return str(kwargs["column"])
    if "column_list" in kwargs:
        return tuple(kwargs["column_list"])
    if "column_A" in kwargs:
        return (str(kwargs["column_A"]), str(kwargs["column_B"]))
    if "column_set" in kwargs:
        return tuple(kwargs["column_set"])
    return None


def _display_columns(failure: ExpectationFailure) -> set[str]:
    """Key columns plus the expectation's own columns: enough to find the row, not the width."""
    cols = failure.column
    own = {cols} if isinstance(cols, str) else set(cols or ())
    if own & {"rank", "rank_min_expected"}:
        own |= {"score"}
    if "rank_change_unexplained" in own:
        own |= {"rank_change", "change_reason"}
    if "ranked_complete" in own:
        own |= {"ranked", "score", "rank"}
    if "parent_weight_error" in own:
        own |= {"icode", "weight_normalised"}
    if "city_availability" in own:
        own |= {"raw_value"}
    return own | set(KEY_COLUMNS)


def _gx_parameters(parameters: dict[str, Any]) -> dict[str, Any]:
    """Dates become datetimes (GX compares datetime64[ns] columns with datetimes only).

    A plain date for a parameter named `*_end` means the whole day (23:59:59.999999).
    """
    out: dict[str, Any] = {}
    for key, value in parameters.items():
        if key in EXPANSIONS:  # expanded into the suites, not a GX parameter
            continue
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            at = dt.time.max if key.endswith("_end") else dt.time.min
            value = dt.datetime.combine(value, at)
        out[key] = value
    return out


def _context(root: Path) -> Any:
    """One GX file context per runtime folder and process (GX is slow to set up).

    The folder may be wiped between runs (the edition gate clears it): then it is rebuilt.
    """
    root = root.resolve()
    if root in (REPO_ROOT, REPO_ROOT / "gx"):
        raise ValueError(f"context_root {root} would write GX runtime state into the repository")
    ctx = _CONTEXTS.get(root)
    if ctx is None or not (root / "gx" / "great_expectations.yml").is_file():
        # new folder, or the folder was wiped since (the edition gate clears it per run)
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        root.mkdir(parents=True, exist_ok=True)
        ctx = gx.get_context(mode="file", project_root_dir=root)
        ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
        ctx.enable_analytics(False)  # also saves the variables
        _CONTEXTS[root] = ctx
    return ctx


def _engine_failure(message: str, kwargs: dict[str, Any] | None = None) -> ExpectationFailure:
    return ExpectationFailure("gx_engine", None, kwargs or {}, [], message)


def _exception_messages(info: Any) -> list[str]:
    """Messages of raised exceptions; GX nests exception_info per metric when a metric fails."""
    if not info:
        return []
    if isinstance(info, dict) and "raised_exception" in info:
        if info.get("raised_exception"):
            return [str(info.get("exception_message") or "exception without message")]
        return []
    if isinstance(info, dict):
        return [m for value in info.values() for m in _exception_messages(value)]
    if isinstance(info, list | tuple):
        return [m for value in info for m in _exception_messages(value)]
    return [str(info)] if getattr(info, "raised_exception", False) else []


def _detail(kwargs: dict[str, Any], result: dict[str, Any]) -> str:
    parts: list[str] = []
    if result.get("unexpected_count") is not None:
        parts.append(
            f"{result['unexpected_count']} of {result.get('element_count', '?')} rows unexpected"
        )
    partial = [v for v in result.get("partial_unexpected_list") or [] if not isinstance(v, dict)]
    if partial:  # multi-column values are shown as sample rows instead
        parts.append("e.g. " + ", ".join(_fmt(v) for v in partial[:MAX_SAMPLE_ROWS]))
    details = result.get("details") or {}
    mismatched = details.get("mismatched") if isinstance(details, dict) else None
    if isinstance(mismatched, dict) and mismatched.get("missing"):
        parts.append(f"missing columns {sorted(mismatched['missing'])}")
    elif "observed_value" in result:
        parts.append(f"observed {_fmt(result['observed_value'])}")
    bounds = [
        f"{k}={_fmt(kwargs[k])}"
        for k in ("min_value", "max_value", "value_set", "or_equal")
        if kwargs.get(k) is not None
    ]
    if bounds:
        parts.append("expected " + ", ".join(bounds))
    return "; ".join(parts) or "failed"


def _sample_rows(frame: pl.DataFrame, result: dict[str, Any]) -> list[dict[str, Any]]:
    indices = result.get("partial_unexpected_index_list") or result.get("unexpected_index_list")
    rows: list[dict[str, Any]] = []
    for item in (indices or [])[:MAX_SAMPLE_ROWS]:
        if isinstance(item, dict):
            rows.append(dict(item))
        elif isinstance(item, int | float) and 0 <= int(item) < frame.height:
            rows.append(frame.row(int(item), named=True))
    return rows


def _suite_result(key: str, frame: pl.DataFrame, expected: int, vr: Any) -> SuiteResult:
    """Turn a GX validation result into our result; GX exceptions are failures, never passes."""
    failures: list[ExpectationFailure] = []
    outcomes: list[ExpectationOutcome] = []
    for r in vr.results:
        cfg = r.expectation_config
        kwargs = {k: v for k, v in dict(cfg.kwargs).items() if k != "batch_id"}
        rule = (cfg.meta or {}).get("rule", "")
        result = dict(r.result or {})
        errors = _exception_messages(r.exception_info)
        if errors:
            detail = "GX raised an exception: " + " | ".join(dict.fromkeys(errors))
        else:
            detail = _detail(kwargs, result)
        column = _columns_of(kwargs)
        if not errors and r.success is True:
            outcomes.append(ExpectationOutcome(cfg.type, column, kwargs, rule, True, detail))
            continue
        message = f"{rule}: {detail}" if rule else detail
        missing = ((result.get("details") or {}).get("mismatched") or {}).get("missing")
        if cfg.type == "expect_table_columns_to_match_set" and missing:
            column = tuple(sorted(missing))
        failure = ExpectationFailure(cfg.type, column, kwargs, _sample_rows(frame, result), message)
        failures.append(failure)
        outcomes.append(ExpectationOutcome(cfg.type, column, kwargs, rule, False, detail, failure))
    evaluated = len(vr.results)
    if evaluated != expected:
        failures.append(_engine_failure(f"GX evaluated {evaluated} of {expected} expectations"))
    if not vr.success and not failures:
        failures.append(_engine_failure("GX reported the suite as failed without a failing result"))
    return SuiteResult(key, not failures, evaluated, failures, outcomes)


def _run(
    checkpoint_name: str,
    frames: dict[str, pl.DataFrame],
    parameters: dict[str, Any],
    context_root: Path,
    docs_dir: Path | None,
) -> CheckpointResult:
    prepared: dict[str, pl.DataFrame] = {}
    early: dict[str, SuiteResult] = {}
    docs: dict[str, dict[str, Any]] = {}
    for key, frame in frames.items():
        suite = _suite_of(key)
        missing = sorted(required_parameters(suite) - set(parameters))
        if missing:
            early[key] = SuiteResult(
                key,
                False,
                0,
                [
                    ExpectationFailure(
                        "suite_parameters",
                        None,
                        {"missing": missing},
                        [],
                        f"suite parameters not supplied: {', '.join(missing)}",
                    )
                ],
            )
            continue
        docs[key] = suite_document(suite, parameters)  # unknown suite: KeyError, a caller bug
        try:
            prepared[key] = derive_columns(suite, frame)
        except Exception as exc:  # a frame the derivations cannot read is a failed suite
            early[key] = SuiteResult(
                key,
                False,
                0,
                [
                    ExpectationFailure(
                        "derive_columns",
                        None,
                        {},
                        [],
                        f"{type(exc).__name__}: {exc}",
                    )
                ],
            )

    with _LOCK:
        results = _run_gx(checkpoint_name, prepared, docs, parameters, context_root)
    suites = [early.get(key) or results[key] for key in frames]
    result = CheckpointResult(all(s.success for s in suites), suites, None, checkpoint_name)
    if docs_dir is not None:
        from pipelines.validation.docs import write_validation_docs

        result.docs_index = write_validation_docs(
            result, parameters, docs_dir, local_paths=(context_root, docs_dir)
        )
    return result


def _run_gx(
    checkpoint_name: str,
    prepared: dict[str, pl.DataFrame],
    docs: dict[str, dict[str, Any]],
    parameters: dict[str, Any],
    context_root: Path,
) -> dict[str, SuiteResult]:
    if not prepared:
        return {}
    import great_expectations as gx
    from great_expectations.core.expectation_suite import ExpectationSuite

    out: dict[str, SuiteResult] = {}
    try:
        ctx = _context(context_root)
        try:
            source = ctx.data_sources.get(DATASOURCE)
        except (KeyError, ValueError, LookupError):
            source = ctx.data_sources.add_pandas(DATASOURCE)
        frame_dir = context_root.resolve() / "frames" / checkpoint_name
        frame_dir.mkdir(parents=True, exist_ok=True)
        definitions: dict[str, Any] = {}
        asset_of: dict[str, str] = {}
        # One save per suite: a second add_or_update of the same suite (for `suite@label`
        # frames) would leave the first validation definition holding a stale copy.
        suites: dict[str, Any] = {}
        for key, frame in prepared.items():
            path = frame_dir / f"{key.replace('@', '__')}.parquet"
            frame.write_parquet(path)
            asset_name = f"{checkpoint_name}.{key}"
            if asset_name in {a.name for a in source.assets}:
                source.delete_asset(asset_name)
            asset = source.add_parquet_asset(asset_name, path=path)
            batch = asset.add_batch_definition_whole_dataframe("whole")
            name = _suite_of(key)
            if name not in suites:
                doc = {k: v for k, v in docs[key].items() if k != "id"}
                suites[name] = ctx.suites.add_or_update(ExpectationSuite(**doc))
            suite = suites[name]
            definitions[key] = ctx.validation_definitions.add_or_update(
                gx.ValidationDefinition(name=asset_name, data=batch, suite=suite)
            )
            asset_of[f"{DATASOURCE}-{asset_name}"] = key
        checkpoint = ctx.checkpoints.add_or_update(
            gx.Checkpoint(
                name=checkpoint_name,
                validation_definitions=list(definitions.values()),
                actions=[],
                result_format=RESULT_FORMAT,
            )
        )
        run = checkpoint.run(expectation_parameters=_gx_parameters(parameters))
        for vr in run.run_results.values():
            key = asset_of.get(str(vr.batch_id)) or asset_of.get(
                f"{DATASOURCE}-{vr.meta.get('active_batch_definition', {}).get('data_asset_name')}"
            )
            if key is not None:
                count = len(docs[key]["expectations"])
                out[key] = _suite_result(key, prepared[key], count, vr)
    except Exception as exc:  # any GX error fails every suite it touched, with its message
        message = f"GX raised {type(exc).__name__}: {exc}"
        for key in prepared:
            prev = out.get(key)
            failures = [*(prev.failures if prev else []), _engine_failure(message)]
            out[key] = SuiteResult(key, False, prev.evaluated if prev else 0, failures)
    for key in prepared:
        out.setdefault(key, SuiteResult(key, False, 0, [_engine_failure("GX returned no result")]))
    return out
