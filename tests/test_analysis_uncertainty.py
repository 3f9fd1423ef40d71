"""Monte Carlo rank intervals, Sobol sensitivity indices and rank-change significance."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from pipelines.analysis import uncertainty
from pipelines.analysis.engine_numpy import compile_framework, compute, normalise, rank_desc
from pipelines.analysis.uncertainty import (
    change_significance,
    monte_carlo_ranks,
    sensitivity_indices,
)
from pipelines.index.treatment import treat_coinr
from tests.reference_data import COINR_ASEM_DIR as COINR


@pytest.fixture(scope="module")
def asem():
    meta = pl.read_csv(COINR / "inputs_iMeta.csv")  # COINr column names are accepted
    fw = compile_framework(meta)
    data = pl.read_csv(COINR / "inputs_iData.csv")
    units = data["uCode"].to_list()
    values = data.select(fw.indicator_codes).to_numpy().astype(float)
    return meta, fw, units, values


def test_no_uncertainty_gives_coinr_ranks(asem) -> None:
    meta, _fw, units, values = asem
    mc = monte_carlo_ranks(
        meta,
        values,
        units,
        n_reps=20,
        weight_perturbation=0.0,
        treat_options=(False,),
        normalisations=("minmax",),
        aggregations=("amean",),
        nominal_treat=False,
    )
    coinr = dict(pl.read_csv(COINR / "A_index_ranks.csv").select("uCode", "Rank").iter_rows())
    for row in mc.iter_rows(named=True):
        expected = coinr[row["unit_code"]]
        assert row["nominal_rank"] == expected
        assert row["median_rank"] == row["rank_p05"] == row["rank_p95"] == expected


def test_intervals_are_ordered_seeded_and_reproducible(asem) -> None:
    meta, fw, units, values = asem
    a = monte_carlo_ranks(meta, values, units, n_reps=300, seed=7)
    b = monte_carlo_ranks(meta, values, units, n_reps=300, seed=7)
    c = monte_carlo_ranks(meta, values, units, n_reps=300, seed=8)
    assert a.equals(b)
    assert not a.equals(c)
    assert a.columns == ["unit_code", "median_rank", "rank_p05", "rank_p95", "nominal_rank"]
    assert a["unit_code"].to_list() == units
    assert (a["rank_p05"] <= a["median_rank"]).all()
    assert (a["median_rank"] <= a["rank_p95"]).all()
    assert a["rank_p05"].min() >= 1 and a["rank_p95"].max() <= len(units)
    assert (a["rank_p95"] - a["rank_p05"]).max() > 0  # the assumptions do move ranks
    # nominal = treated (winmax 5), min-max [0, 100], arithmetic mean, nominal weights
    long = pl.DataFrame(
        {
            "unit_code": np.repeat(units, values.shape[1]).tolist(),
            "year": 0,
            "icode": list(fw.indicator_codes) * len(units),
            "value": values.reshape(-1),
        }
    )
    treated, _ = treat_coinr(long)
    tv = treated["value"].fill_null(np.nan).to_numpy().reshape(values.shape)
    _s, ranks = compute(tv, fw)
    assert a["nominal_rank"].to_list() == ranks[:, fw.top_index()].astype(int).tolist()


def test_treatment_is_computed_once_per_winsorisation_limit(asem, monkeypatch) -> None:
    meta, _fw, units, values = asem
    calls: list[int] = []

    def counting(long, **kw):
        calls.append(kw["winmax"])
        return treat_coinr(long, **kw)

    monkeypatch.setattr(uncertainty, "treat_coinr", counting)
    monte_carlo_ranks(meta, values, units, n_reps=400, winsor_points=(1, 3, 5))
    assert sorted(calls) == [1, 3, 5]


def test_gmean_replaces_zscore_by_minmax_1_100(asem) -> None:
    meta, fw, units, values = asem
    mc = monte_carlo_ranks(
        meta,
        values,
        units,
        n_reps=5,
        weight_perturbation=0.0,
        treat_options=(False,),
        normalisations=("zscore",),
        aggregations=("gmean",),
    )
    _s, ranks = compute(
        values, fw, normalisation="minmax", norm_params=(1.0, 100.0), aggregation="gmean"
    )
    assert mc["median_rank"].to_list() == ranks[:, fw.top_index()].tolist()


def test_vectorised_evaluation_equals_per_configuration_engine(asem) -> None:
    _meta, fw, units, values = asem
    ctx = uncertainty._setup(fw, values, units, (2, 5))
    rng = np.random.default_rng(3)
    n = 24
    variant = rng.integers(0, 3, size=n)  # 0 raw, 1 winmax 2, 2 winmax 5
    norm = rng.integers(0, 2, size=n)  # minmax, zscore
    agg = rng.integers(0, 2, size=n)
    w = fw.weight[None, :] * rng.uniform(0.75, 1.25, size=(n, len(fw.codes)))
    got = uncertainty._evaluate(ctx, variant, norm, agg, w, chunk=5)
    for r in range(n):
        data = ctx.variant(int(variant[r]))
        if agg[r] == 1:
            method, params = "minmax", (1.0, 100.0)
        else:
            method, params = ("minmax", (0.0, 100.0)) if norm[r] == 0 else ("zscore", (0.0, 1.0))
        scores, _ = compute(
            data,
            fw,
            normalisation=method,
            norm_params=params,
            aggregation=("amean", "gmean")[agg[r]],
            weights=w[r],
        )
        np.testing.assert_allclose(got[r], scores[:, fw.top_index()], rtol=1e-12)
    # the treated variants really are the treated data
    assert not np.array_equal(ctx.variant(2), values, equal_nan=True)
    np.testing.assert_array_equal(
        rank_desc(normalise(ctx.variant(0), fw)[:, 0]), rank_desc(normalise(values, fw)[:, 0])
    )


def test_sensitivity_isolates_the_only_uncertain_assumption(asem) -> None:
    meta, _fw, units, values = asem
    si = sensitivity_indices(
        meta,
        values,
        units,
        n_base=64,
        weight_perturbation=0.0,
        treat_options=(False,),
        normalisations=("minmax",),
        aggregations=("amean", "gmean"),
        winsor_points=(5,),
    )
    assert si["assumption"].to_list() == ["weights", "treatment", "normalisation", "aggregation"]
    row = {a: (f, t) for a, f, t in si.iter_rows()}
    for name in ("weights", "treatment", "normalisation"):
        assert row[name] == (0.0, 0.0)
    assert row["aggregation"][0] > 0.9 and row["aggregation"][1] > 0.9


def test_sensitivity_full_design_is_bounded(asem) -> None:
    meta, _fw, units, values = asem
    si = sensitivity_indices(meta, values, units, n_base=64)
    assert si["assumption"].to_list() == [
        "weights",
        "treatment",
        "winsorisation_limit",
        "normalisation",
        "aggregation",
    ]
    assert si["total_order"].is_not_null().all()
    assert (si["total_order"] > -0.1).all() and (si["total_order"] < 1.5).all()
    assert si["total_order"].max() > 0.1


@pytest.mark.parametrize(
    ("prev", "rank", "p05", "p95", "expected"),
    [
        (10, 4, 3.0, 6.0, True),  # previous rank above the interval
        (2, 5, 3.0, 6.0, True),  # below
        (5, 4, 3.0, 6.0, False),  # inside
        (3, 4, 3.0, 6.0, False),  # on the boundary counts as inside
        (6, 4, 3.0, 6.0, False),
        (None, 4, 3.0, 6.0, False),  # new entry: no change to judge
        (10, 10, 3.0, 6.0, False),  # no change at all
        (10, 4, None, 6.0, False),
        (10, 4, float("nan"), 6.0, False),
    ],
)
def test_change_significance(prev, rank, p05, p95, expected) -> None:
    assert change_significance(prev, rank, p05, p95) is expected
