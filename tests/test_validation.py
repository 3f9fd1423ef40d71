"""Release gate: good frames pass; each failure mode fails by name, column and rows.

One GX context (under a session temp folder) is shared by all tests: GX is slow to set up.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from pipelines.validation.derive import join_uncertainty
from pipelines.validation.gate import CheckpointResult, SuiteResult, run_checkpoint, run_suite
from pipelines.validation.suites import (
    SUITES_DIR,
    default_parameters,
    required_parameters,
    suite_document,
    suite_names,
)

YEAR = 2025
CITIES = ["a", "b", "c"]


#: The pillars of the frames below (the gate reads them from the framework).
PILLARS = ("media", "social", "economy")


@pytest.fixture(scope="session")
def context_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gx_context")


@pytest.fixture(scope="session")
def params() -> dict[str, Any]:
    return default_parameters(YEAR, pillars=PILLARS, max_rank_change=5)


def indicators() -> pl.DataFrame:
    rows = [
        (c, YEAR, i, float(n + k), False, float(n + k), "none", 10.0 * (n + k))
        for n, c in enumerate(CITIES)
        for k, i in enumerate(["i1", "i2", "i3"])
    ]
    cols = [
        "city_id",
        "year",
        "icode",
        "raw_value",
        "imputed",
        "treated_value",
        "treatment",
        "normalised_value",
    ]
    return pl.DataFrame(rows, schema=cols, orient="row")


def index_scores() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "city_id": CITIES * 2,
            "year": [YEAR] * 6,
            "icode": ["INDEX"] * 3 + ["media"] * 3,
            "level": [3] * 3 + [2] * 3,
            "score": [80.0, 60.0, 60.0, 100.0, 0.0, 50.0],
            "rank": [1, 2, 2, 1, 3, 2],
        }
    )


def ranking(ranks: list[int | None] | None = None, **extra: list[Any]) -> pl.DataFrame:
    ranks = ranks or [1, 2, 2, None]
    n = len(ranks)
    ids = [f"c{i}" for i in range(n)]
    scores = [None if r is None else 90.0 - 10 * r for r in ranks]
    mart = pl.DataFrame(
        {
            "year": [YEAR] * n,
            "city_id": ids,
            "name_en": ids,
            "ranked": [r is not None for r in ranks],
            "data_availability": [0.9] * n,
            "score": scores,
            "rank": ranks,
            "score_change": [0.5] * n,
            "rank_change": [1] * n,
            "media": scores,
            "social": scores,
            "economy": scores,
            **extra,
        },
        strict=False,
    )
    uncertainty = pl.DataFrame(
        {
            "year": [YEAR] * n,
            "city_id": ids,
            "rank": ranks,
            "median_rank": [None if r is None else float(r) for r in ranks],
            "rank_p05": [None if r is None else max(1.0, r - 1.0) for r in ranks],
            "rank_p95": [None if r is None else r + 1.0 for r in ranks],
        }
    )
    return join_uncertainty(mart, uncertainty)


def weights() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "icode": ["INDEX", "media", "social", "economy", "m1", "m2"],
            "parent": [None, "INDEX", "INDEX", "INDEX", "media", "media"],
            "weight_normalised": [1.0, 1 / 3, 1 / 3, 1 / 3, 0.25, 0.75],
        }
    )


def good_frames() -> dict[str, pl.DataFrame]:
    return {
        "indicators": indicators(),
        "index_scores": index_scores(),
        "index_ranking": ranking(),
        "index_weights": weights(),
    }


def check(suite: str, frame: pl.DataFrame, root: Path, params: dict[str, Any]) -> SuiteResult:
    return run_suite(suite, frame, parameters=params, context_root=root)


def failed(result: SuiteResult, expectation: str, column: str | tuple[str, ...]) -> Any:
    """The failure for (expectation, column), asserting it exists and is the only kind."""
    assert not result.success
    hits = [f for f in result.failures if f.expectation == expectation and f.column == column]
    got = [(f.expectation, f.column) for f in result.failures]
    assert hits, f"expected {expectation} on {column}, got {got}"
    return hits[0]


# ---------------------------------------------------------------------------- suites on disk


def test_suite_files_cover_all_suites_and_parameters() -> None:
    names = set(suite_names())
    assert {
        "indicators",
        "index_scores",
        "index_ranking",
        "index_weights",
    } <= names
    params = default_parameters(YEAR, pillars=PILLARS)
    for name in names:
        assert required_parameters(name) <= set(params), name
    assert (SUITES_DIR.parent / ".gitignore").read_text().strip() == "uncommitted/"


# ---------------------------------------------------------------------------- passing


def test_good_frames_pass_one_checkpoint_with_data_docs(
    context_root: Path, params: dict[str, Any], tmp_path: Path
) -> None:
    docs = tmp_path / "data_docs"
    result = run_checkpoint(f"edition_{YEAR}", good_frames(), params, context_root, docs)
    assert isinstance(result, CheckpointResult)
    assert result.success, result.summary()
    assert [s.suite for s in result.suites] == list(good_frames())
    assert all(s.evaluated > 0 for s in result.suites)
    assert result.docs_index == docs / "index.html"
    assert result.docs_index.is_file()
    assert "PASSED" in result.summary()
    assert not (SUITES_DIR.parent / "uncommitted").exists()


# ---------------------------------------------------------------------------- indicators


def test_indicator_failures(context_root: Path, params: dict[str, Any]) -> None:
    frame = pl.concat([indicators(), indicators().tail(1)]).with_columns(
        raw_value=pl.when(pl.col("city_id") == "a").then(None).otherwise(pl.col("raw_value")),
        imputed=pl.col("city_id") != "c",
    )
    result = check("indicators", frame, context_root, params)
    failed(result, "expect_compound_columns_to_be_unique", ("city_id", "year", "icode"))
    low = failed(result, "expect_column_values_to_be_between", "city_availability")
    assert {r["city_id"] for r in low.sample_rows} == {"a"}
    failed(result, "expect_column_mean_to_be_between", "imputed_flag")


# ---------------------------------------------------------------------------- index


def test_score_out_of_range_fails(context_root: Path, params: dict[str, Any]) -> None:
    frame = index_scores().with_columns(
        score=pl.when(pl.col("city_id") == "b").then(101.0).otherwise(pl.col("score"))
    )
    result = check("index_scores", frame, context_root, params)
    failure = failed(result, "expect_column_values_to_be_between", "score")
    assert {(r["city_id"], r["icode"], r["score"]) for r in failure.sample_rows} == {
        ("b", "INDEX", 101.0),
        ("b", "media", 101.0),
    }
    assert len(result.failures) == 1


@pytest.mark.parametrize(
    ("ranks", "ok"),
    [
        ([1, 1, 3], True),
        ([1, 2, 3, None], True),
        ([1, 3], False),
        ([1, 2, 2, 3], False),
        ([2, 3], False),
    ],
)
def test_rank_contiguity(
    ranks: list[int | None], ok: bool, context_root: Path, params: dict[str, Any]
) -> None:
    result = check("index_ranking", ranking(ranks), context_root, params)
    assert result.success is ok, result.summary()
    if not ok:
        failure = failed(
            result, "expect_column_pair_values_to_be_equal", ("rank", "rank_min_expected")
        )
        assert failure.sample_rows and all(
            r["rank"] != r["rank_min_expected"] for r in failure.sample_rows
        )


def test_duplicate_city_in_ranking_fails(context_root: Path, params: dict[str, Any]) -> None:
    frame = ranking([1, 2, 3])
    frame = pl.concat([frame, frame.filter(pl.col("city_id") == "c2")])
    result = check("index_ranking", frame, context_root, params)
    failure = failed(result, "expect_compound_columns_to_be_unique", ("city_id", "year"))
    assert {r["city_id"] for r in failure.sample_rows} == {"c2"}


def test_p05_above_median_fails(context_root: Path, params: dict[str, Any]) -> None:
    frame = ranking([1, 2, 3]).with_columns(
        rank_p05=pl.when(pl.col("city_id") == "c1").then(2.5).otherwise(pl.col("rank_p05"))
    )
    result = check("index_ranking", frame, context_root, params)
    failure = failed(
        result, "expect_column_pair_values_a_to_be_greater_than_b", ("median_rank", "rank_p05")
    )
    assert [r["city_id"] for r in failure.sample_rows] == ["c1"]
    assert len(result.failures) == 1


def test_ranked_city_without_score_fails(context_root: Path, params: dict[str, Any]) -> None:
    frame = ranking([1, 2, 3]).with_columns(
        score=pl.when(pl.col("city_id") == "c0").then(None).otherwise(pl.col("score"))
    )
    result = check("index_ranking", frame, context_root, params)
    failure = failed(result, "expect_column_values_to_be_in_set", "ranked_complete")
    assert [r["city_id"] for r in failure.sample_rows] == ["c0"]


def test_rank_change_bound(context_root: Path, params: dict[str, Any]) -> None:
    big = [1, -9, 2]
    result = check("index_ranking", ranking([1, 2, 3], rank_change=big), context_root, params)
    failure = failed(result, "expect_column_values_to_be_between", "rank_change_unexplained")
    assert [(r["city_id"], r["rank_change"]) for r in failure.sample_rows] == [("c1", -9)]
    explained = ranking([1, 2, 3], rank_change=big, change_reason=[None, "new source", None])
    assert check("index_ranking", explained, context_root, params).success


def test_weights_not_summing_to_one_fail(context_root: Path, params: dict[str, Any]) -> None:
    frame = weights().with_columns(
        weight_normalised=pl.when(pl.col("icode") == "m2")
        .then(0.7)
        .otherwise(pl.col("weight_normalised"))
    )
    result = check("index_weights", frame, context_root, params)
    failure = failed(result, "expect_column_values_to_be_between", "parent_weight_error")
    assert {r["parent"] for r in failure.sample_rows} == {"media"}
    assert len(failure.sample_rows) == 2


# ---------------------------------------------------------------------------- engine errors


def test_engine_exception_in_metric_is_a_failure(
    context_root: Path, params: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from great_expectations.expectations.metrics.column_map_metrics import (
        column_values_between as between,
    )

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("injected engine failure")

    monkeypatch.setattr(between.ColumnValuesBetween, "_pandas_vectorized", boom)
    result = check("index_weights", weights(), context_root, params)
    failure = failed(result, "expect_column_values_to_be_between", "weight_normalised")
    assert "injected engine failure" in failure.message


def test_exception_out_of_checkpoint_fails_every_suite(
    context_root: Path, params: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import great_expectations as gx

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("validator crashed")

    monkeypatch.setattr(gx.ValidationDefinition, "run", boom)
    frames = {"index_scores": index_scores(), "index_weights": weights()}
    result = run_checkpoint("edition_crash", frames, params, context_root, None)
    assert not result.success
    assert all(not s.success for s in result.suites)
    assert "validator crashed" in result.summary()
    record = json.loads(json.dumps(result.to_dict()))
    assert record["success"] is False and record["suites"][0]["failed"] == 1


def test_missing_parameter_fails(context_root: Path, params: dict[str, Any]) -> None:
    partial = {k: v for k, v in params.items() if k != "min_city_availability"}
    result = check("indicators", indicators(), context_root, partial)
    assert not result.success
    assert "min_city_availability" in result.failures[0].message


def test_checkpoint_summary_names_failures(context_root: Path, params: dict[str, Any]) -> None:
    frames = good_frames()
    frames["index_scores"] = index_scores().with_columns(score=pl.col("score") + 1)
    result = run_checkpoint(f"edition_{YEAR}", frames, params, context_root, None)
    assert not result.success
    assert result.docs_index is None
    text = result.summary()
    assert "FAILED (1 of 4 suites)" in text
    assert "FAIL index_scores" in text and "PASS indicators" in text
    assert "expect_column_values_to_be_between on score" in text
    assert "row: city_id='a'" in text and "score=101" in text
    record = json.loads(json.dumps(result.to_dict()))
    rows = record["suites"][1]["failures"][0]["sample_rows"]
    assert record["suites"][1]["suite"] == "index_scores" and rows[0]["score"] == 101.0
    print(text)


def test_context_folder_can_be_wiped_between_runs(tmp_path: Path, params: dict[str, Any]) -> None:
    import shutil

    root = tmp_path / "gx"
    assert run_suite("index_weights", weights(), parameters=params, context_root=root).success
    shutil.rmtree(root)
    docs = tmp_path / "docs"
    result = run_suite(
        "index_weights", weights(), parameters=params, context_root=root, docs_dir=docs
    )
    assert result.success and (docs / "index.html").is_file()
    assert (root / "gx" / "great_expectations.yml").is_file()


def test_pillar_expectations_come_from_the_framework(
    context_root: Path, params: dict[str, Any]
) -> None:
    """The ranking suite checks the pillars it is given, one range expectation each: a
    framework with a fourth pillar requires its column, and its out-of-range score fails."""
    document = suite_document("index_ranking", params)
    ranges = [
        e["kwargs"]["column"]
        for e in document["expectations"]
        if e["type"] == "expect_column_values_to_be_between" and e["kwargs"]["column"] in PILLARS
    ]
    assert ranges == list(PILLARS)
    four = {**params, "pillars": [*PILLARS, "culture"]}
    result = check("index_ranking", ranking(), context_root, four)
    assert not result.success
    assert any(f.expectation == "expect_table_columns_to_match_set" for f in result.failures)
    scores = ranking().with_columns(culture=pl.lit(150.0))
    result = check("index_ranking", scores, context_root, four)
    failure = failed(result, "expect_column_values_to_be_between", "culture")
    assert "culture" in failure.message or failure.kwargs.get("column") == "culture"
