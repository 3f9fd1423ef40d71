select city_id, year, cast(stat_year as integer) as stat_year, indicator,
       cast(value as double) as value, unit, source_url, source_file, source_row
from {{ source('raw', 'curated_city_statistics') }}
where {{ in_build_years() }}
