{#- Values after outlier treatment: the imputed value, replaced where eng_treatment changed it. -#}
select
    i.unit_code,
    i.year,
    i.icode,
    coalesce(t.value, i.value) as value,
    coalesce(t.treatment, 'none') as treatment,
    i.imputed
from {{ ref('eng_imputed') }} as i
left join {{ ref('eng_treatment') }} as t
    on t.row_kind = 'value'
    and t.unit_code = i.unit_code and t.year = i.year and t.icode = i.icode
