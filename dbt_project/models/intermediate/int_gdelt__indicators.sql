{#- GDELT's indicators per city and year (media_volume, media_reach, media_tone), long form. -#}
{{ config(materialized='view') }}
with cities as (
    select city_id, country_fips from {{ ref('stg_registry__cities') }}
),
media_volume as (
    select city_id, year, 'media_volume' as icode, sum(article_count)::double as value
    from {{ ref('stg_gdelt__volume') }}
    group by city_id, year
),
media_reach as (
    select s.city_id, s.year, 'media_reach' as icode,
           count(distinct s.source_country)::double as value
    from {{ ref('stg_gdelt__source_countries') }} as s
    join cities as c using (city_id)
    where s.value > 0 and s.source_fips is distinct from c.country_fips
    group by s.city_id, s.year
),
media_tone as (
    -- Article-weighted: a day with many articles counts for more than a quiet day. Summed
    -- in date order (list_sum over an ordered list), so the last digit never depends on
    -- how DuckDB's threads split the rows.
    select t.city_id, t.year, 'media_tone' as icode,
           list_sum(list(t.avg_tone * v.article_count order by t.date))
               / nullif(sum(v.article_count), 0) as value
    from {{ ref('stg_gdelt__tone') }} as t
    join {{ ref('stg_gdelt__volume') }} as v using (city_id, year, date)
    group by t.city_id, t.year
)
select * from media_volume
union all select * from media_reach
union all select * from media_tone
