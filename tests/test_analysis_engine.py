"""The numpy engine reproduces COINr's ASEM build and is consistent when vectorised."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from scipy import stats

from pipelines.analysis.engine_numpy import (
    aggregate,
    compile_framework,
    compute,
    dense_values,
    normalise,
    rank_desc,
)
from pipelines.index.compute import read_framework
from pipelines.index.compute_inputs import framework_frame
from tests.reference_data import COINR_ASEM_DIR as COINR


@pytest.fixture(scope="module")
def asem():
    fw = compile_framework(framework_frame(read_framework(COINR / "inputs_iMeta.csv")))
    data = pl.read_csv(COINR / "inputs_iData.csv")
    units = data["uCode"].to_list()
    values = data.select(fw.indicator_codes).to_numpy().astype(float)
    return fw, units, values


def _reference(name: str) -> dict[tuple[str, str], float | None]:
    ref = pl.read_csv(COINR / name)
    return {(u, c): v for u, c, _lvl, _ln, v in ref.iter_rows()}


def test_framework_is_compiled_by_level(asem) -> None:
    fw, _units, _values = asem
    assert fw.n_indicators == 49 and len(fw.codes) == 49 + 8 + 2 + 1
    assert fw.codes[fw.top_index()] == "Index"
    assert all(fw.levels[fw.parent[i]] == fw.levels[i] + 1 for i in range(len(fw.codes) - 1))
    assert (fw.direction[: fw.n_indicators] == -1).sum() == 14


def test_minmax_amean_reproduces_coinr_scores_every_level(asem) -> None:
    fw, units, values = asem
    scores, _ranks = compute(values, fw)
    ref = _reference("A_scores_long.csv")
    assert len(ref) == len(units) * len(fw.codes)
    worst = 0.0
    for (u, c), v in ref.items():
        got = scores[units.index(u), fw.index_of(c)]
        if v is None:
            assert math.isnan(got), (u, c)
        else:
            worst = max(worst, abs(got - v))
    assert worst < 1e-9


def test_normalised_indicators_match_coinr(asem) -> None:
    fw, units, values = asem
    norm = normalise(values, fw)
    for (u, c), v in _reference("A_normalised_long.csv").items():
        got = norm[units.index(u), fw.index_of(c)]
        assert math.isnan(got) if v is None else abs(got - v) < 1e-9, (u, c)


def test_ranks_match_coinr_exactly(asem) -> None:
    fw, units, values = asem
    _scores, ranks = compute(values, fw)
    top = fw.top_index()
    index_ranks = pl.read_csv(COINR / "A_index_ranks.csv")
    for u, _score, r in index_ranks.iter_rows():
        assert ranks[units.index(u), top] == r
    for (u, c), r in _reference("A_ranks_long.csv").items():
        got = ranks[units.index(u), fw.index_of(c)]
        assert math.isnan(got) if r is None else got == r, (u, c)


def test_batched_weights_equal_one_at_a_time(asem) -> None:
    fw, _units, values = asem
    rng = np.random.default_rng(1)
    w = fw.weight[None, :] * rng.uniform(0.5, 1.5, size=(7, len(fw.codes)))
    level1 = normalise(values, fw, "minmax", (1.0, 100.0))
    for method in ("amean", "gmean"):
        batched = aggregate(level1, fw, w, method)
        assert batched.shape == (7, values.shape[0], len(fw.codes))
        for r in range(7):
            np.testing.assert_allclose(batched[r], aggregate(level1, fw, w[r], method), rtol=1e-13)


def _tiny():
    framework = pl.DataFrame(
        {
            "level": [1, 1, 1, 2, 2, 3],
            "icode": ["a", "b", "c", "P", "Q", "I"],
            "direction": [1, -1, 1, 1, 1, 1],
            "weight": [1.0, 3.0, 2.0, 1.0, 1.0, 1.0],
            "parent": ["P", "P", "Q", "I", "I", None],
            "type": ["Indicator"] * 3 + ["Aggregate"] * 3,
        }
    )
    return compile_framework(framework)


def test_gmean_and_amean_by_hand_with_missing_children() -> None:
    fw = _tiny()
    x = np.array([[2.0, 8.0, 5.0], [np.nan, 4.0, np.nan], [np.nan, np.nan, np.nan]])
    g = aggregate(x, fw, method="gmean")
    p = fw.index_of("P")
    assert g[0, p] == pytest.approx(math.exp((math.log(2) + 3 * math.log(8)) / 4))
    assert g[1, p] == pytest.approx(4.0)  # weight renormalised over the present child
    assert math.isnan(g[2, p]) and math.isnan(g[2, fw.top_index()])
    assert math.isnan(g[1, fw.index_of("Q")])
    assert g[1, fw.top_index()] == pytest.approx(4.0)  # one present child is enough
    a = aggregate(x, fw, method="amean")
    assert a[0, p] == pytest.approx((2 + 3 * 8) / 4)
    assert a[0, fw.top_index()] == pytest.approx(((2 + 24) / 4 + 5) / 2)
    with pytest.raises(ValueError, match="positive"):
        aggregate(np.array([[0.0, 1.0, 1.0]]), fw, method="gmean")


def test_zscore_and_minmax_directions() -> None:
    fw = _tiny()
    rng = np.random.default_rng(5)
    x = rng.normal(size=(9, 3))
    x[2, 0] = np.nan
    z = normalise(x, fw, "zscore")
    for j, d in enumerate([1, -1, 1]):
        col = x[:, j] * d
        ok = ~np.isnan(col)
        np.testing.assert_allclose(z[ok, j], stats.zscore(col[ok], ddof=1))
    assert math.isnan(z[2, 0])
    m = normalise(x, fw, "minmax", (1.0, 100.0))
    assert np.nanmin(m, axis=0) == pytest.approx([1, 1, 1])
    assert np.nanmax(m, axis=0) == pytest.approx([100, 100, 100])
    assert np.nanargmax(m[:, 1]) == np.argmin(x[:, 1])  # direction -1 flips
    const = normalise(np.ones((4, 3)), fw)
    assert np.isnan(const).all()  # 0/0 as in COINr


def test_ranks_min_ties_and_missing() -> None:
    r = rank_desc(np.array([5.0, 7.0, 7.0, np.nan, 1.0]))
    np.testing.assert_array_equal(r, [3.0, 1.0, 1.0, np.nan, 4.0])
    rng = np.random.default_rng(2)
    x = rng.integers(0, 6, size=(20, 13)).astype(float)
    x[rng.random(x.shape) < 0.1] = np.nan
    got = rank_desc(x, axis=-1)
    for row, g in zip(x, got, strict=True):
        ok = ~np.isnan(row)
        np.testing.assert_array_equal(g[ok], stats.rankdata(-row[ok], method="min"))
        assert np.isnan(g[~ok]).all()
    np.testing.assert_array_equal(rank_desc(x.T, axis=0), got.T)


def test_dense_values_from_long() -> None:
    fw = _tiny()
    long = pl.DataFrame(
        {"unit_code": ["x", "y", "x"], "icode": ["a", "c", "c"], "value": [1.0, 2.0, None]}
    )
    values, units = dense_values(long, fw)
    assert units == ["x", "y"]
    np.testing.assert_array_equal(values, [[1.0, np.nan, np.nan], [np.nan, np.nan, 2.0]])
