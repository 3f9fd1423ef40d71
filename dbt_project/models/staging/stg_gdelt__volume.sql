select city_id, year, cast(date as date) as date,
       cast(article_count as bigint) as article_count, cast(norm_total as bigint) as norm_total,
       response_sha256
from {{ source('raw', 'gdelt_volume') }}
where {{ in_build_years() }}
