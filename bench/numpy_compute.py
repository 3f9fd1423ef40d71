"""`city-index compute` rebuilt on the vectorised numpy engine, for a side-by-side ratio.

Why: both engines are ours, so running them on the same files on the same machine in the same
run gives a ratio that machine noise does not distort. This does the same I/O as compute
(the same input parsing and checks, scores.csv in the same columns) and the plain build
(no screening, imputation or treatment) with min-max per year or pooled over the panel.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import polars as pl

from pipelines.analysis.engine_numpy import (
    Framework,
    aggregate,
    compile_framework,
    normalise,
    rank_desc,
)
from pipelines.index.compute import read_framework
from pipelines.index.compute_inputs import framework_frame, indicator_codes, read_data_checked


def dense_panel(long: pl.DataFrame, fw: Framework) -> tuple[np.ndarray, list[str], list[int]]:
    """Long (unit_code, year, icode, value) to values[year, unit, indicator], vectorised."""
    units = sorted(long["unit_code"].unique().to_list())
    years = sorted(long["year"].unique().to_list())
    codes = list(fw.indicator_codes)

    def positions(column: str, labels: list) -> pl.DataFrame:
        return pl.DataFrame({column: labels, f"{column}_pos": np.arange(len(labels))}).cast(
            {column: long.schema[column]}
        )

    idx = (
        long.join(positions("year", years), on="year")
        .join(positions("unit_code", units), on="unit_code")
        .join(positions("icode", codes), on="icode")
    )
    out = np.full((len(years), len(units), len(codes)), np.nan)
    out[
        idx["year_pos"].to_numpy(), idx["unit_code_pos"].to_numpy(), idx["icode_pos"].to_numpy()
    ] = idx["value"].fill_null(np.nan).to_numpy()
    return out, units, years


def panel_scores(
    values: np.ndarray, fw: Framework, method: str = "minmax_panel"
) -> tuple[np.ndarray, np.ndarray]:
    """Scores and ranks [year, unit, code]; minmax_panel pools min and max over all years."""
    n_years, n_units, n_ind = values.shape
    if method == "minmax_panel":
        level1 = normalise(values.reshape(n_years * n_units, n_ind), fw, "minmax")
        level1 = level1.reshape(n_years, n_units, n_ind)
    elif method in ("minmax", "zscore"):
        level1 = normalise(values, fw, method)
    else:
        raise ValueError(f"unknown normalisation {method!r}")
    flat = aggregate(level1.reshape(n_years * n_units, n_ind), fw)
    scores = flat.reshape(n_years, n_units, len(fw.codes))
    return scores, rank_desc(scores, axis=-2)


def scores_frame(
    scores: np.ndarray, ranks: np.ndarray, fw: Framework, units: list[str], years: list[int]
) -> pl.DataFrame:
    """compute's scores.csv columns, built directly in its order (year, level, icode, unit)."""
    order = sorted(range(len(fw.codes)), key=lambda c: (int(fw.levels[c]), fw.codes[c]))
    scores = scores[:, :, order].transpose(0, 2, 1)  # (year, code, unit)
    ranks = ranks[:, :, order].transpose(0, 2, 1)
    yi, ci, ui = (pl.Series(a.reshape(-1)) for a in np.indices(scores.shape))
    codes = pl.Series([fw.codes[c] for c in order])
    levels = pl.Series([int(fw.levels[c]) for c in order])
    return pl.DataFrame(
        {
            "uCode": pl.Series(units).gather(ui),
            "Time": pl.Series(years).gather(yi),
            "iCode": codes.gather(ci),
            "Level": levels.gather(ci),
            "value": pl.Series(scores.reshape(-1)).fill_nan(None),
            "rank": pl.Series(ranks.reshape(-1)).fill_nan(None).cast(pl.Int64),
        }
    )


def run(framework_path: Path, data_path: Path, out_dir: Path, method: str) -> Path:
    framework = read_framework(framework_path)
    wide, _ = read_data_checked(data_path, indicator_codes(framework))
    long = wide.unpivot(index=["unit_code", "year"], variable_name="icode", value_name="value")
    fw = compile_framework(framework_frame(framework))
    values, units, years = dense_panel(long, fw)
    scores, ranks = panel_scores(values, fw, method)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "scores.csv"
    scores_frame(scores, ranks, fw, units, years).write_csv(target, float_precision=None)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--framework", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--normalise", default="minmax_panel")
    args = parser.parse_args(argv)
    print(run(args.framework, args.data, args.out, args.normalise))
    return 0


if __name__ == "__main__":
    sys.exit(main())
