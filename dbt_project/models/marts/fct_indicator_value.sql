{#- Each indicator per city and year through every engine step: raw, imputed, treated, normalised. -#}
select
    i.unit_code as city_id,
    i.year,
    i.icode,
    i.value as raw_value,
    coalesce(t.imputed, false) as imputed,
    t.value as treated_value,
    coalesce(t.treatment, 'not ranked') as treatment,
    n.value as normalised_value
from {{ ref('eng_input') }} as i
left join {{ ref('eng_treated') }} as t using (unit_code, year, icode)
left join {{ ref('eng_normalised') }} as n using (unit_code, year, icode)
