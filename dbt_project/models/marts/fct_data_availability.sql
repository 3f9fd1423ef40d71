{#- Screening per city and year: the share of indicators with a value and whether the city is
    ranked. Kept for every year built (delete+insert of the build's years). -#}
select unit_code as city_id, year, n_available, n_indicators, data_availability, included
from {{ ref('eng_screened') }}
