{#- Wikidata's indicator per city and year (wiki_editions), long form. -#}
{{ config(materialized='view') }}
select city_id, year, 'wiki_editions' as icode, count(distinct site)::double as value
from {{ ref('stg_wikidata__sitelinks') }}
group by city_id, year
