"""The console of a run started by the CLI: one line per message and no tracebacks.

Dagster's default console logger prints every failure with its stack trace, twice (the step
and the run), which buried the one line that mattered under 46 to 208 lines. The CLI prints
the failure itself, in the user's terms, with the run id; the full log stays in the Dagster
run (UI) and on the console with `--verbose`.
"""

from __future__ import annotations

import logging
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# Dagster is imported where a run needs it, not here: `city-index compute` imports this module
# and never starts a Dagster run (the import costs it about 0.4 s). definitions.py gets
# run_console through the module __getattr__ below.
LOG_RECORD_METADATA_ATTR = "dagster_meta"  # dagster._core.log_manager's name, checked in tests

_verbose = False


def set_verbose(verbose: bool) -> None:
    """`--verbose`: Dagster's full console (tracebacks included) for the runs that follow."""
    global _verbose
    _verbose = verbose


class OneLineFormatter(logging.Formatter):
    """`  step: first line of the message` (the run log keeps the whole text)."""

    def format(self, record: logging.LogRecord) -> str:
        meta = getattr(record, LOG_RECORD_METADATA_ATTR, None) or {}
        text = str(meta.get("orig_message") or record.getMessage()).strip()
        first = text.splitlines()[0] if text else ""
        step = meta.get("step_key")
        return f"  {step}: {first}" if step else f"  {first}"


def _not_a_failure(record: logging.LogRecord) -> bool:
    """Failures are reported once, by the CLI's last line; drop Dagster's copies of them."""
    meta = getattr(record, LOG_RECORD_METADATA_ATTR, None) or {}
    event = meta.get("dagster_event")
    if event is None:
        return True  # the assets' own messages
    return not (event.is_failure or record.levelno >= logging.ERROR)


def _console_logger(log_level: str) -> logging.Logger:
    level = log_level.upper()
    if _verbose:
        from dagster._utils.log import create_console_logger

        return create_console_logger("dagster", level)
    logger = logging.Logger("city_index.run", level)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter())
    handler.addFilter(_not_a_failure)
    logger.addHandler(handler)
    return logger


def _make_run_console() -> Any:
    """The Dagster logger definition (built on first use, with Dagster imported then)."""
    import dagster as dg

    @dg.logger(
        config_schema={"log_level": dg.Field(str, is_required=False, default_value="INFO")},
        description="One line per message, no tracebacks (the full log is in the run).",
    )
    def run_console(init_context: dg.InitLoggerContext) -> logging.Logger:
        return _console_logger(init_context.logger_config["log_level"])

    return run_console


def __getattr__(name: str) -> Any:
    """`run_console`, made once on first access (PEP 562), so importing this module is light."""
    if name == "run_console":
        globals()[name] = _make_run_console()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def claim_root_logger() -> None:
    """Give the root logger a handler for warnings and errors before any library can.

    dbt imports snowplow_tracker, whose modules call `logging.basicConfig()` when imported:
    that put a handler for every level on the root logger, and each message of a run was
    printed twice, once by the run console and once as `INFO:dagster.builtin:...`.
    basicConfig does nothing when the root logger has a handler, so this one comes first:
    basicConfig's format, warnings and errors only. Left alone if there is one already."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter(logging.BASIC_FORMAT))
    root.addHandler(handler)


@contextmanager
def quiet_library_warnings(verbose: bool) -> Iterator[None]:
    """Dagster's definition-time warnings are for developers, not for the CLI's user."""
    with warnings.catch_warnings():
        if not verbose:
            warnings.filterwarnings("ignore", module=r"dagster(_\w+)?(\.|$)")
            warnings.filterwarnings("ignore", category=DeprecationWarning)
        yield
