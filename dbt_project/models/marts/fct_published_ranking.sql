{#- Other published city rankings (curated, assets/inputs/published_rankings.csv) as landed for
    each year: the external benchmarks the analysis correlates the index with. -#}
select year, ranking, edition_year, city_id, position, source_url
from {{ ref('stg_curated__published_rankings') }}
