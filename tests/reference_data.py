"""Where the repository keeps the reference data that tests and the benchmark read.

One constant per folder, so that a test, the bench generator and a doc all mean the same files.
Everything lives inside the repository (a clone needs nothing beside it); provenance is in the
folder's `PROVENANCE.md`.
"""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
COINR_ASEM_DIR = DATA_DIR / "coinr"
"""COINr 1.1.14's ASEM example: inputs (iMeta, iData, panel) and COINr's own plain-build results."""
