"""Publishing an edition: re-releasing the same numbers is a no-op, different numbers are refused
with the cities and columns that differ, and released folders are world-readable."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from pipelines.release.edition import ReleaseRefused, index_differences, publish_edition

YEAR = 2025


def ranking(**changes: dict[str, object]) -> pl.DataFrame:
    """Eight cities; `changes` maps a city to the columns to overwrite."""
    cities = ["beijing", "shanghai", "tokyo", "paris", "london", "xian", "seoul", "dubai"]
    rows = [
        {
            "city_id": city,
            "name_zh": "北京" if city == "beijing" else city,
            "score": 76.69 - i,
            "rank": i + 1,
            "ranked": True,
        }
        for i, city in enumerate(cities)
    ]
    for row in rows:
        row.update(changes.get(row["city_id"], {}))
    return pl.DataFrame(rows)


def build_writing(frame: pl.DataFrame, extra_file: bool = True):
    def build(folder: Path, edition: int) -> dict:
        frame.write_csv(folder / "index.csv", include_bom=True)
        if extra_file:
            (folder / "sub").mkdir()
            (folder / "sub" / "page.html").write_text("<p>validation</p>")
        return {"built_for": edition}

    return build


@pytest.fixture()
def strict_umask() -> Iterator[None]:
    """A umask that would make everything private: publishing must not depend on it."""
    previous = os.umask(0o077)
    yield
    os.umask(previous)


def tree_modes(folder: Path) -> dict[str, int]:
    return {
        str(p.relative_to(folder)): stat.S_IMODE(p.stat().st_mode)
        for p in [folder, *folder.rglob("*")]
    }


def test_released_folders_are_world_readable(tmp_path: Path, strict_umask: None) -> None:
    outcome = publish_edition(tmp_path / "releases", YEAR, None, build_writing(ranking()))
    assert outcome.created
    modes = tree_modes(outcome.path)
    assert modes == {
        ".": 0o755,
        "index.csv": 0o644,
        "manifest.json": 0o644,
        "sub": 0o755,
        "sub/page.html": 0o644,
    }
    for created in (tmp_path / "releases", tmp_path / "releases" / str(YEAR)):
        assert stat.S_IMODE(created.stat().st_mode) == 0o755, created


def test_same_numbers_again_is_a_no_op(tmp_path: Path) -> None:
    first = publish_edition(tmp_path, YEAR, None, build_writing(ranking()))
    before = (first.path / "index.csv").read_bytes()
    # The same numbers written differently (no BOM, 1.0 for 1, other row order) are the same.
    rewritten = ranking().with_columns(pl.col("rank").cast(pl.Float64)).reverse()

    def build(folder: Path, edition: int) -> dict:
        rewritten.write_csv(folder / "index.csv")
        return {}

    again = publish_edition(tmp_path, YEAR, None, build)
    assert not again.created
    assert again.path == first.path
    assert "already released with the same numbers" in again.message
    assert (first.path / "index.csv").read_bytes() == before
    assert sorted(p.name for p in (tmp_path / str(YEAR)).iterdir()) == ["edition-1"]


def test_different_numbers_are_refused_naming_cities_and_columns(tmp_path: Path) -> None:
    first = publish_edition(tmp_path, YEAR, None, build_writing(ranking()))
    before = (first.path / "index.csv").read_bytes()
    changed = ranking(
        beijing={"score": 76.70, "rank": 2},
        shanghai={"rank": 1},
        xian={"name_zh": "西安"},
    )
    with pytest.raises(ReleaseRefused) as refused:
        publish_edition(tmp_path, YEAR, None, build_writing(changed))
    message = str(refused.value)
    assert "beijing: score 76.69 -> 76.7, rank 1 -> 2" in message
    assert "shanghai: rank 2 -> 1" in message
    assert "xian: name_zh xian -> 西安" in message
    assert "tokyo" not in message  # unchanged cities are not named
    assert "--edition 2" in message
    assert (first.path / "index.csv").read_bytes() == before
    assert not list((tmp_path / str(YEAR)).glob(".edition-*"))


def test_many_differing_cities_are_counted_after_the_first_five(tmp_path: Path) -> None:
    publish_edition(tmp_path, YEAR, None, build_writing(ranking()))
    shifted = ranking().with_columns(pl.col("score") + 0.001)
    with pytest.raises(ReleaseRefused, match=r"; \.\.\. and 3 more cities\. Releases"):
        publish_edition(tmp_path, YEAR, None, build_writing(shifted))


def test_columns_and_cities_in_one_file_only_are_named(tmp_path: Path) -> None:
    old, new = tmp_path / "old.csv", tmp_path / "new.csv"
    ranking().write_csv(old)
    ranking().filter(pl.col("city_id") != "dubai").with_columns(
        pl.lit(True).alias("synthetic")
    ).drop("ranked").vstack(
        pl.DataFrame(
            {
                "city_id": ["oslo"],
                "name_zh": ["奥斯陆"],
                "score": [1.0],
                "rank": [9],
                "synthetic": [True],
            }
        )
    ).write_csv(new)
    differences = index_differences(old, new)
    assert differences.structure == [
        "columns added: synthetic",
        "columns removed: ranked",
        "cities no longer in the index: dubai",
        "cities new in the index: oslo",
    ]
    assert differences.cities == []
    assert index_differences(old, old).summary() == ""
    assert not index_differences(old, old)


def test_a_repeated_city_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "index.csv"
    ranking().vstack(ranking().head(1)).write_csv(path)
    with pytest.raises(ValueError, match=r"index\.csv: city_id repeated: beijing"):
        index_differences(path, path)
