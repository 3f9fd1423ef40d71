{#- Wikimedia's indicator per city and year (wiki_foreign_views), long form: views in the
    language editions that are not a local language of the city. -#}
{{ config(materialized='view') }}
select p.city_id, p.year, 'wiki_foreign_views' as icode, sum(p.views)::double as value
from {{ ref('stg_wikimedia__pageviews') }} as p
join {{ ref('stg_registry__cities') }} as c using (city_id)
where not list_contains(string_split(coalesce(c.local_langs, ''), '|'), p.lang)
group by p.city_id, p.year
