"""Every bad input and every fault ends in one clear last line, the right exit code, no
traceback and nothing half-written (issue 16).

The CLI runs through `main([...])` in this process (capsys holds stdout and stderr); runs that
reach Dagster use a real instance and a real DuckDB file in a temporary home, and the locked
warehouse is held by a real DuckDB write connection in another process.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
import sys
import textwrap
from collections import namedtuple
from pathlib import Path

import dagster as dg
import pytest

from pipelines import cli, errors, preflight

FRAMEWORK = textwrap.dedent(
    """\
    Level,iCode,iName,Direction,Weight,Parent,Type
    1,reach,Reach,1,1,pillar,Indicator
    1,tone,Tone,-1,0.5,pillar,Indicator
    2,pillar,Pillar,1,1,index,Aggregate
    3,index,Index,1,1,,Aggregate
    """
)
DATA = "uCode,Time,reach,tone\nAAA,2024,1,2\nBBB,2024,3,4\nCCC,2024,5,1\n"


@pytest.fixture(scope="module")
def manifest() -> None:
    """dagster-dbt reads the manifest when the definitions are imported."""
    from pipelines.index.dbt_runner import ensure_manifest

    ensure_manifest()


def run_cli(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str]:
    """Exit code and the last line of stderr; no traceback may reach the terminal."""
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert "Traceback" not in captured.out
    lines = [line for line in captured.err.splitlines() if line.strip()]
    return code, lines[-1] if lines else ""


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# --- 1. arguments checked before any run (exit 2) -------------------------------------------


def test_unknown_city_is_a_usage_error_with_suggestions(capsys, home: Path) -> None:
    code, last = run_cli(
        capsys, "ingest", "--year", "2024", "--source", "hackernews", "--city", "nowhere"
    )
    assert code == errors.USAGE
    assert last.startswith("city-index ingest: error: unknown city 'nowhere' (closest ids: ")
    assert not home.exists()  # refused before anything was created


def test_misspelt_city_suggests_the_registry_id(capsys, home: Path) -> None:
    code, last = run_cli(capsys, "ingest", "--year", "2024", "--city", "shangai")
    assert code == errors.USAGE
    assert "'shangai' (did you mean: shanghai" in last
    assert not home.exists()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (("release", "--edition", "0"), "argument --edition: edition must be 1 or more"),
        (("release", "--edition", "first"), "edition must be a whole number"),
        (("release", "--replications", "0"), "replications must be at least 100"),
        (("release", "--replications", "99"), "replications must be at least 100"),
        (("release", "--year", "2031"), "year must be a complete year between 2017 and 2025"),
        (("ingest", "--year", "2024", "--source", "myspace"), "argument --source: invalid choice"),
    ],
)
def test_bad_run_arguments_are_refused_before_any_run(capsys, home, argv, expected) -> None:
    code, last = run_cli(capsys, *argv)
    assert code == errors.USAGE
    assert last.startswith(f"city-index {argv[0]}: error: ")
    assert expected in last
    assert not home.exists()


def test_bad_compute_arguments_are_refused(capsys, home: Path, tmp_path: Path) -> None:
    meta = write(tmp_path / "meta.csv", FRAMEWORK)
    data = write(tmp_path / "data.csv", DATA)
    out = tmp_path / "out"
    base = ["compute", "--framework", str(meta), "--data", str(data), "--out", str(out)]
    cases = [
        (
            [
                "compute",
                "--framework",
                str(tmp_path / "none.csv"),
                "--data",
                str(data),
                "--out",
                str(out),
            ],
            "none.csv does not exist",
        ),
        (
            ["compute", "--framework", str(tmp_path), "--data", str(data), "--out", str(out)],
            "is not a file",
        ),
        (
            ["compute", "--framework", str(meta), "--data", str(data), "--out", str(meta / "out")],
            "meta.csv is a file, not a folder",
        ),
        ([*base, "--range", "100,0"], "L < U"),
        ([*base, "--range", "a,b"], "range must be two numbers"),
        ([*base, "--screen", "1.5"], "must be a number from 0 to 1"),
        ([*base, "--impute", "group_mean:"], "must be one of none, mean, group_mean:COLUMN"),
        ([*base, "--aggregate", "gmean"], "--aggregate gmean needs positive normalised values"),
    ]
    for argv, expected in cases:
        code, last = run_cli(capsys, *argv)
        assert code == errors.USAGE, argv
        assert last.startswith("city-index compute: error: ") and expected in last, last
    assert not out.exists() and not home.exists()


# --- 2. inputs refused before computing (exit 3) ---------------------------------------------


@pytest.mark.parametrize(
    ("meta_text", "data_text", "expected"),
    [
        (
            FRAMEWORK.replace("3,index,Index,1,1,,Aggregate", "3,index,Index,1,1,pillar,Aggregate"),
            DATA,
            "meta.csv: row 5, column Parent: parents form a cycle: pillar -> index -> pillar",
        ),
        (
            FRAMEWORK.replace("1,tone,Tone,-1,0.5,pillar", "1,tone,Tone,-1,0.5,pilar"),
            DATA,
            "meta.csv: row 3, column Parent: parent 'pilar' of 'tone' is not a code in this file",
        ),
        (FRAMEWORK, "uCode,Time,reach,tone\n", "data.csv: a header and no rows"),
        (FRAMEWORK, "", "data.csv: the file is empty"),
        (FRAMEWORK, "uCode,Time,speed\nAAA,2024,1\n", "data.csv: row 1: none of the framework's"),
        (FRAMEWORK, DATA.replace("BBB,2024", "BBB,last year"), "row 3, column Time: not a whole"),
        (FRAMEWORK, DATA.replace("CCC,", ","), "data.csv: row 4, column uCode: empty unit code"),
    ],
    ids=["cycle", "missing-parent", "header-only", "empty", "no-indicator", "year", "unit"],
)
def test_refused_inputs_name_file_row_and_column(
    capsys, home: Path, tmp_path: Path, meta_text: str, data_text: str, expected: str
) -> None:
    meta = write(tmp_path / "meta.csv", meta_text)
    data = write(tmp_path / "data.csv", data_text)
    out = tmp_path / "out"
    code, last = run_cli(
        capsys, "compute", "--framework", str(meta), "--data", str(data), "--out", str(out)
    )
    assert code == errors.REFUSED
    assert last.startswith("city-index compute: ")
    assert expected in last
    assert not out.exists()  # nothing half-written


def test_a_good_compute_still_works(capsys, home: Path, tmp_path: Path) -> None:
    meta = write(tmp_path / "meta.csv", FRAMEWORK)
    data = write(tmp_path / "data.csv", DATA)
    code = cli.main(
        ["compute", "--framework", str(meta), "--data", str(data), "--out", str(tmp_path / "o")]
    )
    assert code == 0, capsys.readouterr().err
    assert (tmp_path / "o" / "scores.csv").read_text().count("\n") == 1 + 3 * 4  # 3 units x 4


# --- 3. faults named in the user's terms (exit 1) --------------------------------------------


def test_output_folder_under_a_file_cannot_be_created(capsys, tmp_path, monkeypatch) -> None:
    blocker = write(tmp_path / "not-a-folder", "")
    home = blocker / "home"
    monkeypatch.setenv("CITY_INDEX_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster_home"))
    monkeypatch.setenv("CITY_INDEX_WAREHOUSE", str(home / "warehouse.duckdb"))
    code, last = run_cli(capsys, "ingest", "--year", "2024", "--source", "curated")
    assert code == errors.FAULT
    assert f"cannot create the output folder (CITY_INDEX_HOME) {home}" in last
    assert f"{blocker} is a file, not a folder; set CITY_INDEX_HOME to a writable folder" in last
    assert blocker.read_text() == ""


def test_read_only_output_folder_is_named(capsys, home: Path, monkeypatch) -> None:
    """A read-only file system (EROFS) refuses the write probe even for root."""

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(preflight.tempfile, "TemporaryFile", read_only)
    code, last = run_cli(capsys, "release")
    assert code == errors.FAULT
    assert last == (
        f"city-index release: cannot write the output folder (CITY_INDEX_HOME) {home} "
        "(Read-only file system); set CITY_INDEX_HOME to a writable folder"
    )
    assert not (home / "dagster_home").exists()


def test_too_little_free_space_is_refused_up_front(capsys, home: Path, monkeypatch) -> None:
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(
        preflight.shutil, "disk_usage", lambda path: usage(2**30, 2**30 - 10 * 2**20, 10 * 2**20)
    )
    code, last = run_cli(capsys, "release", "--year", "2024")
    assert code == errors.FAULT
    assert f"only 10 MiB free in {home}, a run needs at least 512 MiB" in last
    assert "free some space or set CITY_INDEX_HOME" in last
    assert not home.exists()  # checked before the folder is made


def test_disk_full_inside_a_run_is_translated(home: Path) -> None:
    home.mkdir()
    full = OSError(errno.ENOSPC, "No space left on device", str(home / "warehouse.duckdb.wal"))
    assert errors.explain(full).message.startswith(f"disk full writing to {home} (")
    try:  # how SQLAlchemy reports the Dagster instance's sqlite on a full disk
        raise RuntimeError(
            "(sqlite3.OperationalError) disk I/O error"
        ) from sqlite3.OperationalError("disk I/O error")
    except RuntimeError as error:
        explained = errors.explain(error)
    assert explained.exit_code == errors.FAULT
    assert f"the Dagster instance under {home} could not be written" in explained.message
    assert "free some space or set CITY_INDEX_HOME" in explained.message


@pytest.fixture
def held_warehouse(home: Path):
    """A real DuckDB write connection on the warehouse, held by another process."""
    home.mkdir()
    warehouse = home / "warehouse.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time\n"
            f"con = duckdb.connect({str(warehouse)!r})\n"
            "print('held', flush=True)\n"
            "time.sleep(120)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    yield holder
    holder.kill()
    holder.wait()


def test_locked_warehouse_names_the_process(capsys, held_warehouse) -> None:
    code, last = run_cli(capsys, "ingest", "--year", "2024", "--source", "curated")
    assert code == errors.FAULT
    assert f"is held by another process, PID {held_warehouse.pid} (" in last
    assert "close it (a DBeaver or duckdb CLI session" in last


def test_locked_warehouse_inside_a_run_gives_the_same_line(
    home: Path, manifest, held_warehouse, monkeypatch
) -> None:
    """Locked after the preflight: the asset fails with the same sentence, in the UI too."""
    monkeypatch.setattr(cli.preflight, "check_warehouse_free", lambda: None)
    cli.apply_environment_defaults()
    with pytest.raises(cli.CommandFailed) as failed:
        cli.ingest(2024, ["curated"])
    assert failed.value.exit_code == errors.FAULT
    message = str(failed.value)
    assert f"PID {held_warehouse.pid}" in message and "then run again" in message
    run_id = message.split("(run ")[1].split(":")[0]
    assert ui_failure(run_id) in message


def ui_failure(run_id: str) -> str:
    """The failure text the Dagster UI shows for a run (its first step failure)."""
    instance = dg.DagsterInstance.get()
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        data = record.dagster_event.step_failure_data
        return data.user_failure_data.description
    raise AssertionError(f"no step failure in run {run_id}")


def test_unreachable_source_names_url_and_time() -> None:
    import requests
    import responses as responses_lib

    from pipelines.sources.gdelt.client import GdeltClient

    with responses_lib.RequestsMock() as mock:
        url = "https://api.gdeltproject.org/api/v2/doc/doc"
        mock.get(url, body=requests.ConnectionError("no route to host"))
        config = GdeltClient.default_config().with_overrides(min_interval=0.0, retries=0)
        client = GdeltClient(config, mode="live")
        with pytest.raises(Exception) as raised:
            client.get("/api/v2/doc/doc", {"query": "x"})
    explained = errors.explain(raised.value)
    assert explained.exit_code == errors.FAULT
    assert "gdelt: unreachable after 0 s and 0 retries (no route to host)" in explained.message
    assert f"for {url}?query=x" in explained.message
    assert explained.message.endswith(
        "check the network or the source's status, then run the ingest again"
    )


# --- 4. one error model -----------------------------------------------------------------------


def test_unknown_city_in_a_run_is_shown_in_the_ui_and_the_cli(home: Path, manifest) -> None:
    """The asset's own check (a run from the UI bypasses the CLI) says the same thing."""
    cli.apply_environment_defaults()
    with pytest.raises(cli.CommandFailed) as failed:
        cli.ingest(2024, ["hackernews"], ["pariss"])
    assert failed.value.exit_code == errors.USAGE
    message = str(failed.value)
    assert message.startswith("ingest run for 2024 failed: unknown city 'pariss' (did you mean: ")
    run_id = message.split("(run ")[1].split(":")[0]
    assert ui_failure(run_id) in message
    assert not (home / "warehouse.duckdb").exists() or "hackernews" not in message.split(":")[0]


