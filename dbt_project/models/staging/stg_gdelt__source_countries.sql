select city_id, year, cast(date as date) as date, source_country, source_fips,
       cast(value as double) as value, response_sha256
from {{ source('raw', 'gdelt_source_country') }}
where {{ in_build_years() }}
