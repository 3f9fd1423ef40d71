"""`city-index release` options for the edition's method: a file, then single options on top.

Precedence: MethodConfig defaults < `--method FILE` < `--treat`, `--impute`, `--normalise`,
`--range`, `--aggregate`, `--screen`, `--weight CODE=W` (repeatable). `--aggregate gmean`
without a range moves a non-positive lower bound to 1 (COINr's advice for a_gmean)."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipelines.index.method import (
    AGGREGATIONS,
    IMPUTATIONS,
    NORMALISATIONS,
    TREATMENTS,
    MethodConfig,
    MethodError,
    load_method,
)
from pipelines.settings import ASSETS_DIR

FRAMEWORK_FILE = ASSETS_DIR / "framework.csv"


def add_method_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("method (defaults: docs/methodology.md)")
    group.add_argument("--method", type=Path, help="YAML file of method settings")
    group.add_argument("--treat", choices=TREATMENTS)
    group.add_argument("--impute", choices=IMPUTATIONS)
    group.add_argument("--normalise", choices=NORMALISATIONS)
    group.add_argument("--range", help="min-max range L,U (e.g. 1,100 for gmean)")
    group.add_argument("--aggregate", choices=AGGREGATIONS)
    group.add_argument("--screen", type=float, help="data-availability threshold (0-1)")
    group.add_argument(
        "--weight", action="append", default=[], help="CODE=W: a framework weight (repeatable)"
    )


def _framework_codes() -> set[str]:
    import polars as pl

    return set(pl.read_csv(FRAMEWORK_FILE, columns=["iCode"])["iCode"].to_list())


def method_from_args(args: argparse.Namespace) -> MethodConfig:
    """The method the options ask for; a clear MethodError naming the option when invalid."""
    method = load_method(args.method) if args.method else MethodConfig()
    lower = upper = None
    if args.range:
        try:
            lower, upper = (float(v) for v in args.range.split(","))
        except ValueError:
            raise MethodError(f"--range must be L,U (two numbers), got {args.range!r}") from None
    if args.aggregate == "gmean" and lower is None and method.range_lower <= 0:
        lower, upper = 1.0, method.range_upper  # gmean needs positive values (COINr's advice)
    weights = dict(method.weights)
    for item in args.weight:
        code, _, value = item.partition("=")
        try:
            weights[code.strip()] = float(value)
        except ValueError:
            raise MethodError(f"--weight must be CODE=NUMBER, got {item!r}") from None
    method = method.with_options(
        treat=args.treat,
        impute=args.impute,
        normalise=args.normalise,
        range_lower=lower,
        range_upper=upper,
        aggregate=args.aggregate,
        screen_threshold=args.screen,
        weights=weights,
    )
    unknown = sorted(set(method.weights) - _framework_codes())
    if unknown:
        raise MethodError(f"weights: {', '.join(unknown)} not in the framework ({FRAMEWORK_FILE})")
    return method
