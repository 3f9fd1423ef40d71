select city_id, year, qid, site, title, response_sha256
from {{ source('raw', 'wikidata_sitelinks') }}
where {{ in_build_years() }}
