{#- The partition years for which any source landed data: the years the index is built for. -#}
with years as (
    select year from {{ source('raw', 'gdelt_volume') }}
    union select year from {{ source('raw', 'wikimedia_pageviews') }}
    union select year from {{ source('raw', 'wikidata_sitelinks') }}
    union select year from {{ source('raw', 'worldbank_indicator') }}
)
select distinct year from years
where {{ in_build_years() }}
