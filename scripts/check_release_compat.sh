#!/usr/bin/env bash
# Open a release's DuckDB file with the DuckDB versions analysts have: the 1.4 LTS line and the
# newest 1.x on PyPI, each as the Python package and as the CLI (PyPI's duckdb-cli). Each line
# gets its own venv (under $COMPAT_VENVS, default /tmp/city-index-compat; reused when present);
# the file is opened read-only, its tables and their descriptions listed and the ranking queried.
#
#   scripts/check_release_compat.sh output/releases/2025/edition-1/city_index_2025.duckdb
set -euo pipefail

database="${1:?usage: $0 path/to/city_index_<year>.duckdb}"
[ -f "$database" ] || { echo "no such file: $database" >&2; exit 2; }
venvs="${COMPAT_VENVS:-/tmp/city-index-compat}"
python="${PYTHON:-python3}"

check() {  # $1: venv name, $2: version range for pip
    local venv="$venvs/$1"
    if [ ! -x "$venv/bin/duckdb" ]; then
        "$python" -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check "duckdb$2" "duckdb-cli$2"
    fi
    echo "duckdb CLI $("$venv/bin/duckdb" --version | cut -d' ' -f1): top 3 of the latest year"
    "$venv/bin/duckdb" -readonly "$database" -c "
        select rank, city_id, name_zh, round(score, 2) as score
        from marts.mart_city_ranking
        where year = (select max(year) from marts.mart_city_ranking) and ranked
        order by rank limit 3"
    "$venv/bin/python" - "$database" <<'PY'
import sys

import duckdb

with duckdb.connect(sys.argv[1], read_only=True) as con:
    tables = con.sql(
        "select schema_name || '.' || table_name, comment from duckdb_tables() order by 1"
    ).fetchall()
    undescribed = [name for name, comment in tables if not comment]
    year, cities, top = con.sql(
        "select max(year), count(*) filter (where year = (select max(year) from"
        " marts.mart_city_ranking)), arg_min(city_id, rank) filter (where year = (select"
        " max(year) from marts.mart_city_ranking)) from marts.mart_city_ranking"
    ).fetchall()[0]
print(
    f"duckdb {duckdb.__version__}: opened read-only, {len(tables)} tables"
    f" ({', '.join(name for name, _ in tables)}); {len(undescribed)} without a description;"
    f" {year}: {cities} cities, rank 1 = {top}"
)
sys.exit(1 if undescribed else 0)
PY
}

check duckdb-1.4 '>=1.4,<1.5'
check duckdb-1.x '>=1.5,<2'
