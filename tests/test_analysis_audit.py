"""The indicator audit: degenerate and hollow indicators block the release and name themselves;
softer findings become flagged notes. Synthetic data throughout (built here)."""

from __future__ import annotations

import dagster as dg
import duckdb
import numpy as np
import polars as pl
import pytest
from dagster_duckdb import DuckDBResource

from pipelines.analysis.audit import (
    AuditThresholds,
    audit_edition,
    blocking_findings,
    pc1_share,
    variance_shares,
)
from pipelines.validation.audit_check import audit_summary, indicator_audit

N_CITIES = 40
FRAMEWORK = pl.DataFrame(
    {
        "level": [1, 1, 1, 1, 2, 2, 3],
        "icode": ["a1", "a2", "b1", "b2", "A", "B", "index"],
        "weight": [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
        "parent": ["A", "A", "B", "B", "index", "index", None],
    }
)


def synthetic_edition(columns: dict[str, np.ndarray]) -> dict[str, pl.DataFrame]:
    """Indicators (raw = treated), min-max normalised, arithmetic scores, all cities ranked."""
    cities = [f"city{i:02d}" for i in range(N_CITIES)]
    rows, normalised = [], {}
    for code, raw in columns.items():
        lo, hi = np.nanmin(raw), np.nanmax(raw)
        normalised[code] = (raw - lo) / (hi - lo) * 100 if hi > lo else np.full_like(raw, np.nan)
        for city, r, n in zip(cities, raw, normalised[code], strict=True):
            value = None if np.isnan(r) else float(r)
            rows.append((city, code, value, value, None if np.isnan(n) else float(n)))
    indicators = pl.DataFrame(
        rows,
        schema=["city_id", "icode", "raw_value", "treated_value", "normalised_value"],
        orient="row",
    )
    pillar_a = np.nanmean(np.column_stack([normalised["a1"], normalised["a2"]]), axis=1)
    pillar_b = np.nanmean(np.column_stack([normalised["b1"], normalised["b2"]]), axis=1)
    index = (pillar_a + pillar_b) / 2
    scores = pl.DataFrame(
        [
            (city, code, level, float(value))
            for code, level, values in (("A", 2, pillar_a), ("B", 2, pillar_b), ("index", 3, index))
            for city, value in zip(cities, values, strict=True)
        ],
        schema=["city_id", "icode", "level", "score"],
        orient="row",
    )
    return {
        "indicators": indicators,
        "scores": scores,
        "ranked": pl.DataFrame({"city_id": cities}),
        "framework": FRAMEWORK,
    }


def healthy_columns(seed: int = 7) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    base = rng.normal(size=N_CITIES)
    return {
        "a1": base + rng.normal(scale=0.5, size=N_CITIES),
        "a2": base + rng.normal(scale=0.5, size=N_CITIES),
        "b1": base + rng.normal(scale=0.7, size=N_CITIES),
        "b2": base + rng.normal(scale=0.7, size=N_CITIES),
    }


def row(audit: pl.DataFrame, code: str) -> dict:
    return audit.filter(pl.col("code") == code).to_dicts()[0]


def test_healthy_indicators_pass_with_their_statistics() -> None:
    audit = audit_edition(**synthetic_edition(healthy_columns()))
    assert blocking_findings(audit) == []
    a1 = row(audit, "a1")
    assert a1["coverage"] == 1.0 and a1["distinct_values"] == N_CITIES
    assert a1["modal_share"] == pytest.approx(1 / N_CITIES)
    assert a1["r_pillar"] > 0.8 and a1["r_index"] > 0.5
    pillar = row(audit, "A")
    assert pillar["cronbach_alpha"] > 0.7
    assert 0.5 < pillar["pc1_variance_share"] <= 1.0
    shares = audit.filter(pl.col("kind") == "pillar")["index_variance_share"]
    assert shares.sum() == pytest.approx(1.0)  # arithmetic mean: the shares add up


def test_two_valued_indicator_blocks_and_names_its_numbers() -> None:
    columns = healthy_columns()
    columns["a2"] = np.where(np.arange(N_CITIES) == 3, 35.0, 34.0)  # media_reach's failure
    audit = audit_edition(**synthetic_edition(columns))
    found = row(audit, "a2")
    assert found["status"] == "block"
    assert found["distinct_values"] == 2
    assert found["modal_value"] == 34.0
    assert "a2 takes only 2 distinct values among 40 cities (minimum 5)" in found["findings"]
    assert "the same value (34) for 39 of 40 cities (97.5%)" in found["findings"]
    assert [r["code"] for r in audit.filter(pl.col("status") == "block").to_dicts()] == ["a2"]


def test_low_coverage_blocks_and_names_its_numbers() -> None:
    columns = healthy_columns()
    columns["b1"][:6] = np.nan  # 34 of 40 = 85 %
    audit = audit_edition(**synthetic_edition(columns))
    found = row(audit, "b1")
    assert found["status"] == "block"
    assert found["coverage"] == pytest.approx(0.85)
    assert (
        "b1 has a value for 34 of 40 ranked cities (85.0%), below the 90% minimum."
        in (found["findings"])
    )
    passed, summary = audit_summary(audit.with_columns(pl.lit(2025).alias("year")), 2025)
    assert not passed and "- b1: b1 has a value for 34 of 40" in summary


def test_thresholds_come_from_configuration() -> None:
    columns = healthy_columns()
    columns["b1"][:6] = np.nan
    lenient = AuditThresholds(min_coverage=0.8)
    assert blocking_findings(audit_edition(**synthetic_edition(columns), thresholds=lenient)) == []


def test_negative_alpha_and_a_pillar_that_matters_little_are_flagged_not_blocking() -> None:
    rng = np.random.default_rng(3)
    base = rng.normal(size=N_CITIES)
    columns = {
        "a1": base + rng.normal(scale=0.3, size=N_CITIES),
        "a2": base + rng.normal(scale=0.3, size=N_CITIES),
        "b1": rng.normal(size=N_CITIES),
        "b2": -np.asarray(rng.normal(size=N_CITIES)),
    }
    columns["b2"] = -columns["b1"] + rng.normal(scale=0.3, size=N_CITIES)  # opposite directions
    audit = audit_edition(**synthetic_edition(columns))
    pillar_b = row(audit, "B")
    assert pillar_b["cronbach_alpha"] < 0
    assert pillar_b["status"] == "flag"
    assert "Cronbach's alpha is" in pillar_b["findings"]
    assert "matters less in the ranking than its weight says" in pillar_b["findings"]
    assert blocking_findings(audit) == []


def test_pc1_share_and_variance_shares_on_known_cases() -> None:
    x = np.arange(10, dtype=float)
    assert pc1_share(np.column_stack([x, 2 * x])) == pytest.approx(1.0)
    assert pc1_share(np.column_stack([x, -x])) == pytest.approx(1.0)  # sign does not matter
    pillars = np.column_stack([x, np.zeros(10) + 5])
    shares = variance_shares(pillars, pillars.mean(axis=1), np.array([1.0, 1.0]))
    assert shares.tolist() == pytest.approx([1.0, 0.0])


def test_the_asset_check_blocks_a_degenerate_indicator_and_stops_downstream(tmp_path) -> None:
    """The registered blocking check on a real DuckDB file in a real Dagster run: it fails,
    its message names the indicator and numbers, and the asset after it does not run."""
    columns = healthy_columns()
    columns["a2"] = np.where(np.arange(N_CITIES) == 3, 35.0, 34.0)
    audit = audit_edition(**synthetic_edition(columns)).with_columns(pl.lit(2025).alias("year"))
    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("create schema analysis")
        con.register("incoming", audit.to_arrow())
        con.execute("create table analysis.audit as select * from incoming")
    partitions = dg.StaticPartitionsDefinition(["2025"])
    released = []

    @dg.asset(name="index_analysis", partitions_def=partitions)
    def analysis_stand_in() -> None:
        """Stands in for the analysis asset: the check reads only analysis.audit."""

    @dg.asset(deps=["index_analysis"], partitions_def=partitions)
    def release_stand_in() -> None:
        released.append(True)

    result = dg.materialize(
        [analysis_stand_in, release_stand_in, indicator_audit],
        partition_key="2025",
        resources={"warehouse": DuckDBResource(database=str(database))},
        raise_on_error=False,
    )
    assert not result.success
    evaluation = result.get_asset_check_evaluations()[0]
    assert evaluation.check_name == "indicator_audit" and not evaluation.passed
    summary = evaluation.metadata["summary"].value
    assert "- a2: a2 takes only 2 distinct values among 40 cities" in summary
    assert released == []


def test_run_configuration_defaults_are_the_audit_thresholds() -> None:
    """The thresholds a run can set (index_analysis's config) start from the documented
    defaults, and every one of them reaches the audit."""
    from pipelines.analysis.assets import AuditConfig

    assert AuditThresholds(**AuditConfig().model_dump()) == AuditThresholds()
    assert set(AuditConfig.model_fields) == set(AuditThresholds().as_dict())
