{#- Impute (for screened-in units): none, the column mean, or the mean within a unit group.
    The groups source holds only the group column chosen by the caller, so no name is spliced. -#}
{% set method = var('impute') %}
with included as (
    select i.unit_code, i.year, i.icode, i.value
    from {{ ref('eng_input') }} as i
    join {{ ref('eng_screened') }} as s using (unit_code, year)
    where s.included
)
{% if method == 'none' %}
select unit_code, year, icode, value, false as imputed
from included
{% elif method == 'mean' %}
select unit_code, year, icode,
       coalesce(value, avg(value) over (partition by year, icode)) as value,
       value is null and avg(value) over (partition by year, icode) is not null as imputed
from included
{% elif method.startswith('group_mean:') %}
, grouped as (
    select included.*, g.group_value
    from included
    left join {{ source('compute', 'groups') }} as g
        on g.unit_code = included.unit_code and g.year = included.year
)
select unit_code, year, icode,
       coalesce(value, avg(value) over (partition by year, icode, group_value)) as value,
       value is null
           and avg(value) over (partition by year, icode, group_value) is not null as imputed
from grouped
{% else %}
{{ exceptions.raise_compiler_error("impute must be none, mean or group_mean:COLUMN, got " ~ method) }}
{% endif %}
