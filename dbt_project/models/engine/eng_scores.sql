{#- Every unit, year and code with its score and rank (eng_ranked), named. A view: its one
    reader, the city's fct_index_score, keeps the rows; compute names its output itself. -#}
{{ config(materialized='view') }}
select u.unit_code, r.year, c.icode, r.level, r.value, r.rank
from {{ ref('eng_ranked') }} as r
join {{ ref('eng_units') }} as u on u.unit_id = r.unit_id
join {{ ref('eng_codes') }} as c on c.code_id = r.code_id
