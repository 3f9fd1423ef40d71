{#- Hacker News's indicator per city and year (hn_mentions), long form: stories + comments in
    the partition year, summed over the registry's name variants. -#}
{{ config(materialized='view') }}
select city_id, year, 'hn_mentions' as icode, sum(hits)::double as value
from {{ ref('stg_hackernews__mentions') }}
where period_year = year
group by city_id, year
