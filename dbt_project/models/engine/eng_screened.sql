{#- Screen: a unit-year whose share of available indicators is below the threshold is not ranked
    and takes no part in the later steps (COINr Screen(unit_screen = "byNA"): Dat_Avail =
    1 - n_missing / n_indicators, included when Dat_Avail >= dat_thresh; the same formula, so
    that a threshold on a boundary gives the same answer to the last bit). -#}
select
    unit_code,
    year,
    count(value) as n_available,
    count(*) as n_indicators,
    1 - (count(*) - count(value)) / count(*) as data_availability,
    1 - (count(*) - count(value)) / count(*) >= {{ var('screen_threshold') }} as included
from {{ ref('eng_input') }}
group by unit_code, year
