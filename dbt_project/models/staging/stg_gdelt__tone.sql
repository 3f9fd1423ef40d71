select city_id, year, cast(date as date) as date, cast(avg_tone as double) as avg_tone,
       response_sha256
from {{ source('raw', 'gdelt_tone') }}
where {{ in_build_years() }}
