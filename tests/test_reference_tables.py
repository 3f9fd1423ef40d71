"""An edited registry or framework file reaches the next build (pipelines/ingest/
reference_tables.py): a table loaded from an older version of its file is found stale, a build
that would read it is stopped by a blocking check naming the file, and `city-index release`
reloads it first, so a re-balanced weight changes the published numbers."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.ingest import reference_tables
from pipelines.ingest.reference_tables import reference_table, stale_tables
from pipelines.settings import FRAMEWORK_CSV
from tests.test_trust import REPLICATIONS, YEAR, home_env


def with_a_new_weight(folder: Path) -> tuple[Path, str]:
    """A copy of the framework file with the first indicator's weight changed."""
    lines = FRAMEWORK_CSV.read_text(encoding="utf-8").splitlines(keepends=True)
    fields = lines[1].split(",")
    code, fields[4] = fields[1], "0.9"
    edited = folder / "framework.csv"
    edited.write_text("".join([lines[0], ",".join(fields), *lines[2:]]), encoding="utf-8")
    return edited, code


def loaded(con: duckdb.DuckDBPyConnection, name: str) -> None:
    con.execute("create schema if not exists raw")
    incoming = reference_table(name).to_arrow()  # noqa: F841  (read by name below)
    con.execute(f"create or replace table raw.{name} as select * from incoming")


def test_a_table_from_an_older_file_is_stale(tmp_path: Path, monkeypatch) -> None:
    con = duckdb.connect()
    assert stale_tables(con) == ["cities", "framework"]  # never loaded
    loaded(con, "cities")
    loaded(con, "framework")
    assert stale_tables(con) == []
    edited, _ = with_a_new_weight(tmp_path)
    monkeypatch.setattr(reference_tables, "FRAMEWORK_CSV", edited)
    assert stale_tables(con) == ["framework"]
    loaded(con, "framework")
    assert stale_tables(con) == []


def run_with_framework(home: Path, framework: Path, code: str) -> subprocess.CompletedProcess:
    """Python code in the home's environment, with the framework file at `framework`."""
    prelude = (
        "import sys\n"
        "from pathlib import Path\n"
        "import pipelines.ingest.reference_tables as reference_tables\n"
        f"reference_tables.FRAMEWORK_CSV = Path({str(framework)!r})\n"
        "from pipelines import cli\n"
    )
    return subprocess.run(
        [sys.executable, "-c", prelude + code], env=home_env(home), capture_output=True, text=True
    )


@pytest.mark.slow
def test_an_edited_weight_reaches_the_published_numbers(
    first_release_home, tmp_path_factory: pytest.TempPathFactory
) -> None:
    home = tmp_path_factory.mktemp("reference_home")
    shutil.copytree(first_release_home.home, home, dirs_exist_ok=True)
    edited, code = with_a_new_weight(tmp_path_factory.mktemp("edited"))

    build = run_with_framework(
        home,
        edited,
        "try:\n"
        f"    cli.run_job('build', [{YEAR}])\n"
        "    print('built')\n"
        "except cli.CommandFailed as error:\n"
        "    print('refused:', error)\n",
    )
    assert build.returncode == 0, build.stderr[-3000:]
    assert "refused:" in build.stdout and "framework_current" in build.stdout
    assert "raw.framework differs" in build.stdout

    release = run_with_framework(
        home,
        edited,
        "sys.exit(cli.main(['release', '--year', "
        f"'{YEAR}', '--edition', '2', '--replications', '{REPLICATIONS}']))\n",
    )
    assert release.returncode == 0, release.stderr[-3000:]
    assert "reloading raw.framework" in release.stderr
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        weight = con.execute("select weight from raw.framework where icode = ?", [code]).fetchall()
    assert weight == [("0.9",)]
    first, second = (home / "releases" / str(YEAR) / f"edition-{n}" for n in (1, 2))
    assert (first / "index.csv").read_bytes() != (second / "index.csv").read_bytes()
