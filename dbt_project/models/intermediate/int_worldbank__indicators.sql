{#- The World Bank's indicator per city and year (gdp_per_capita), long form. National
    context: the latest observation available in the partition's response, for every city of
    the country. -#}
{{ config(materialized='view') }}
select c.city_id, w.year, 'gdp_per_capita' as icode,
       arg_max(w.value, w.obs_year) as value
from {{ ref('stg_worldbank__indicators') }} as w
join {{ ref('stg_registry__cities') }} as c using (country_iso3)
where w.indicator_id = 'NY.GDP.PCAP.CD' and w.value is not null and w.obs_year <= w.year
group by c.city_id, w.year
