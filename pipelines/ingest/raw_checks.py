"""Checks where the data enters: one blocking Dagster asset check per raw table.

Each raw table's rules (keys, plausible ranges, dates inside the year, coverage of the
registry) are declared with the table by its source (``RawTable.rules`` in the source's
tables.py); the column types come from the landing DDL (``landing.TABLES``). The column rules
run as a pandera schema on the polars frame (a library made for dataframe checks, already used
for the framework); registry coverage, which compares two tables, is plain code.

The checks run right after a source lands (ingest) and, selected without their assets, at the
head of every build: Dagster runs a blocking check before the steps downstream of its asset, so
a bad raw table of any year the build reads stops the run before dbt starts (verified on
Dagster 1.13: the downstream step never starts). Every landed year up to the run's last year is
checked, because an edition reads its history and panel normalisation pools every year; a year
whose content, registry, rules and code are those of a check that passed is not validated
again (pipelines/ingest/raw_check_memory.py).
"""

import datetime as dt

import dagster as dg
import duckdb
import pandera.polars as pa
import polars as pl
from dagster_duckdb import DuckDBResource

from pipelines.ingest.landing import SCHEMA, TABLES
from pipelines.ingest.raw_check_memory import CheckMemory
from pipelines.partitions import run_years
from pipelines.sources.catalog import raw_tables
from pipelines.sources.spec import POLARS_TYPES, Range, RawRules

#: Rows shown per failing rule in a check's description.
SAMPLE_ROWS = 5

#: Each raw table's rules, as its source declares them with the table (its tables.py).
RAW_RULES: dict[str, RawRules] = {table.name: table.rules for table in raw_tables()}

_FINITE = pa.Check(
    lambda data: data.lazyframe.select(pl.col(data.key).is_finite().fill_null(True)),
    error="a finite number",
)


def _column_checks(column: str, duck_type: str, rules: RawRules, year: int) -> list[pa.Check]:
    checks: list[pa.Check] = []
    bound = rules.ranges.get(column)
    if bound is not None:
        if bound.low is not None:
            checks.append(pa.Check.ge(bound.low, error=f">= {bound.low:g} ({bound.why})"))
        if bound.high is not None:
            checks.append(pa.Check.le(bound.high, error=f"<= {bound.high:g} ({bound.why})"))
        if duck_type == "DOUBLE":
            checks.append(_FINITE)
    if column in rules.dates_in_year:
        first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
        checks.append(pa.Check.in_range(first, last, error=f"a date inside {year}"))
    if column in rules.years_within:
        first = year - rules.years_within[column]
        checks.append(pa.Check.in_range(first, year, error=f"a year in {first}..{year}"))
    if column in rules.years_equal or column == "year":
        checks.append(pa.Check.eq(year, error=f"the partition year {year}"))
    if column in rules.allowed:
        values = rules.allowed[column]
        checks.append(pa.Check.isin(values, error=f"one of {', '.join(map(str, values))}"))
    return checks


def _by_value_checks(rules: RawRules) -> list[pa.Check]:
    """Ranges of `value` that depend on another column (one per indicator)."""
    if rules.ranges_by is None:
        return []
    column, ranges = rules.ranges_by
    checks = [
        pa.Check(
            lambda d, c=column: d.lazyframe.select(pl.col(c).is_in(list(ranges))),
            error=f"{column} one of {', '.join(ranges)}",
        )
    ]
    for code, bound in ranges.items():
        inside = pl.col("value").is_between(bound.low, bound.high) & pl.col("value").is_finite()
        rule = pl.when(pl.col(column) == code).then(inside.fill_null(True)).otherwise(True)
        checks.append(
            pa.Check(
                lambda d, r=rule: d.lazyframe.select(r.alias("value")),
                error=f"value of {code} in {bound.low:g}..{bound.high:g} ({bound.why})",
            )
        )
    return checks


def schema_for(table: str, year: int) -> pa.DataFrameSchema:
    """The pandera schema of one raw table for one partition year."""
    rules = RAW_RULES[table]
    columns = {
        column: pa.Column(
            POLARS_TYPES[duck_type],
            checks=_column_checks(column, duck_type, rules, year),
            nullable=column not in rules.keys,
        )
        for column, duck_type in TABLES[table].items()
    }
    return pa.DataFrameSchema(
        columns,
        checks=_by_value_checks(rules),
        # Nothing is coerced: a column whose type differs from the DDL is reported.
        unique=list(rules.keys),
        strict=True,
        name=f"{SCHEMA}.{table}",
    )


def _describe_failures(
    table: str, year: int, frame: pl.DataFrame, errors: pa.errors.SchemaErrors
) -> list[str]:
    """One line per failing rule and row: table, year, column, rule, the row's key and value."""
    keys = [k for k in RAW_RULES[table].keys if k in frame.columns]
    lines = []
    cases = errors.failure_cases
    for (column, check), group in cases.group_by(["column", "check"], maintain_order=True):
        if check == "multiple_fields_uniqueness":  # one failure case per column: per row
            group = group.unique("index", maintain_order=True)
        for case in group.head(SAMPLE_ROWS).iter_rows(named=True):
            index = case.get("index")
            row = ""
            if index is not None and 0 <= index < frame.height:
                values = frame.row(int(index), named=True)
                row = " row " + ", ".join(f"{k}={values[k]}" for k in keys)
                if check == "multiple_fields_uniqueness":
                    lines.append(
                        f"raw.{table} {year}:{row} columns {', '.join(keys)}: duplicate key"
                    )
                    continue
                if column == f"{SCHEMA}.{table}":  # a frame-level rule: a range of `value`
                    column, case["failure_case"] = "value", values.get("value")
            lines.append(
                f"raw.{table} {year}:{row} column {column}: {case['failure_case']} is not {check}"
            )
        if group.height > SAMPLE_ROWS:
            lines.append(f"raw.{table} {year}: ... {group.height - SAMPLE_ROWS} more")
    return lines


