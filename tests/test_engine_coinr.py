"""The dbt engine reproduces COINr's plain ASEM build (min-max [0, 100], arithmetic mean)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from pipelines.index.compute import EngineConfig, InputError, compute
from tests.reference_data import COINR_ASEM_DIR as COINR


@pytest.fixture(scope="module")
def plain_build(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    out = tmp_path_factory.mktemp("plain")
    path = compute(COINR / "inputs_iMeta.csv", COINR / "inputs_iData.csv", out, EngineConfig())
    return pl.read_csv(path)


def test_every_score_matches_coinr_to_1e9(plain_build: pl.DataFrame) -> None:
    expected = pl.read_csv(COINR / "A_scores_long.csv")
    joined = expected.join(
        plain_build, left_on=["uCode", "iCode"], right_on=["uCode", "iCode"], how="left"
    )
    assert joined.height == expected.height == plain_build.height
    both_missing = joined["value"].is_null() & joined["value_right"].is_null()
    assert (joined["value"].is_null() == joined["value_right"].is_null()).all()
    difference = (joined["value"] - joined["value_right"]).abs().filter(~both_missing)
    assert difference.max() < 1e-9


def test_every_rank_matches_coinr(plain_build: pl.DataFrame) -> None:
    expected = pl.read_csv(COINR / "A_ranks_long.csv")
    joined = expected.join(plain_build, on=["uCode", "iCode"], how="left")
    mismatched = joined.filter(pl.col("rank").ne_missing(pl.col("rank_right")))
    assert mismatched.height == 0, mismatched.head()


def test_index_ranking_matches_coinr(plain_build: pl.DataFrame) -> None:
    expected = pl.read_csv(COINR / "A_index_ranks.csv")
    ours = plain_build.filter(pl.col("iCode") == "Index").select("uCode", "value", "rank")
    joined = expected.join(ours, on="uCode")
    assert joined.height == expected.height
    assert (joined["Rank"] == joined["rank"]).all()
    assert (joined["Index"] - joined["value"]).abs().max() < 1e-9


def test_bad_framework_names_file_row_and_column(tmp_path: Path) -> None:
    meta = (COINR / "inputs_iMeta.csv").read_text().splitlines()
    meta[3] = meta[3].replace(",1,1,", ",1,heavy,", 1)
    bad = tmp_path / "meta.csv"
    bad.write_text("\n".join(meta) + "\n")
    with pytest.raises(InputError, match=r"meta\.csv: row 4, column Weight"):
        compute(bad, COINR / "inputs_iData.csv", tmp_path / "out", EngineConfig())
    assert not (tmp_path / "out" / "scores.csv").exists()
