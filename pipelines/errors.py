"""One error model for the command line and the Dagster UI: what failed, and what to do.

Every failure ends in one line for the user, with an exit code that says which kind it is:

- 2 (USAGE): the command line is wrong (unknown city, edition 0, a missing file...);
- 3 (REFUSED): the data was refused by a check (a malformed framework or iData, a failed
  gate or asset check, a release that would change a published edition);
- 1 (FAULT): the machine or the world failed (disk full, read-only folder, the warehouse held
  by another process, a source unreachable, a bug).

Raw exceptions (OSError, sqlite3 and DuckDB errors) are translated here into the user's terms,
whether they arrive live (the CLI's own code) or serialised in a Dagster run's step failure
(only class names and messages survive there), so both paths give the same sentence.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

USAGE = 2
REFUSED = 3
FAULT = 1

#: Exceptions that mean "this input or this data was refused by a check" (exit 3), by class
#: name, so that errors serialised by Dagster (class name and message only) map the same way.
#: A module with a refusal of its own registers it with :func:`refusal`.
REFUSED_CLASSES: set[str] = {
    "InputRefused",
    "InputError",
    "FrameworkError",
    "RegistryError",
    "ReleaseRefused",
    "RealDataProtected",
}


def refusal(cls: type[Exception]) -> type[Exception]:
    """Class decorator: this exception means refused input (exit 3), even once serialised."""
    REFUSED_CLASSES.add(cls.__name__)
    return cls


#: The time a source stopped by a spent quota can go on (pipelines.sources.http.QuotaExhausted).
QUOTA_RESUME_PATTERN = re.compile(r"resumes at (?P<when>\S+Z)")

#: Metadata key on a dg.Failure raised by an asset: the exit code the CLI should give.
EXIT_CODE_METADATA = "city_index/exit_code"


class UsageError(ValueError):
    """The command line asks for something impossible (exit 2)."""


class Fault(RuntimeError):
    """The machine cannot do the run (disk, folders, the warehouse); the message says what to
    do (exit 1)."""


class InputRefused(ValueError):
    """An input file or table was refused by a check; names the file, row and column (exit 3)."""

    def __init__(self, path: Path | str, row: int | None, column: str | None, message: str) -> None:
        self.path = path
        self.row = row
        self.column = column
        self.reason = message
        where = [f"row {row}"] if row is not None else []
        if column is not None:
            where.append(f"column {column}")
        location = f"{path}: {', '.join(where)}" if where else str(path)
        super().__init__(f"{location}: {message}")


@dataclass(frozen=True)
class Explained:
    """A failure in the user's terms: one line (cause; remedy) and the exit code."""

    message: str
    exit_code: int
    known: bool = True  # False: an unexpected error, shown as it is


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _free_space(path: Path) -> str:
    import shutil

    for candidate in (path, *path.parents):
        try:
            return f"{shutil.disk_usage(candidate).free / 2**20:,.0f} MiB free"
        except OSError:
            continue
    return "free space unknown"


def process_description(pid: int) -> str:
    """`PID 123 (duckdb -readonly x.duckdb)`: the command line of a live process, if readable."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return f"PID {pid}"
    command = " ".join(raw.decode(errors="replace").replace("\0", " ").split())
    return f"PID {pid} ({command[:120]})" if command else f"PID {pid}"


LOCK_PATTERN = re.compile(
    r'Could not set lock on file "(?P<file>[^"]+)": Conflicting lock is held in '
    r"(?P<program>.*?) \(PID (?P<pid>\d+)\)"
)
ERRNO_PATTERN = re.compile(r"\[Errno (?P<errno>\d+)\][^:']*(?::\s*'(?P<path>[^']+)')?")


def explain_lock(message: str) -> str | None:
    """DuckDB's lock error names the file and the PID: say which process and what to do."""
    match = LOCK_PATTERN.search(message)
    if match is None:
        return None
    holder = process_description(int(match["pid"]))
    return (
        f"the warehouse {match['file']} is held by another process, {holder}; close it (a "
        "DBeaver or duckdb CLI session, a notebook, `dagster dev`) or wait for its run to end, "
        "then run again"
    )


def explain_errno(code: int, path: str | None, detail: str = "") -> str | None:
    """Disk full, read-only, permission denied, missing folder: which folder, what to do."""
    where = Path(path) if path else None
    folder = str(where.parent if where is not None and where.suffix else where) if where else ""
    if code == errno.ENOSPC:
        place = f"{folder} ({_free_space(Path(folder))})" if folder else "the output folder"
        return f"disk full writing to {place}; free some space or set CITY_INDEX_HOME elsewhere"
    if code == errno.EROFS:
        return (
            f"{folder or 'the output folder'} is on a read-only file system; "
            "set CITY_INDEX_HOME to a writable folder"
        )
    if code == errno.EACCES or code == errno.EPERM:
        return (
            f"no permission to write {path or 'to the output folder'}; "
            "fix its permissions or set CITY_INDEX_HOME to a folder you own"
        )
    if code in (errno.ENOENT, errno.ENOTDIR):
        return (
            f"{path or 'a folder'} does not exist or is not a folder{detail}; "
            "create it or set CITY_INDEX_HOME to an existing folder"
        )
    return None


