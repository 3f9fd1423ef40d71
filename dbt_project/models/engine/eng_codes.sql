{#- Every code of the framework numbered in the order of its text (code_id), with its parent's
    number (null at the top): eng_ranked groups, sorts and partitions on these integers instead
    of text (about twice as fast at 5,000 units x 20 years), and ordered by code_id the codes
    come in the order of their text, so sums over children sorted by code_id keep the same
    order (the same bits) as sorted by code. -#}
with framework as (
    select icode, level, weight, parent,
           cast(row_number() over (order by icode) as integer) as code_id
    from {{ ref('eng_framework') }}
)
select c.code_id, c.icode, c.level, c.weight, p.code_id as parent_id
from framework as c
left join framework as p on p.icode = c.parent
