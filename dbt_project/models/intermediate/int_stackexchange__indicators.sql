{#- Stack Exchange's indicator per city and year (se_questions), long form: Travel +
    Expatriates questions created in the partition year (all name variants). -#}
{{ config(materialized='view') }}
select city_id, year, 'se_questions' as icode, sum(total)::double as value
from {{ ref('stg_stackexchange__questions') }}
where period_year = year
group by city_id, year
