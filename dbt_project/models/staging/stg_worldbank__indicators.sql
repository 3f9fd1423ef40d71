select country_iso3, indicator_id, year, cast(obs_year as integer) as obs_year,
       cast(value as double) as value, last_updated, response_sha256
from {{ source('raw', 'worldbank_indicator') }}
where {{ in_build_years() }}
