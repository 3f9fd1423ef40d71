"""The compute path stays light: `city-index compute` imports neither Dagster nor pandera, nor
the sources with their HTTP stack, and no dataframe library before its engine runs.

Why: Dagster and pandera are imported for the pipeline's runs, and together they cost a
compute run about a second before it reads a byte (bench/README.md, fixed cost); the sources
(requests, urllib3, every client) are the CLI's ingest, 0.1 s more; polars, 0.07 s, is only
needed to write scores.csv and loads while the engine runs; the duckdb package's Python layer
(its relation API, 0.04 s) is not needed at all (pipelines/index/duckdb_native.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ASEM_META = Path(__file__).parent / "data" / "coinr" / "inputs_iMeta.csv"
ASEM_PANEL = Path(__file__).parent / "data" / "coinr" / "inputs_iData_p.csv"


HEAVY = {"dagster", "pandera", "pandas", "dbt", "requests", "urllib3"}


def test_compute_path_imports_neither_dagster_nor_pandera() -> None:
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "import pipelines.cli\n"
        "from pipelines.index.compute import read_framework\n"
        f"read_framework(Path({str(ASEM_META)!r}))\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    modules = set(json.loads(out))
    loaded = {m.split(".")[0] for m in modules}
    assert not loaded & HEAVY, loaded & HEAVY
    assert not {m for m in modules if m.startswith("pipelines.sources")}


def test_polars_loads_only_beside_the_running_engine(tmp_path: Path) -> None:
    """An untreated compute reads, checks and computes without polars; the one import of it
    is compute's background import while DuckDB starts and runs the engine (then the writer
    uses it). The duckdb package is never imported: only its native module."""
    code = (
        "import json, sys, threading\n"
        "from pathlib import Path\n"
        "class Watch:\n"
        "    threads = []\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name in ('polars', 'duckdb'):\n"
        "            self.threads.append(f'{name} by {threading.current_thread().name}')\n"
        "sys.meta_path.insert(0, Watch())\n"
        "import pipelines.cli\n"
        "from pipelines.index.compute import EngineConfig, compute\n"
        f"compute(Path({str(ASEM_META)!r}), Path({str(ASEM_PANEL)!r}), "
        f"Path({str(tmp_path / 'out')!r}), EngineConfig())\n"
        "print(json.dumps(Watch.threads))\n"
    )
    environment = {**os.environ, "CITY_INDEX_HOME": str(tmp_path / "home")}
    run = [sys.executable, "-c", code]
    subprocess.run(run, capture_output=True, text=True, check=True, env=environment)
    # The second run finds the engine compiled, as every run after a configuration's first.
    out = subprocess.run(run, capture_output=True, text=True, check=True, env=environment)
    assert json.loads(out.stdout) == ["polars by import polars"]
    assert (tmp_path / "out" / "scores.csv").stat().st_size > 0


def test_console_uses_dagsters_record_attribute() -> None:
    from dagster._core.log_manager import LOG_RECORD_METADATA_ATTR

    from pipelines import console

    assert console.LOG_RECORD_METADATA_ATTR == LOG_RECORD_METADATA_ATTR
    assert console.run_console.__class__.__name__ == "LoggerDefinition"
