{#- The partition years for which responses were landed: the years the index can be built for. -#}
select distinct year
from {{ source('raw', 'api_responses') }}
where year between {{ var('first_year') }} and {{ var('year') }}
