{#- Screen: a unit-year whose share of available indicators is below the threshold is not ranked. -#}
select
    unit_code,
    year,
    count(value) as n_available,
    count(*) as n_indicators,
    count(value) / count(*) as data_availability,
    count(value) / count(*) >= {{ var('screen_threshold') }} as included
from {{ ref('eng_input') }}
group by unit_code, year