def explain_text(class_names: tuple[str, ...], message: str) -> Explained | None:
    """Translate one exception, known by its class names (MRO) and message."""
    text = _one_line(message)
    names = set(class_names)
    if names & REFUSED_CLASSES:
        return Explained(text, REFUSED)
    if "UsageError" in names:
        return Explained(text, USAGE)
    if "Fault" in names:
        return Explained(text, FAULT)
    lock = explain_lock(text)
    if lock:
        return Explained(lock, FAULT)
    if "disk I/O error" in text or "database or disk is full" in text:
        home = _output_home()
        return Explained(
            f"the Dagster instance under {home} could not be written (disk I/O error, "
            f"{_free_space(home)}); free some space or set CITY_INDEX_HOME to another folder",
            FAULT,
        )
    if "unable to open database file" in text:
        home = _output_home()
        return Explained(
            f"cannot open the run database under {home}; check that the folder exists and is "
            "writable, or set CITY_INDEX_HOME to a writable folder",
            FAULT,
        )
    match = ERRNO_PATTERN.search(text)
    if match:
        explained = explain_errno(int(match["errno"]), match["path"])
        if explained:
            return Explained(explained, FAULT)
    if "QuotaExhausted" in names:  # before SourceError, its base class
        resume = QUOTA_RESUME_PATTERN.search(text)
        when = resume["when"] if resume else "the quota resets"
        return Explained(
            f"{text}; run the same command again after {when}: it resumes where it stopped "
            "(answers already recorded are not asked again)",
            FAULT,
        )
    if "SourceError" in names:
        return Explained(
            f"{text}; check the network or the source's status, then run the ingest again",
            FAULT,
        )
    return None


def _output_home() -> Path:
    from pipelines.settings import output_home

    return output_home()


def _class_names(error: BaseException) -> tuple[str, ...]:
    return tuple(cls.__name__ for cls in type(error).__mro__)


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def explain(error: BaseException) -> Explained:
    """The user's line for a live exception (its causes are searched too)."""
    for link in _chain(error):
        if isinstance(link, OSError) and link.errno is not None and not _is_db_error(link):
            text = explain_errno(link.errno, link.filename)
            if text:
                return Explained(text, FAULT)
        explained = explain_text(_class_names(link), str(link))
        if explained:
            return explained
    return Explained(
        f"{type(error).__name__}: {_one_line(str(error))}; rerun with --verbose for the "
        "traceback, and report it if it looks like a bug",
        FAULT,
        known=False,
    )


def _is_db_error(error: BaseException) -> bool:
    return type(error).__module__.split(".")[0] in {"_duckdb", "duckdb", "sqlite3"}


def explain_serialized(error_info) -> Explained | None:
    """The user's line for a Dagster SerializableErrorInfo (step failures keep class names and
    messages only): the first link of its cause/context chain that can be translated."""
    current, seen = error_info, 0
    while current is not None and seen < 20:
        explained = explain_text((current.cls_name or "",), _strip_class(current))
        if explained:
            return explained
        current = current.cause or current.context
        seen += 1
    return None


def _strip_class(error_info) -> str:
    """A serialised message starts with the qualified class name (`pkg.mod.Cls: text`)."""
    message = (error_info.message or "").strip()
    head, sep, rest = message.partition(": ")
    if sep and error_info.cls_name and head.split(".")[-1] == error_info.cls_name:
        return rest
    return message


@contextmanager
def as_dagster_failure() -> Iterator[None]:
    """Inside an asset: re-raise a refused input or a known fault as dg.Failure with the same
    sentence the CLI prints, so the UI shows it too (the original stays as its cause)."""
    import dagster as dg

    try:
        yield
    except dg.Failure:
        raise
    except Exception as error:
        explained = explain(error)
        if not explained.known:
            raise  # unexpected: keep Dagster's own report of it
        raise dg.Failure(
            description=explained.message,
            metadata={EXIT_CODE_METADATA: explained.exit_code},
        ) from error


def explain_run(result) -> Explained:
    """The user's line for a failed Dagster run: the first failed step or blocking check, in the
    user's terms, with the run id where the full log (tracebacks included) is kept."""
    found: Explained | None = None
    for event in result.all_events:
        if not event.is_step_failure or event.step_failure_data is None:
            continue
        data = event.step_failure_data
        user = data.user_failure_data
        if user is not None and user.description:
            code = user.metadata.get(EXIT_CODE_METADATA)
            found = Explained(
                _one_line(user.description), int(code.value) if code is not None else REFUSED
            )
        elif data.error is not None and _is_check_failure(data.error):
            continue  # a blocking check stopped the run: reported from its evaluation below
        elif data.error is not None:
            found = explain_serialized(data.error) or Explained(
                f"step {event.step_key} failed: {_first_line_of_error(data.error)}", FAULT
            )
        if found is not None:
            break
    if found is None:
        for evaluation in result.get_asset_check_evaluations():
            if not evaluation.passed:
                summary = evaluation.metadata.get("summary")
                text = summary.value if summary is not None else evaluation.description or ""
                found = Explained(
                    f"check {evaluation.check_name} on {evaluation.asset_key.to_user_string()} "
                    f"refused the data: {_one_line(text)[:300]}",
                    REFUSED,
                )
                break
    found = found or Explained("the run failed", FAULT)
    return Explained(
        f"{found.message} (run {result.run_id}: full log in the Dagster UI, or rerun with "
        "--verbose)",
        found.exit_code,
    )


def _is_check_failure(error_info) -> bool:
    current = error_info
    while current is not None:
        if current.cls_name == "DagsterAssetCheckFailedError":
            return True
        current = current.cause or current.context
    return False


def _first_line_of_error(error_info) -> str:
    """The innermost user-code error of a serialised chain (Dagster wraps it)."""
    current, last = error_info, error_info
    while current is not None:
        last = current
        current = current.cause
    lines = (last.message or "").strip().splitlines()
    return _one_line(lines[0]) if lines else last.cls_name
