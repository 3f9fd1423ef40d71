{#- The city index's indicators in the engine's long form (unit, year, indicator, value).
    Missing stays missing (no row): the engine screens and aggregation skips it. -#}
with cities as (
    select city_id, country_iso3, country_fips, local_langs from {{ ref('stg_registry__cities') }}
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
),
wiki_foreign_views as (
    select p.city_id, p.year, 'wiki_foreign_views' as icode, sum(p.views)::double as value
    from {{ ref('stg_wikimedia__pageviews') }} as p
    join cities as c using (city_id)
    where not list_contains(string_split(coalesce(c.local_langs, ''), '|'), p.lang)
    group by p.city_id, p.year
),
wiki_editions as (
    select city_id, year, 'wiki_editions' as icode, count(distinct site)::double as value
    from {{ ref('stg_wikidata__sitelinks') }}
    group by city_id, year
),
hn_mentions as (
    -- Stories + comments in the partition year, summed over the registry's name variants.
    select city_id, year, 'hn_mentions' as icode, sum(hits)::double as value
    from {{ ref('stg_hackernews__mentions') }}
    where period_year = year
    group by city_id, year
),
se_questions as (
    -- Travel + Expatriates questions created in the partition year (all name variants).
    select city_id, year, 'se_questions' as icode, sum(total)::double as value
    from {{ ref('stg_stackexchange__questions') }}
    where period_year = year
    group by city_id, year
),
gdp_per_capita as (
    -- National context: the latest observation available in the partition's response.
    select c.city_id, w.year, 'gdp_per_capita' as icode,
           arg_max(w.value, w.obs_year) as value
    from {{ ref('stg_worldbank__indicators') }} as w
    join cities as c using (country_iso3)
    where w.indicator_id = 'NY.GDP.PCAP.CD' and w.value is not null and w.obs_year <= w.year
    group by c.city_id, w.year
),
city_population as (
    -- A structural variable: the latest estimate at or before the year; for years before the
    -- first estimate in the inputs, the earliest one (populations move a few percent a year).
    select city_id, year, 'city_population' as icode,
           coalesce(arg_max(value, stat_year) filter (where stat_year <= year),
                    arg_min(value, stat_year)) as value
    from {{ ref('stg_curated__city_statistics') }}
    where indicator = 'population_agglomeration'
    group by city_id, year
),
all_values as (
    select * from media_volume
    union all select * from media_reach
    union all select * from media_tone
    union all select * from wiki_foreign_views
    union all select * from wiki_editions
    union all select * from hn_mentions
    union all select * from se_questions
    union all select * from gdp_per_capita
    union all select * from city_population
),
grid as (
    -- Every registry city for every loaded year, so a city with no data at all is still listed.
    select c.city_id, y.year from cities as c cross join {{ ref('stg_ingest__loaded_years') }} as y
)
select g.city_id as unit_code, g.year, v.icode, v.value
from grid as g
left join all_values as v using (city_id, year)
