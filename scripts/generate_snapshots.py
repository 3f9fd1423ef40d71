"""Generate the embedded offline snapshot (assets/snapshots/) for every registry city, 2017-2025.

Run: ``python scripts/generate_snapshots.py`` (deterministic: same registry -> same bytes).
Re-run after editing the registry. ``--root DIR`` writes into another snapshot folder (e.g. a
copy, to compare bytes).

The answers are written by each source package's ``synthetic`` module
(``pipelines/sources/<name>/synthetic.py``: what is generated, what is real, and the anchors
it is scaled to); the shared helpers and the run over the catalog are in
``pipelines/sources/synthetic.py``. Files that hold recorded (live) responses are never
overwritten; generated files that are no longer produced are removed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from pipelines.sources.http import SnapshotStore  # noqa: E402
from pipelines.sources.synthetic import generate  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, help="snapshot folder (default: assets/snapshots)")
    args = parser.parse_args(argv)
    store = SnapshotStore(args.root) if args.root else SnapshotStore()
    for line in generate(store):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
