select city_id, year, site, cast(period_year as integer) as period_year, query,
       cast(total as bigint) as total, response_sha256
from {{ source('raw', 'stackexchange_questions') }}
where {{ in_build_years() }}
