{#- Long input: one row per unit, year and level-1 indicator, missing values as null. -#}
with data as (
{% if var('engine_input') == 'compute' %}
    select unit_code, cast(year as integer) as year, icode, cast(value as double) as value
    from {{ source('compute', 'data') }}
{% else %}
    select unit_code, year, icode, value
    from {{ ref('int_city_indicators__long') }}
    where {{ in_build_years() }}
{% endif %}
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
