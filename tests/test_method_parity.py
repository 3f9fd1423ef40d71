"""One method, two engines: the Monte Carlo's numpy engine reproduces the dbt engine for every
option of the method, and its nominal replication is the published ranking.

The data are synthetic (generated here, seeded): 45 units, two pillars of three indicators,
missing values, a heavy-tailed indicator that the COINr treatment winsorises or logs, and two
units below the screening threshold. Each option runs the real dbt engine once through
`city-index compute` (the same models as the edition) and the Monte Carlo's nominal path
(`pipelines.analysis.uncertainty.nominal_ranks`) on the same inputs.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml

from pipelines.analysis.engine_numpy import compile_framework, rank_desc
from pipelines.analysis.uncertainty import _nominal_index, _setup, monte_carlo_ranks, nominal_ranks
from pipelines.index.compute import EngineConfig, compute
from pipelines.index.dbt_runner import PROJECT_DIR
from pipelines.index.method import (
    MethodConfig,
    MethodError,
    load_method,
    method_vars,
    score_range,
)

TOL = 1e-9
N_UNITS = 45
INDICATORS = ("a1", "a2", "a3", "b1", "b2", "b3")
FRAMEWORK = pl.DataFrame(
    {
        "Level": [1, 1, 1, 1, 1, 1, 2, 2, 3],
        "iCode": [*INDICATORS, "A", "B", "Index"],
        "iName": [*INDICATORS, "A", "B", "Index"],
        "Direction": [1, 1, -1, 1, 1, 1, 1, 1, 1],
        "Weight": [0.5, 0.3, 0.2, 0.4, 0.4, 0.2, 1.0, 1.0, 1.0],
        "Parent": ["A", "A", "A", "B", "B", "B", "Index", "Index", None],
        "Type": ["Indicator"] * 6 + ["Aggregate"] * 3,
    }
)
SCREENED_OUT = ("u43", "u44")  # two thirds of their indicators missing

METHODS = {
    "default": MethodConfig(),
    "untreated": MethodConfig(treat="none"),
    "mean imputation": MethodConfig(impute="mean"),
    "zscore": MethodConfig(normalise="zscore"),
    "gmean": MethodConfig(aggregate="gmean", range_lower=1.0),
    "weights": MethodConfig(weights={"A": 3.0, "b2": 0.1}),
    "no screening": MethodConfig(screen_threshold=0.0),
}


def synthetic_data() -> pl.DataFrame:
    rng = np.random.default_rng(2025)
    base = rng.normal(size=N_UNITS)
    data = {
        "a1": np.exp(2.0 * base + rng.normal(scale=0.6, size=N_UNITS)),  # heavy tail: treated
        "a2": base + rng.normal(scale=0.8, size=N_UNITS),
        "a3": -base + rng.normal(scale=0.8, size=N_UNITS),  # direction -1
        "b1": rng.gamma(1.0, 10.0, size=N_UNITS),
        "b2": base + rng.normal(scale=1.0, size=N_UNITS),
        "b3": np.round(rng.normal(50, 10, size=N_UNITS)),  # ties for the ranks
    }
    data["a1"][-1] *= 40  # one extreme outlier
    frame = pl.DataFrame({"uCode": [f"u{i:02d}" for i in range(N_UNITS)], **data})
    missing = {"a2": [3, 17], "b1": [8], "b3": [20, 21]}
    for code, rows in missing.items():
        frame = frame.with_columns(
            pl.when(pl.int_range(pl.len()).is_in(rows))
            .then(None)
            .otherwise(pl.col(code))
            .alias(code)
        )
    out = pl.col("uCode").is_in(SCREENED_OUT)
    return frame.with_columns(
        *[pl.when(out).then(None).otherwise(pl.col(c)).alias(c) for c in ("a1", "a2", "b1", "b2")]
    )


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory, pipeline_home: Path) -> dict:
    folder = tmp_path_factory.mktemp("parity")
    data = synthetic_data()
    data.write_csv(folder / "data.csv")
    return {"folder": folder, "data": data}


def framework_with(method: MethodConfig) -> pl.DataFrame:
    """The framework the engine computes: weights replaced as the method says."""
    return FRAMEWORK.with_columns(
        pl.col("iCode").replace_strict(method.weights, default=pl.col("Weight")).alias("Weight")
    )


def dbt_index(inputs: dict, name: str, method: MethodConfig) -> pl.DataFrame:
    """The dbt engine's index (uCode, value, rank) for the method, via `city-index compute`
    (weights through the dbt var, as the edition's build passes them)."""
    folder = inputs["folder"] / name.replace(" ", "_")
    folder.mkdir()
    FRAMEWORK.write_csv(folder / "meta.csv")
    engine = EngineConfig(**method.as_dict())
    scores = pl.read_csv(
        compute(folder / "meta.csv", inputs["folder"] / "data.csv", folder, engine)
    )
    return scores.filter(pl.col("iCode") == "Index").select("uCode", "value", "rank").sort("uCode")


def screened_in(data: pl.DataFrame, threshold: float) -> pl.DataFrame:
    """The units the engine ranks (COINr byNA screening), as index_analysis reads them."""
    available = data.select(INDICATORS).select(
        (1 - pl.sum_horizontal(pl.all().is_null()) / len(INDICATORS)).alias("availability")
    )["availability"]
    return data.filter(available >= threshold)


@pytest.mark.parametrize("name", list(METHODS))
def test_numpy_engine_equals_dbt_engine(inputs: dict, name: str) -> None:
    method = METHODS[name]
    published = dbt_index(inputs, name, method)
    data = screened_in(inputs["data"], method.screen_threshold)
    values = data.select(INDICATORS).to_numpy().astype(float)
    units = data["uCode"].to_list()
    fw = compile_framework(framework_with(method))
    scores = _nominal_index(_setup(fw, values, units, (5,), method))
    ranked = published.filter(pl.col("uCode").is_in(units))
    assert ranked["uCode"].to_list() == units
    np.testing.assert_allclose(scores, ranked["value"].to_numpy(), rtol=0, atol=TOL)
    assert rank_desc(scores).tolist() == ranked["rank"].cast(pl.Float64).to_list()
    assert nominal_ranks(fw, values, units, method).tolist() == rank_desc(scores).tolist()
    low, high = score_range(method, N_UNITS)  # what the validation gate accepts
    assert low <= ranked["value"].min() and ranked["value"].max() <= high


def test_score_range_bounds_are_tight() -> None:
    """One unit far from n - 1 equal others reaches the z-score bound (n - 1) / sqrt(n)."""
    n = 20
    x = np.r_[np.zeros(n - 1), 1.0]
    z = (x - x.mean()) / x.std(ddof=1)
    low, high = score_range(MethodConfig(normalise="zscore"), n)
    assert z.max() == pytest.approx(high) and z.max() <= high and low == -high
    gmean = MethodConfig(aggregate="gmean", range_lower=1.0)
    assert 100 < score_range(gmean, n)[1] < 100 + 1e-6


@pytest.mark.parametrize("name", ["default", "gmean", "zscore"])
def test_monte_carlo_is_centred_on_the_published_ranks(inputs: dict, name: str) -> None:
    """Its nominal replication is the dbt ranking, and every published rank lies inside the
    city's 5-95 % interval."""
    method = METHODS[name]
    published = dbt_index(inputs, f"mc {name}", method)
    data = screened_in(inputs["data"], method.screen_threshold)
    intervals = monte_carlo_ranks(
        compile_framework(framework_with(method)),
        data.select(INDICATORS).to_numpy().astype(float),
        data["uCode"].to_list(),
        n_reps=400,
        seed=11,
        method=method,
    ).join(published.rename({"uCode": "unit_code"}), on="unit_code")
    assert intervals.height == N_UNITS - len(SCREENED_OUT)
    assert (intervals["nominal_rank"] == intervals["rank"]).all()
    outside = intervals.filter(
        (pl.col("rank") < pl.col("rank_p05")) | (pl.col("rank") > pl.col("rank_p95"))
    )
    assert outside.is_empty(), outside


def test_the_intervals_follow_the_method(inputs: dict) -> None:
    """The Monte Carlo is centred on the method: weights, imputation and the aggregation the
    method uses each move the intervals, not only the nominal (published) ranks."""
    data = screened_in(inputs["data"], 0.66)
    values = data.select(INDICATORS).to_numpy().astype(float)
    units = data["uCode"].to_list()

    def run(method: MethodConfig) -> pl.DataFrame:
        fw = compile_framework(framework_with(method))
        return monte_carlo_ranks(fw, values, units, n_reps=200, seed=3, method=method)

    interval = ["median_rank", "rank_p05", "rank_p95"]
    default = run(METHODS["default"])
    for name in ("weights", "mean imputation", "gmean"):
        assert not run(METHODS[name]).select(interval).equals(default.select(interval)), name
    assert not run(METHODS["gmean"])["nominal_rank"].equals(default["nominal_rank"])


def test_defaults_are_the_dbt_project_vars() -> None:
    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    assert {k: project[k] for k in method_vars(MethodConfig())} == method_vars(MethodConfig())


def test_invalid_methods_are_refused_naming_the_setting(tmp_path: Path) -> None:
    with pytest.raises(MethodError, match="aggregate gmean needs positive values"):
        MethodConfig(aggregate="gmean")
    with pytest.raises(MethodError, match="normalise must be one of"):
        MethodConfig(normalise="rank")
    with pytest.raises(MethodError, match="weights: media must be a positive number"):
        MethodConfig(weights={"media": -1})
    bad = tmp_path / "method.yaml"
    bad.write_text("aggregate: gmean\nrange_lower: 1\nwinmax: 3\n")
    with pytest.raises(MethodError, match=r"method.yaml: unknown setting\(s\) winmax"):
        load_method(bad)
    bad.write_text("aggregate: gmean\nrange_lower: 1\n")
    assert load_method(bad) == replace(MethodConfig(), aggregate="gmean", range_lower=1.0)
