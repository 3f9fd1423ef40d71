"""Scale COINr's ASEM example to N units x Y years with realistic noise, deterministically.

Why: the engine must be measured at sizes far beyond the 51 ASEM countries, on data that looks
like real indicator data (skewed, correlated within a unit, trending, partly missing), not on
uniform random numbers that every step handles trivially.

Each synthetic unit resamples one ASEM unit's indicator vector and multiplies it by
- a unit effect: lognormal(0, `unit_sigma`) per indicator, fixed over the years;
- a year trend: (1 + g_i) ** t, g_i ~ N(0.02, 0.01) per indicator;
- year noise: lognormal(0, `year_sigma`) per value.
The ASEM unit's missing values stay missing (so ~2.5 % missing, as ASEM), and a further
`extra_missing` share is blanked at random. Signs and zeros are kept (multiplicative noise).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from pipelines.analysis.engine_numpy import Framework, compile_framework
from tests.reference_data import COINR_ASEM_DIR

ASEM_META = COINR_ASEM_DIR / "inputs_iMeta.csv"
ASEM_DATA = COINR_ASEM_DIR / "inputs_iData.csv"
FIRST_YEAR = 2001
SEED = 20250101


@dataclass(frozen=True)
class Panel:
    """A generated panel: values[year, unit, indicator] (NaN = missing) and its labels."""

    values: np.ndarray
    unit_codes: list[str]
    years: list[int]
    framework: Framework

    @property
    def n_values(self) -> int:
        return int(self.values.size)


def asem_framework() -> Framework:
    return compile_framework(pl.read_csv(ASEM_META))


def asem_values(fw: Framework | None = None) -> tuple[np.ndarray, list[str]]:
    """ASEM's raw values[unit, indicator] in the compiled framework's indicator order."""
    fw = fw or asem_framework()
    data = pl.read_csv(ASEM_DATA, infer_schema_length=0)
    values = data.select(
        [pl.col(c).cast(pl.Float64, strict=False) for c in fw.indicator_codes]
    ).to_numpy()
    return values, data["uCode"].to_list()


def generate(
    n_units: int,
    n_years: int,
    *,
    seed: int = SEED,
    unit_sigma: float = 0.35,
    year_sigma: float = 0.05,
    extra_missing: float = 0.0,
) -> Panel:
    """The scaled panel (deterministic for a given seed and size)."""
    fw = asem_framework()
    base, _ = asem_values(fw)
    rng = np.random.default_rng(seed)
    n_ind = fw.n_indicators
    picks = rng.integers(base.shape[0], size=n_units)
    unit = base[picks] * rng.lognormal(0.0, unit_sigma, size=(n_units, n_ind))
    growth = rng.normal(0.02, 0.01, size=n_ind)
    t = np.arange(n_years, dtype=float)[:, None, None]
    trend = (1.0 + growth[None, None, :]) ** t
    noise = rng.lognormal(0.0, year_sigma, size=(n_years, n_units, n_ind))
    values = unit[None, :, :] * trend * noise
    if extra_missing > 0:
        values[rng.random(values.shape) < extra_missing] = np.nan
    width = len(str(n_units))
    units = [f"U{i:0{width}d}" for i in range(n_units)]
    years = list(range(FIRST_YEAR, FIRST_YEAR + n_years))
    return Panel(values=values, unit_codes=units, years=years, framework=fw)


def to_idata(panel: Panel, years: list[int] | None = None) -> pl.DataFrame:
    """COINr iData (uCode, Time, one column per indicator), optionally only some years."""
    keep = [i for i, y in enumerate(panel.years) if years is None or y in years]
    n_units = len(panel.unit_codes)
    block = panel.values[keep].reshape(len(keep) * n_units, -1)
    columns = {
        "uCode": panel.unit_codes * len(keep),
        "Time": np.repeat(np.asarray([panel.years[i] for i in keep]), n_units),
    }
    frame = pl.DataFrame(columns)
    indicators = pl.DataFrame(
        block, schema=list(panel.framework.indicator_codes), orient="row"
    ).fill_nan(None)
    return pl.concat([frame, indicators], how="horizontal")


def write_inputs(panel: Panel, folder: Path, years: list[int] | None = None) -> tuple[Path, Path]:
    """Write iMeta (ASEM's own file) and the generated iData; returns (framework, data)."""
    folder.mkdir(parents=True, exist_ok=True)
    meta = folder / "iMeta.csv"
    shutil.copyfile(ASEM_META, meta)
    data = folder / "iData.csv"
    to_idata(panel, years).write_csv(data, float_precision=None, null_value="NA")
    return meta, data


def missing_share(panel: Panel) -> float:
    return float(np.isnan(panel.values).mean())
