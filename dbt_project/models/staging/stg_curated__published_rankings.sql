select ranking, cast(edition_year as integer) as edition_year, city_id,
       cast(position as integer) as position, source_url, source_file, source_row, year
from {{ source('raw', 'curated_published_rankings') }}
where {{ in_build_years() }}
