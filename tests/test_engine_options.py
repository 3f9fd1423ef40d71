"""Every option of the dbt engine (`city-index compute`) against COINr's documented semantics.

Each build runs the dbt engine once on COINr's ASEM example (module-scoped fixtures: a dbt run
costs seconds) and is compared, to 1e-9 with identical ranks, with an independent computation
written here from `tests/data/coinr/README.md`: numpy formulas for screening, imputation
and normalisation, `pipelines.index.treatment.treat_coinr` for the outlier rule and
`pipelines.analysis.engine_numpy` for aggregation and ranks. COINr's order of steps is screen,
impute, treat, normalise, aggregate, each per year (coin) except panel normalisation.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from pipelines.analysis.engine_numpy import (
    Framework,
    aggregate,
    compile_framework,
    dense_values,
    rank_desc,
)
from pipelines.index.compute import EngineConfig, compute
from pipelines.index.dbt_runner import DbtRunError
from pipelines.index.treatment import treat_coinr
from tests.reference_data import COINR_ASEM_DIR as COINR

META = COINR / "inputs_iMeta.csv"
CROSS = COINR / "inputs_iData.csv"  # one year, 63 missing values
PANEL = COINR / "inputs_iData_p.csv"  # 2018-2022
TOL = 1e-9
CONSTANT = "Forest"  # made constant in the range build
NO_GROUP = ("KOR", 2020)  # GDP_group blanked in the combined build (with NO_GROUP_PEER's)
NO_GROUP_PEER = "AUT"  # has every value, so a "missing group" mean would impute KOR
SCREENED_OUT = {"BRN", "LAO", "MMR", "BGD", "KHM"}  # 5 or more of 49 indicators missing
KEYS = ["uCode", "year", "iCode"]


@dataclass(frozen=True)
class Reference:
    """Options of the reference computation (COINr function names in comments)."""

    screen: float = 0.0  # Screen(unit_screen = "byNA", dat_thresh)
    impute: str = "none"  # Impute(f_i = "i_mean" | "i_mean_grp", use_group)
    treat: bool = False  # Treat() with its defaults
    normalise: str = "minmax"  # n_minmax per coin | n_minmax with global = TRUE | n_zscore
    l_u: tuple[float, float] = (0.0, 100.0)
    aggregate: str = "amean"  # a_amean | a_gmean


# -- the independent computation ---------------------------------------------------------------


def _read(path: Path, fw: Framework) -> pl.DataFrame:
    data = pl.read_csv(path, null_values=["NA"], infer_schema_length=None)
    year = pl.col("Time").cast(pl.Int64) if "Time" in data.columns else pl.lit(0, pl.Int64)
    return data.with_columns(
        year.alias("year"), *[pl.col(c).cast(pl.Float64) for c in fw.indicator_codes]
    )


def reference(path: Path, fw: Framework, opt: Reference) -> pl.DataFrame:
    """uCode, year, iCode, value, rank for every unit, year and code (unranked: nulls)."""
    data = _read(path, fw)
    blocks = []  # (year, all units, kept mask, values[kept unit, indicator])
    for year in sorted(data["year"].unique().to_list()):
        rows = data.filter(pl.col("year") == year)
        x = rows.select(fw.indicator_codes).to_numpy().astype(float)
        availability = 1 - np.isnan(x).sum(axis=1) / x.shape[1]
        keep = availability >= opt.screen
        x = x[keep]
        if opt.impute == "mean":
            x = np.where(np.isnan(x), np.nanmean(x, axis=0, keepdims=True), x)
        elif opt.impute.startswith("group_mean:"):
            groups = np.array(rows[opt.impute.split(":", 1)[1]].to_list(), dtype=object)[keep]
            filled = x.copy()
            for g in {g for g in groups if g is not None}:
                members = groups == g
                with _quiet():  # a group with no present value keeps its missing values
                    mean = np.nanmean(x[members], axis=0)
                filled[members] = np.where(np.isnan(x[members]), mean, x[members])
            x = filled
        blocks.append((year, rows["uCode"].to_list(), keep, x))

    if opt.treat:
        long = pl.concat(
            pl.DataFrame(
                {
                    "unit_code": np.repeat(np.array(units)[keep], fw.n_indicators),
                    "year": np.full(x.size, year, dtype=np.int64),
                    "icode": np.tile(fw.indicator_codes, x.shape[0]),
                    "value": x.ravel(),
                }
            )
            for year, units, keep, x in blocks
        )
        treated, _log = treat_coinr(long)
        blocks = [
            (
                year,
                units,
                keep,
                dense_values(
                    treated.filter(pl.col("year") == year), fw, list(np.array(units)[keep])
                )[0],
            )
            for year, units, keep, x in blocks
        ]

    lower, upper = opt.l_u
    direction = fw.direction[: fw.n_indicators]
    if opt.normalise == "minmax_panel":  # min and max pooled over every year's rows
        pooled = np.vstack([x for _y, _u, _k, x in blocks]) * direction
        pooled_min, pooled_max = np.nanmin(pooled, axis=0), np.nanmax(pooled, axis=0)
    out = []
    for year, units, keep, x in blocks:
        x = x * direction
        with np.errstate(invalid="ignore", divide="ignore"):
            if opt.normalise == "zscore":  # n_zscore, m_sd = c(0, 1): sample sd
                n = (~np.isnan(x)).sum(axis=0)
                mean = np.nansum(x, axis=0) / n
                sd = np.sqrt(np.nansum((x - mean) ** 2, axis=0) / (n - 1))
                level1 = (x - mean) / sd
            else:
                if opt.normalise == "minmax_panel":
                    mn, mx = pooled_min, pooled_max
                else:
                    mn, mx = np.nanmin(x, axis=0), np.nanmax(x, axis=0)
                level1 = (x - mn) / (mx - mn) * (upper - lower) + lower
        level1 = np.where(np.isfinite(level1), level1, np.nan)  # 0/0 (constant) -> NaN
        scores = aggregate(level1, fw, method=opt.aggregate)
        ranks = rank_desc(scores, axis=-2)
        full_scores = np.full((len(units), len(fw.codes)), np.nan)
        full_ranks = np.full((len(units), len(fw.codes)), np.nan)
        full_scores[keep], full_ranks[keep] = scores, ranks
        out.append(
            pl.DataFrame(
                {
                    "uCode": np.repeat(units, len(fw.codes)),
                    "year": np.full(full_scores.size, year, dtype=np.int64),
                    "iCode": np.tile(fw.codes, len(units)),
                    "value": full_scores.ravel(),
                    "rank": full_ranks.ravel(),
                }
            )
        )
    return pl.concat(out).with_columns(
        pl.col("value").fill_nan(None), pl.col("rank").fill_nan(None).cast(pl.Int64)
    )


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence numpy's 'mean of empty slice' for a group whose indicator is all missing."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


# -- engine builds --------------------------------------------------------------------------


def _build(factory: pytest.TempPathFactory, data: Path, **config) -> pl.DataFrame:
    out = factory.mktemp("build")
    result = pl.read_csv(compute(META, data, out, EngineConfig(**config)))
    return result.select(
        "uCode",
        pl.col("Time").cast(pl.Int64, strict=False).fill_null(0).alias("year"),
        "iCode",
        "Level",
        pl.col("value").cast(pl.Float64),
        pl.col("rank").cast(pl.Int64),
    )


def assert_matches(engine: pl.DataFrame, expected: pl.DataFrame) -> float:
    """Same rows, same missing cells, values within TOL, identical ranks; returns max |diff|."""
    joined = expected.join(engine, on=KEYS, how="left", suffix="_engine")
    assert joined.height == expected.height == engine.height
    missing = joined.filter(pl.col("value").is_null() != pl.col("value_engine").is_null())
    assert missing.height == 0, missing.head()
    difference = (joined["value"] - joined["value_engine"]).abs().max()
    difference = 0.0 if difference is None else float(difference)
    assert difference < TOL, joined.sort((pl.col("value") - pl.col("value_engine")).abs()).tail()
    wrong_rank = joined.filter(pl.col("rank").ne_missing(pl.col("rank_engine")))
    assert wrong_rank.height == 0, wrong_rank.head()
    print(f"max |engine - reference| = {difference:.3g}")
    return difference


@pytest.fixture(scope="module")
def fw() -> Framework:
    return compile_framework(pl.read_csv(META))


@pytest.fixture(scope="module")
def constant_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "iData_constant.csv"
    pl.read_csv(CROSS, infer_schema_length=None).with_columns(
        pl.lit(5.0).alias(CONSTANT)
    ).write_csv(path)
    return path


@pytest.fixture(scope="module")
def panel_no_group(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "iData_p_no_group.csv"
    unit, year = NO_GROUP
    blank = pl.col("uCode").is_in([unit, NO_GROUP_PEER]) & (pl.col("Time") == year)
    pl.read_csv(PANEL, infer_schema_length=None).with_columns(
        pl.when(blank).then(None).otherwise(pl.col("GDP_group")).alias("GDP_group")
    ).write_csv(path)
    return path


@pytest.fixture(scope="module")
def zscore_build(tmp_path_factory):
    return _build(tmp_path_factory, CROSS, normalise="zscore", range_lower=1, range_upper=100)


@pytest.fixture(scope="module")
def range_build(tmp_path_factory, constant_data):
    return _build(tmp_path_factory, constant_data, range_lower=1, range_upper=100)


@pytest.fixture(scope="module")
def gmean_build(tmp_path_factory):
    return _build(tmp_path_factory, CROSS, range_lower=1, range_upper=100, aggregate="gmean")


@pytest.fixture(scope="module")
def panel_year_build(tmp_path_factory):
    return _build(tmp_path_factory, PANEL)


@pytest.fixture(scope="module")
def panel_pooled_build(tmp_path_factory):
    return _build(tmp_path_factory, PANEL, normalise="minmax_panel")


@pytest.fixture(scope="module")
def treated_build(tmp_path_factory):
    return _build(tmp_path_factory, CROSS, treat="coinr")


@pytest.fixture(scope="module")
def mean_build(tmp_path_factory):
    return _build(tmp_path_factory, PANEL, impute="mean")


@pytest.fixture(scope="module")
def group_build(tmp_path_factory):
    return _build(tmp_path_factory, PANEL, impute="group_mean:GDP_group")


@pytest.fixture(scope="module")
def screen_build(tmp_path_factory):
    return _build(tmp_path_factory, CROSS, screen_threshold=0.9)


@pytest.fixture(scope="module")
def combined_build(tmp_path_factory, panel_no_group):
    return _build(
        tmp_path_factory,
        panel_no_group,
        screen_threshold=0.9,
        impute="group_mean:GDP_group",
        treat="coinr",
        normalise="minmax_panel",
        range_lower=1,
        range_upper=100,
        aggregate="gmean",
    )


def _level1(build: pl.DataFrame) -> pl.DataFrame:
    return build.filter(pl.col("Level") == 1)


# -- normalisation -------------------------------------------------------------------------


def test_zscore_matches_and_ignores_range(zscore_build, fw) -> None:
    assert_matches(zscore_build, reference(CROSS, fw, Reference(normalise="zscore")))
    stats = (
        _level1(zscore_build)
        .group_by("iCode")
        .agg(pl.col("value").mean().alias("mean"), pl.col("value").std(ddof=1).alias("sd"))
    )
    assert stats["mean"].abs().max() < 1e-12
    assert (stats["sd"] - 1).abs().max() < 1e-12  # the sample sd, and --range 1,100 ignored


def test_minmax_other_range_and_constant_indicator(range_build, constant_data, fw) -> None:
    assert_matches(range_build, reference(constant_data, fw, Reference(l_u=(1.0, 100.0))))
    level1 = _level1(range_build)
    assert level1.filter(pl.col("iCode") == CONSTANT)["value"].null_count() == 51
    assert level1.filter(pl.col("iCode") == CONSTANT)["rank"].null_count() == 51
    others = (
        level1.filter(pl.col("iCode") != CONSTANT)
        .group_by("iCode")
        .agg(pl.col("value").min().alias("lo"), pl.col("value").max().alias("hi"))
    )
    assert (others["lo"] == 1).all() and (others["hi"] == 100).all()
    # the constant indicator is skipped like a missing value: its pillar is the mean of the rest
    parent = fw.codes[fw.parent[fw.index_of(CONSTANT)]]
    siblings = [
        fw.codes[i]
        for i in range(fw.n_indicators)
        if fw.codes[fw.parent[i]] == parent and fw.codes[i] != CONSTANT
    ]
    unit = "AUT"
    values = level1.filter((pl.col("uCode") == unit) & pl.col("iCode").is_in(siblings))["value"]
    pillar = range_build.filter((pl.col("uCode") == unit) & (pl.col("iCode") == parent))["value"][0]
    assert abs(pillar - values.drop_nulls().mean()) < TOL


def test_gmean_with_range_1_100(gmean_build, fw) -> None:
    assert_matches(
        gmean_build, reference(CROSS, fw, Reference(l_u=(1.0, 100.0), aggregate="gmean"))
    )
    # one aggregate written out: weighted geometric mean over the children present
    unit, code = "BRN", fw.codes[fw.top_index()]
    children = [fw.codes[i] for i in np.flatnonzero(fw.parent == fw.index_of(code))]
    rows = gmean_build.filter((pl.col("uCode") == unit) & pl.col("iCode").is_in(children))
    weights = dict(zip(fw.codes, fw.weight, strict=True))
    present = rows.drop_nulls("value")
    w = np.array([weights[c] for c in present["iCode"]])
    expected = float(np.exp(np.sum(w * np.log(present["value"].to_numpy())) / w.sum()))
    index = gmean_build.filter((pl.col("uCode") == unit) & (pl.col("iCode") == code))["value"][0]
    assert abs(index - expected) < TOL


def test_minmax_per_year_on_panel(panel_year_build, fw) -> None:
    assert_matches(panel_year_build, reference(PANEL, fw, Reference()))
    per_year = _level1(panel_year_build).group_by("year", "iCode").agg(pl.col("value").min())
    assert (per_year["value"] == 0).all()  # every year is scaled on its own


def test_minmax_panel_pools_years(panel_pooled_build, panel_year_build, fw) -> None:
    assert_matches(panel_pooled_build, reference(PANEL, fw, Reference(normalise="minmax_panel")))
    pooled = _level1(panel_pooled_build)
    overall = pooled.group_by("iCode").agg(pl.col("value").min().alias("lo"), pl.col("value").max())
    assert (overall["lo"] == 0).all() and (overall["value"] == 100).all()
    per_year = pooled.group_by("year", "iCode").agg(pl.col("value").min())
    assert (per_year["value"] > 0).any()  # not every year reaches the pooled minimum
    joined = panel_pooled_build.join(panel_year_build, on=KEYS, suffix="_year")
    assert (joined["value"] - joined["value_year"]).abs().max() > 1  # the two options differ


# -- treatment, imputation, screening --------------------------------------------------------


def test_treat_coinr_then_normalise(treated_build, fw) -> None:
    expected = reference(CROSS, fw, Reference(treat=True))
    assert_matches(treated_build, expected)
    # the treatment did something: treated indicators differ from COINr's plain build
    plain = pl.read_csv(COINR / "A_scores_long.csv").select("uCode", "iCode", "value")
    joined = _level1(treated_build).join(plain, on=["uCode", "iCode"], suffix="_plain")
    changed = joined.filter((pl.col("value") - pl.col("value_plain")).abs() > 1e-6)
    _treated, log = treat_coinr(
        _read(CROSS, fw)
        .unpivot(index=["uCode", "year"], on=list(fw.indicator_codes))
        .rename({"uCode": "unit_code", "variable": "icode"})
    )
    treated_codes = set(log.filter(pl.col("method") != "none")["icode"])
    assert treated_codes and set(changed["iCode"]) == treated_codes


def test_impute_mean_per_year(mean_build, fw) -> None:
    assert_matches(mean_build, reference(PANEL, fw, Reference(impute="mean")))
    assert _level1(mean_build)["value"].null_count() == 0


def test_impute_group_mean_per_year(group_build, mean_build, fw) -> None:
    assert_matches(group_build, reference(PANEL, fw, Reference(impute="group_mean:GDP_group")))
    joined = group_build.join(mean_build, on=KEYS, suffix="_mean")
    assert (joined["value"] - joined["value_mean"]).abs().max() > 1e-3


def test_screen_drops_units_before_normalising(screen_build, fw) -> None:
    assert_matches(screen_build, reference(CROSS, fw, Reference(screen=0.9)))
    unranked = screen_build.group_by("uCode").agg(pl.col("value").is_null().all().alias("out"))
    assert set(unranked.filter("out")["uCode"]) == SCREENED_OUT
    dropped = screen_build.filter(pl.col("uCode").is_in(list(SCREENED_OUT)))
    assert dropped["rank"].null_count() == dropped.height
    level1 = _level1(screen_build).drop_nulls("value")
    bounds = level1.group_by("iCode").agg(pl.col("value").min().alias("lo"), pl.col("value").max())
    assert (bounds["lo"] == 0).all() and (bounds["value"] == 100).all()
    top = screen_build.filter((pl.col("iCode") == "Index") & pl.col("rank").is_not_null())
    assert sorted(top["rank"]) == list(range(1, 51 - len(SCREENED_OUT) + 1))


def test_all_steps_in_coinr_order(combined_build, panel_no_group, fw) -> None:
    options = Reference(
        screen=0.9,
        impute="group_mean:GDP_group",
        treat=True,
        normalise="minmax_panel",
        l_u=(1.0, 100.0),
        aggregate="gmean",
    )
    assert_matches(combined_build, reference(panel_no_group, fw, options))
    # a unit without a group keeps its missing values (COINr's i_mean_grp skips NA groups)
    unit, year = NO_GROUP
    raw = _read(PANEL, fw).filter((pl.col("uCode") == unit) & (pl.col("year") == year))
    missing = [c for c in fw.indicator_codes if raw[c][0] is None]
    peer = _read(PANEL, fw).filter((pl.col("uCode") == NO_GROUP_PEER) & (pl.col("year") == year))
    assert missing and all(peer[c][0] is not None for c in missing)
    cells = _level1(combined_build).filter(
        (pl.col("uCode") == unit) & (pl.col("year") == year) & pl.col("iCode").is_in(missing)
    )
    assert cells["value"].null_count() == len(missing)
    other_year = _level1(combined_build).filter(
        (pl.col("uCode") == unit) & (pl.col("year") != year) & pl.col("iCode").is_in(missing)
    )
    assert other_year["value"].null_count() == 0


def test_gmean_refuses_non_positive_values(tmp_path: Path) -> None:
    """COINr's a_gmean stops on a value <= 0; min-max to [0, 100] puts a 0 at every minimum."""
    with pytest.raises(DbtRunError, match="gmean needs positive values"):
        compute(META, CROSS, tmp_path / "out", EngineConfig(aggregate="gmean"))
    assert not (tmp_path / "out" / "scores.csv").exists()