def check_frame(
    table: str, year: int, frame: pl.DataFrame, registry: pl.DataFrame | None = None
) -> list[str]:
    """Every problem of one table's rows of one year; empty when the rows pass."""
    problems: list[str] = []
    try:
        schema_for(table, year).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        problems += _describe_failures(table, year, frame, errors)
    column = RAW_RULES[table].covers_registry
    if column and registry is not None and frame.height and column in frame.columns:
        expected = set(registry[column].drop_nulls().to_list())
        missing = sorted(expected - set(frame[column].drop_nulls().to_list()))
        if missing:
            problems.append(
                f"raw.{table} {year}: column {column}: no rows for "
                f"{', '.join(missing[:10])}{' ...' if len(missing) > 10 else ''} "
                f"({len(missing)} of {len(expected)} in the registry)"
            )
    return problems


def landed_years(con: duckdb.DuckDBPyConnection, table: str, up_to: int) -> list[int]:
    exists = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [SCHEMA, table],
    ).fetchall()[0][0]
    if not exists:
        return []
    rows = con.execute(
        f"select distinct year from {SCHEMA}.{table} where year <= ? order by 1", [up_to]
    ).fetchall()
    return [row[0] for row in rows]


def check_table(
    con: duckdb.DuckDBPyConnection,
    table: str,
    up_to: int,
    memory: CheckMemory | None = None,
) -> tuple[list[int], list[str]]:
    """Check every landed year of raw.<table> up to `up_to`: (years checked, problems).

    With a `memory`, a year whose rows, registry, rules and code are those of a passed check
    (pipelines/ingest/raw_check_memory.py) passes without being validated again."""
    assert table in RAW_RULES, table  # whitelist: names never come from data
    registry = con.sql("select id as city_id, country_iso3 from raw.cities").pl()
    years = landed_years(con, table, up_to)
    fingerprints: dict[int, str] = {}
    if memory is not None:
        rules = repr((RAW_RULES[table], TABLES[table]))
        fingerprints = memory.fingerprints(con, SCHEMA, table, rules, up_to)
    problems: list[str] = []
    for year in years:
        if memory is not None and memory.has_passed(table, year, fingerprints.get(year)):
            continue
        frame = con.sql(f"select * from {SCHEMA}.{table} where year = ?", params=[year]).pl()
        found = check_frame(table, year, frame, registry)
        problems += found
        if memory is not None:
            memory.record(table, year, fingerprints.get(year), passed=not found)
    if memory is not None:
        memory.save()
    return years, problems


def _raw_check(table: str) -> dg.AssetChecksDefinition:
    rules = RAW_RULES[table]

    @dg.asset_check(
        asset=dg.AssetKey([SCHEMA, table]),
        name=f"{table}_valid",
        blocking=True,
        additional_deps=[dg.AssetKey([SCHEMA, "cities"])],
        description=(
            f"raw.{table}: column types, one row per {', '.join(rules.keys)}, plausible ranges, "
            "dates inside the year and registry coverage, for every landed year up to the "
            "run's last (pandera). Blocking: a failure stops the run before dbt."
        ),
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: DuckDBResource):
        up_to = max(run_years(context))
        with warehouse.get_connection() as con:
            years, problems = check_table(con, table, up_to, CheckMemory())
        if problems:
            context.log.error("\n".join(problems))
        checked = ", ".join(map(str, years)) or "none landed"
        return dg.AssetCheckResult(
            passed=not problems,
            severity=dg.AssetCheckSeverity.ERROR,
            description=(problems[0] if problems else f"raw.{table} passed for {checked}"),
            metadata={
                "years": checked,
                "problems": len(problems),
                "summary": dg.MetadataValue.md(
                    "```\n" + ("\n".join(problems) or "no problem") + "\n```"
                ),
            },
        )

    return _check


RAW_CHECKS = [_raw_check(table) for table in RAW_RULES]


def _bounds(bound: Range) -> str:
    low = "" if bound.low is None else f"{bound.low:,.15g}"
    high = "" if bound.high is None else f"{bound.high:,.15g}"
    return f"{low}..{high} ({bound.why})"


def rules_markdown() -> str:
    """The rules as the Markdown table of docs/architecture.md (a test holds them equal)."""
    lines = [
        "| table | one row per | plausible ranges | in the year | registry coverage |",
        "|---|---|---|---|---|",
    ]
    for table, rules in RAW_RULES.items():
        ranges = [f"{column} {_bounds(bound)}" for column, bound in rules.ranges.items()]
        if rules.ranges_by:
            column, by_value = rules.ranges_by
            ranges += [f"value of {code}: {_bounds(b)}" for code, b in by_value.items()]
        ranges += [f"{c} in {', '.join(map(str, v))}" for c, v in rules.allowed.items()]
        in_year = [*rules.dates_in_year, *rules.years_equal]
        in_year += [f"{c} (Y-{n}..Y)" for c, n in rules.years_within.items()]
        lines.append(
            f"| `raw.{table}` | {', '.join(rules.keys)} | {'; '.join(ranges) or '-'} "
            f"| {', '.join(in_year) or '-'} | {rules.covers_registry or '-'} |"
        )
    return "\n".join(lines)
