select city_id, year, lang, article, cast(month as date) as month, cast(views as bigint) as views,
       response_sha256
from {{ source('raw', 'wikimedia_pageviews') }}
where {{ in_build_years() }}
