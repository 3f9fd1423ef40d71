select unit_code as city_id, year, icode, level, value as score, rank
from {{ ref('eng_scores') }}
