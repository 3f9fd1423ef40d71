select city_id, year, cast(period_year as integer) as period_year, query,
       cast(hits as bigint) as hits, cast(exhaustive as boolean) as exhaustive, response_sha256
from {{ source('raw', 'hackernews_mentions') }}
where {{ in_build_years() }}
