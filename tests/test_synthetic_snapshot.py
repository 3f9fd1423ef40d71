"""The embedded snapshot's generated answers: each source package writes its own
(pipelines/sources/<name>/synthetic.py), the shared run names no source, and regenerating
gives the committed files byte for byte (so the snapshot is what the code says it is)."""

import gzip
import json
from pathlib import Path

from pipelines.sources import synthetic
from pipelines.sources.catalog import SPECS
from pipelines.sources.http import DEFAULT_SNAPSHOT_ROOT, SnapshotStore

ROOT = Path(__file__).resolve().parents[1]


def _generated_files(root: Path) -> dict[str, bytes]:
    """Relative path -> bytes of the files under ``root`` the generator wrote (not recorded)."""
    files = {}
    for file in sorted(root.rglob("*.json.gz")):
        data = file.read_bytes()
        if synthetic.MARK in json.loads(gzip.decompress(data)).get("note", ""):
            files[file.relative_to(root).as_posix()] = data
    return files


def test_each_snapshot_folder_is_written_by_its_source_package() -> None:
    folders = {p.name for p in DEFAULT_SNAPSHOT_ROOT.iterdir() if p.is_dir()}
    assert set(synthetic.synthesizers()) == folders
    assert list(synthetic.synthesizers()) == [name for name in SPECS if name in folders]


def test_the_shared_generator_names_no_source() -> None:
    """Issue 11, one place per source: a source's name is in its package, not in the run."""
    names = {name for name in SPECS}
    names |= {t.name for spec in SPECS.values() for t in spec.titles.values()}
    for path in ("pipelines/sources/synthetic.py", "scripts/generate_snapshots.py"):
        text = (ROOT / path).read_text(encoding="utf-8").lower()
        assert not [n for n in sorted(names) if n.lower() in text], path


def test_regenerating_gives_the_committed_snapshot_byte_for_byte(tmp_path) -> None:
    committed = _generated_files(DEFAULT_SNAPSHOT_ROOT)
    assert committed, "no generated file in the embedded snapshot"
    synthetic.generate(SnapshotStore(tmp_path))
    regenerated = _generated_files(tmp_path)
    assert sorted(regenerated) == sorted(committed)
    differing = [name for name in committed if regenerated[name] != committed[name]]
    assert differing == [], f"regenerate: python scripts/generate_snapshots.py ({differing[:3]})"
