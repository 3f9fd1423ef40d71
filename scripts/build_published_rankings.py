"""Write `assets/inputs/published_rankings.csv` from the real files in `assets/reference/`.

Run: `.venv/bin/python scripts/build_published_rankings.py` (rewrites the file) or `--check`
(exit 1 when the committed file differs from what the reference files give).

Rows written: the GaWC 2020 rank ("GaWC global network connectivity", GaWC Data Set 31,
`gawc_da31_global_network_connectivity_2020.csv`, column `Rank`) of every registry city whose
`gawc_name` (assets/cities.csv) is a `City` of that file; the position is GaWC's published rank
among all 707 cities of the data set, not a rank among registry cities. Cities with an empty
`gawc_name` are left out. Nothing is estimated or invented: a ranking that is not in
`assets/reference/` is not written (add such rows by hand, see docs/inputs.md).
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REF = ROOT / "assets" / "reference"
CITIES = ROOT / "assets" / "cities.csv"
TARGET = ROOT / "assets" / "inputs" / "published_rankings.csv"
GAWC_FILE = REF / "gawc_da31_global_network_connectivity_2020.csv"
GAWC_RANKING = "GaWC global network connectivity"
GAWC_EDITION = 2020
GAWC_URL = "https://www.lboro.ac.uk/microsites/geography/gawc/"
HEADER = ["ranking", "edition_year", "city_id", "position", "source_url"]


def read_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a UTF-8 CSV as dicts of strings."""
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def gawc_rows() -> tuple[list[list[object]], list[str]]:
    """(rows in registry order, problems): a registry gawc_name absent from GaWC is a problem."""
    rank = {r["City"]: int(r["Rank"]) for r in read_csv(GAWC_FILE)}
    rows: list[list[object]] = []
    problems: list[str] = []
    for city in read_csv(CITIES):
        name = city["gawc_name"].strip()
        if not name:
            continue
        if name not in rank:
            problems.append(f"{city['id']}: gawc_name {name!r} not in {GAWC_FILE.name}")
            continue
        rows.append([GAWC_RANKING, GAWC_EDITION, city["id"], rank[name], GAWC_URL])
    return rows, problems


def render(rows: list[list[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args()
    rows, problems = gawc_rows()
    for problem in problems:
        print(problem, file=sys.stderr)
    text = render(rows)
    if args.check:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET} differs from the reference files; rerun without --check")
            return 1
        print(f"{TARGET} matches the reference files ({len(rows)} rows)")
        return 1 if problems else 0
    TARGET.write_text(text, encoding="utf-8", newline="")
    print(f"wrote {TARGET} ({len(rows)} rows)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
