select city_id, year, platform, account, cast(followers as bigint) as followers,
       cast(observed_at as timestamp) as observed_at, response_sha256
from {{ source('raw', 'social_followers') }}
where {{ in_build_years() }}
