"""Frame preparation for the validation suites (pure polars, no GX import).

Rules that Great Expectations has no built-in expectation for are turned into one derived column
each, which a built-in expectation then checks (so the rule, its failing rows and Data Docs stay
inside GX). Every derivation lives in `derive_columns`; nothing else rewrites data.
"""

from __future__ import annotations

import polars as pl

RANKING_UNCERTAINTY_COLUMNS = ("median_rank", "rank_p05", "rank_p95")


def join_uncertainty(ranking: pl.DataFrame, uncertainty: pl.DataFrame) -> pl.DataFrame:
    """Left-join `analysis.uncertainty` onto `mart_city_ranking` for the `index_ranking` suite.

    Only the uncertainty columns are taken (the ranking's own `rank` wins), so unranked cities
    keep null intervals, which the interval checks ignore.
    """
    keep = ["year", "city_id", *RANKING_UNCERTAINTY_COLUMNS]
    extra = uncertainty.select([c for c in keep if c in uncertainty.columns])
    return ranking.join(extra, on=["year", "city_id"], how="left")


def _has(frame: pl.DataFrame, *cols: str) -> bool:
    return all(c in frame.columns for c in cols)


def _to_datetime(col: str, dtype: pl.DataType) -> pl.Expr:
    """Dates as `Datetime("ns")`: GX's pandas `between` only compares datetime64[ns] columns."""
    expr = pl.col(col)
    if dtype == pl.String:
        # Accept 2025-01-31, 2025-01 and the 2025010100 (YYYYMMDDHH) form; anything else -> null,
        # which the not-null expectation on the column reports.
        s = expr.str.strip_chars()
        expr = pl.coalesce(
            s.str.strptime(pl.Date, "%Y-%m-%d", strict=False),
            (s + "-01").str.strptime(pl.Date, "%Y-%m-%d", strict=False),
            s.str.slice(0, 8).str.strptime(pl.Date, "%Y%m%d", strict=False),
        )
    elif isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        expr = expr.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
    return expr.cast(pl.Datetime("ns")).alias(col)


def _rank_checks(frame: pl.DataFrame, over: list[str]) -> list[pl.Expr]:
    """`rank_min_expected`: the min-rank of the ranks themselves within `over`.

    Contiguous ranks with standard competition ties equal their own min-rank: 1,1,3 -> 1,1,3
    passes; 1,3 -> 1,2 and 1,2,2,3 -> 1,2,2,4 fail on the offending rows.
    """
    if not _has(frame, "rank", *over):
        return []
    rank = pl.col("rank")
    integer = (
        pl.lit(True)
        if frame.schema["rank"].is_integer()
        else rank.is_null() | (rank.cast(pl.Float64) == rank.cast(pl.Float64).floor())
    )
    return [
        rank.cast(pl.Float64).rank("min").over(over).cast(pl.Float64).alias("rank_min_expected"),
        integer.alias("rank_is_integer"),
    ]


def derive_columns(suite: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Add the derived check columns a suite expects; missing inputs add nothing.

    A derived column whose inputs are absent is simply not created: the suite's schema
    expectation and the expectation on the derived column then fail (never pass) by name.

    - all suites: Date/Datetime (and text `month`) columns become `Datetime("ns")`.
    - indicators: `city_availability` = share of the city's rows in the year with a raw value;
      `imputed_flag` = `imputed` as 0/1 (its mean is the imputed share).
    - index_scores: `rank_min_expected`, `rank_is_integer` per (year, icode).
    - index_ranking: the same per year; `ranked_complete` = not ranked, or score and rank
      present; `rank_change_unexplained` = |rank_change| where `change_reason` is null.
    - index_weights: `parent_weight_error` = |sum(weight_normalised) - 1| per parent (null for
      the root, which has no parent).
    """
    casts = [
        _to_datetime(name, dtype)
        for name, dtype in frame.schema.items()
        if dtype == pl.Date
        or isinstance(dtype, pl.Datetime)
        or (name in ("month", "date") and dtype == pl.String)
    ]
    out = frame.with_columns(casts) if casts else frame
    derived: list[pl.Expr] = []
    if suite == "indicators":
        if _has(out, "city_id", "year", "raw_value"):
            derived.append(
                pl.col("raw_value")
                .is_not_null()
                .cast(pl.Float64)
                .mean()
                .over(["city_id", "year"])
                .alias("city_availability")
            )
        if _has(out, "imputed"):
            derived.append(pl.col("imputed").cast(pl.Int8).alias("imputed_flag"))
    elif suite == "index_scores":
        derived += _rank_checks(out, ["year", "icode"])
    elif suite == "index_ranking":
        derived += _rank_checks(out, ["year"])
        if _has(out, "ranked", "score", "rank"):
            derived.append(
                (
                    ~pl.col("ranked").fill_null(False)
                    | (pl.col("score").is_not_null() & pl.col("rank").is_not_null())
                ).alias("ranked_complete")
            )
        if _has(out, "rank_change"):
            reason = (
                pl.col("change_reason").is_not_null()
                & (pl.col("change_reason").cast(pl.String).str.strip_chars() != "")
                if _has(out, "change_reason")
                else pl.lit(False)
            )
            derived.append(
                pl.when(reason)
                .then(None)
                .otherwise(pl.col("rank_change").cast(pl.Float64).abs())
                .alias("rank_change_unexplained")
            )
    elif suite == "index_weights" and _has(out, "parent", "weight_normalised"):
        derived.append(
            pl.when(pl.col("parent").is_not_null())
            .then((pl.col("weight_normalised").cast(pl.Float64).sum().over("parent") - 1).abs())
            .alias("parent_weight_error")
        )
    return out.with_columns(derived) if derived else out
