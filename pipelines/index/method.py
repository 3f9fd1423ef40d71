"""The edition's method: every choice of the index engine in one configuration object.

Why one object: the dbt engine, the Monte Carlo around it and the release manifest must agree
on the method, so it is set in one place (defaults below, a YAML file, `city-index release`
options, in that order of precedence), turned into dbt vars by `method_vars` alone, recorded by
the build in `engine.eng_method` (what was actually used) and read back from there by the
analysis and the release.

The defaults are the `vars` of `dbt_project/dbt_project.yml` (a test holds them equal).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

__all__ = ["MethodConfig", "MethodError", "method_vars", "load_method", "read_method"]

TREATMENTS = ("none", "coinr")
IMPUTATIONS = ("none", "mean")
NORMALISATIONS = ("minmax", "zscore")
AGGREGATIONS = ("amean", "gmean")
ICODE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")


class MethodError(ValueError):
    """A method setting is invalid; the message names the setting (and the file)."""


@dataclass(frozen=True)
class MethodConfig:
    """The engine's options for one edition.

    treat: COINr's default outlier treatment per indicator and year ("coinr") or none.
    impute: none, or the mean of the indicator's present values in the year ("mean").
    normalise: minmax to [range_lower, range_upper], or zscore (mean 0, sd 1; range ignored).
    aggregate: weighted arithmetic (amean) or geometric (gmean, needs range_lower > 0).
    weights: framework weights replaced by code (relative to siblings), e.g. {"media": 2}.
    screen_threshold: share of indicators a city needs to be ranked.
    """

    treat: str = "coinr"
    impute: str = "none"
    normalise: str = "minmax"
    range_lower: float = 0.0
    range_upper: float = 100.0
    aggregate: str = "amean"
    screen_threshold: float = 0.66
    weights: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, allowed in (
            ("treat", TREATMENTS),
            ("impute", IMPUTATIONS),
            ("normalise", NORMALISATIONS),
            ("aggregate", AGGREGATIONS),
        ):
            if getattr(self, name) not in allowed:
                raise MethodError(
                    f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}"
                )
        for name in ("range_lower", "range_upper", "screen_threshold"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
                raise MethodError(f"{name} must be a number, got {value!r}")
        if not self.range_lower < self.range_upper:
            raise MethodError(
                f"range_lower must be below range_upper, got {self.range_lower}, {self.range_upper}"
            )
        if not 0.0 <= self.screen_threshold <= 1.0:
            raise MethodError(
                f"screen_threshold must be between 0 and 1, got {self.screen_threshold}"
            )
        if self.aggregate == "gmean" and (self.normalise != "minmax" or self.range_lower <= 0):
            raise MethodError(
                "aggregate gmean needs positive values: use normalise minmax with range_lower > 0"
                " (e.g. a range of 1,100)"
            )
        for code, weight in self.weights.items():
            if not ICODE.match(str(code)):
                raise MethodError(f"weights: invalid code {code!r}")
            if isinstance(weight, bool) or not isinstance(weight, int | float) or not weight > 0:
                raise MethodError(f"weights: {code} must be a positive number, got {weight!r}")
        object.__setattr__(self, "weights", dict(sorted(self.weights.items())))
        for name in ("range_lower", "range_upper", "screen_threshold"):
            object.__setattr__(self, name, float(getattr(self, name)))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def norm_params(self) -> tuple[float, float]:
        """Parameters of the normalisation as engine_numpy takes them."""
        return (self.range_lower, self.range_upper) if self.normalise == "minmax" else (0.0, 1.0)

    def with_options(self, **options: Any) -> MethodConfig:
        """A copy with the options that are not None replaced (command-line overrides)."""
        return replace(self, **{k: v for k, v in options.items() if v is not None})


def method_vars(config: MethodConfig) -> dict[str, Any]:
    """The dbt vars of a method (merged into the build's vars; weights as a JSON object)."""
    out = config.as_dict()
    out["weights"] = dict(config.weights)
    return out


def load_method(path: Path, base: MethodConfig | None = None) -> MethodConfig:
    """A method from a YAML (or JSON) file of MethodConfig fields; unknown keys are refused."""
    import yaml  # on use: every command builds the parser that names this module (9 ms)

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise MethodError(f"{path}: cannot read the method file: {error}") from error
    if not isinstance(data, dict):
        raise MethodError(f"{path}: a method file is a mapping of settings")
    known = {f.name for f in fields(MethodConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise MethodError(f"{path}: unknown setting(s) {', '.join(unknown)}")
    try:
        return replace(base or MethodConfig(), **data)
    except MethodError as error:
        raise MethodError(f"{path}: {error}") from error


def read_method(con) -> MethodConfig:
    """The method the last dbt build used, as it recorded it in engine.eng_method."""
    row = con.sql("select * from engine.eng_method").pl().to_dicts()
    if len(row) != 1:
        raise MethodError(f"engine.eng_method must hold one row, holds {len(row)}")
    recorded = row[0]
    recorded["weights"] = json.loads(recorded["weights"] or "{}")
    return MethodConfig(**recorded)


def recorded_configuration(con) -> dict[str, Any]:
    """The method actually used, as the release manifest and report record it."""
    return read_method(con).as_dict()


def score_range(config: MethodConfig, n_units: int) -> tuple[float, float]:
    """The range every score of the method lies in, for the validation gate.

    min-max: [range_lower, range_upper] (an arithmetic or geometric mean of values in the range
    stays in it), widened by 1e-9 of its width for floating-point rounding (a geometric mean of
    100s is 100.00000000000001); z-score: |z| <= (n - 1) / sqrt(n) with the sample sd, for n
    units (the largest standardised value n values can take), and so for their weighted means.
    """
    if config.normalise == "zscore":
        bound = (n_units - 1) / math.sqrt(n_units) * (1 + 1e-9) if n_units > 1 else 0.0
        return (-bound, bound)
    slack = (config.range_upper - config.range_lower) * 1e-9
    return (config.range_lower - slack, config.range_upper + slack)
