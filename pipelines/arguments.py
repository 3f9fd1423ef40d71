"""The CLI's arguments, checked before any run starts (argparse types and one validate step).

A bad argument ends in argparse's one line, `city-index release: error: ...`, with exit 2,
before Dagster, dbt or the warehouse are touched.
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

from pipelines.settings import FIRST_YEAR, LATEST_COMPLETE_YEAR

#: Rank intervals are the 5th and 95th percentiles of the Monte Carlo ranks: below 100
#: replications each tail rests on fewer than 5 draws, and an interval is noise.
MIN_REPLICATIONS = 100
IMPUTE_METHODS = ("none", "mean", "group_mean:COLUMN")


def _whole_number(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{what} must be a whole number, not {text!r}") from None


def year(text: str) -> int:
    value = _whole_number(text, "year")
    if not FIRST_YEAR <= value <= LATEST_COMPLETE_YEAR:
        raise argparse.ArgumentTypeError(
            f"year must be a complete year between {FIRST_YEAR} and {LATEST_COMPLETE_YEAR},"
            f" not {value}"
        )
    return value


def edition(text: str) -> int:
    value = _whole_number(text, "edition")
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"edition must be 1 or more (editions count from 1), not {value}"
        )
    return value


def replications(text: str) -> int:
    value = _whole_number(text, "replications")
    if value < MIN_REPLICATIONS:
        raise argparse.ArgumentTypeError(
            f"replications must be at least {MIN_REPLICATIONS}, not {value}: rank intervals are "
            "the 5th-95th percentiles of the Monte Carlo ranks, and fewer draws leave each tail "
            "with under 5"
        )
    return value


def existing_file(text: str) -> Path:
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{text} does not exist")
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text} is not a file")
    if not os.access(path, os.R_OK):
        raise argparse.ArgumentTypeError(f"{text} cannot be read (permissions)")
    return path


def output_folder(text: str) -> Path:
    """A folder that exists and can be written, or that can be created (nothing is created
    here: a refused command leaves nothing behind)."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file, not a folder")
    ancestor = next((p for p in (path, *path.absolute().parents) if p.exists()), Path("/"))
    if not ancestor.is_dir():
        raise argparse.ArgumentTypeError(
            f"cannot create {text}: {ancestor} is a file, not a folder"
        )
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(
            f"cannot write to {text}: {ancestor} is read-only or not yours; choose another folder"
        )
    return path


def value_range(text: str) -> tuple[float, float]:
    parts = text.split(",")
    try:
        lower, upper = (float(part) for part in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"range must be two numbers L,U, not {text!r}") from None
    if not (math.isfinite(lower) and math.isfinite(upper) and lower < upper):
        raise argparse.ArgumentTypeError(f"range L,U needs finite numbers with L < U, not {text!r}")
    return lower, upper


def share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to 1, not {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to 1, not {value}")
    return value


def impute_spec(text: str) -> str:
    method, _, column = text.partition(":")
    if text in ("none", "mean") or (method == "group_mean" and column.strip()):
        return text
    raise argparse.ArgumentTypeError(f"must be one of {', '.join(IMPUTE_METHODS)}, not {text!r}")


def city_problem(cities: list[str]) -> str | None:
    """Why these city ids cannot be used (unknown to the registry), or None."""
    if not cities:
        return None
    from pipelines.registry import load_cities, unknown_cities_message

    registry = load_cities()
    known = set(registry["id"].to_list())
    unknown = [city for city in dict.fromkeys(cities) if city not in known]
    return unknown_cities_message(unknown, registry) if unknown else None


def validate(args: argparse.Namespace, command_parser: argparse.ArgumentParser) -> None:
    """Checks that need more than one argument or the registry; exits 2 like argparse."""
    problem = None
    if args.command == "ingest":
        problem = city_problem(args.city)
    if (
        args.command == "compute"
        and args.aggregate == "gmean"
        and args.normalise != "zscore"
        and args.range[0] <= 0
    ):
        problem = "--aggregate gmean needs positive normalised values: use a --range such as 1,100"
    if problem:
        command_parser.error(problem)