def test_bad_framework_csv_is_refused_by_its_asset(home: Path, manifest, tmp_path, monkeypatch):
    from pipelines.ingest import reference_tables

    bad = write(tmp_path / "framework.csv", FRAMEWORK.replace("0.5", "-0.5"))
    monkeypatch.setattr(reference_tables, "FRAMEWORK_CSV", bad)
    cli.apply_environment_defaults()
    with pytest.raises(cli.CommandFailed) as failed:
        cli.ingest(2024, ["curated"])
    assert failed.value.exit_code == errors.REFUSED
    expected = f"{bad}: row 3, column Weight: not a positive number ('-0.5')"
    assert expected in str(failed.value)
    run_id = str(failed.value).split("(run ")[1].split(":")[0]
    assert ui_failure(run_id) == expected


def test_a_failed_blocking_check_exits_3(tmp_path: Path) -> None:
    @dg.asset
    def scores() -> int:
        return 1

    @dg.asset_check(asset=scores, blocking=True)
    def scores_in_range() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=False, metadata={"summary": "Paris: score 140 > 100"})

    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        result = dg.materialize([scores, scores_in_range], instance=instance, raise_on_error=False)
    explained = errors.explain_run(result)
    assert explained.exit_code == errors.REFUSED
    assert explained.message.startswith(
        "check scores_in_range on scores refused the data: Paris: score 140 > 100 (run "
    )


def test_verbose_shows_the_traceback(capsys, tmp_path: Path, home: Path) -> None:
    meta = write(tmp_path / "meta.csv", FRAMEWORK.replace(",pillar,Indicator", ",,Indicator", 1))
    data = write(tmp_path / "data.csv", DATA)
    argv = ["compute", "--framework", str(meta), "--data", str(data), "--out", str(tmp_path / "o")]
    assert cli.main(["--verbose", *argv]) == errors.REFUSED
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert (
        err.strip()
        .splitlines()[-1]
        .endswith("meta.csv: row 2, column Parent: indicator 'reach' has no parent")
    )


def test_exit_codes_are_documented() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    for code in ("0", "1", "2", "3"):
        assert f"`{code}`" in section
    assert os.path.basename(errors.__file__) in section
