select
    id as city_id,
    name_en,
    name_zh,
    name_local,
    country_iso3,
    country_iso2,
    country_fips,
    region,
    local_langs,
    wikidata_qid,
    gawc_name,
    cast(latitude as double) as latitude,
    cast(longitude as double) as longitude
from {{ source('raw', 'cities') }}
