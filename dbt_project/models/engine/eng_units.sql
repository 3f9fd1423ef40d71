{#- Every unit numbered in the order of its code (unit_id), the screened-out ones too, so that
    every row of eng_ranked has its number; ordered by unit_id, units come in the order of
    their code. -#}
select unit_code, cast(row_number() over (order by unit_code) as integer) as unit_id
from (select distinct unit_code from {{ ref('eng_screened') }})
