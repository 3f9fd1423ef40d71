{#- Long input: one row per unit, year and level-1 indicator, missing values as null.
    compute's source is the checked iData, wide: one row per unit and year and one column per
    indicator, so unpivoting it with its nulls gives that grid; through a view, since the
    grid's join and a copy of every value cost a 5,000 x 20 panel about 3 s. (No name is
    spliced: every column but the two keys.) The city's long data has no row for a value it
    lacks: the grid is made here, and kept as a table because eng_screened and eng_imputed
    both read it. -#}
{% if var('engine_input') == 'compute' %}
{{ config(materialized='view') }}
select unit_code, cast(year as integer) as year, icode, cast(value as double) as value
from {{ source('compute', 'data') }}
unpivot include nulls (value for icode in (columns(* exclude (unit_code, year))))
{% else %}
{{ config(materialized='table') }}
with data as (
    select unit_code, year, icode, value
    from {{ ref('int_city_indicators__long') }}
    where {{ in_build_years() }}
),
indicators as (
    select icode from {{ ref('eng_framework') }} where level = 1
),
units as (
    select distinct unit_code, year from data
)
select u.unit_code, u.year, i.icode, d.value
from units as u
cross join indicators as i
left join data as d
    on d.unit_code = u.unit_code and d.year = u.year and d.icode = i.icode
{% endif %}
