{#- The curated inputs' indicator per city and year (city_population), long form. A
    structural variable: the latest estimate at or before the year; for years before the first
    estimate in the inputs, the earliest one (populations move a few percent a year). -#}
{{ config(materialized='view') }}
select city_id, year, 'city_population' as icode,
       coalesce(arg_max(value, stat_year) filter (where stat_year <= year),
                arg_min(value, stat_year)) as value
from {{ ref('stg_curated__city_statistics') }}
where indicator = 'population_agglomeration'
group by city_id, year
