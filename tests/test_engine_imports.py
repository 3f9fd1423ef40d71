"""The compute path stays light: `city-index compute` imports neither Dagster nor pandera, nor
the sources with their HTTP stack.

Why: Dagster and pandera are imported for the pipeline's runs and for refusing a bad framework,
and together they cost a compute run about a second before it reads a byte (bench/README.md,
fixed cost); the sources (requests, urllib3, every client) are the CLI's ingest, 0.1 s more.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ASEM_META = Path(__file__).parent / "data" / "coinr" / "inputs_iMeta.csv"


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


def test_console_uses_dagsters_record_attribute() -> None:
    from dagster._core.log_manager import LOG_RECORD_METADATA_ATTR

    from pipelines import console

    assert console.LOG_RECORD_METADATA_ATTR == LOG_RECORD_METADATA_ATTR
    assert console.run_console.__class__.__name__ == "LoggerDefinition"
