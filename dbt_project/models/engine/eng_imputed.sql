{#- Impute (for screened-in units, per year and indicator, on the raw values), as COINr's
    Impute(f_i = "i_mean") and Impute(f_i = "i_mean_grp", use_group = COLUMN): none, the mean of
    the present values of the indicator, or that mean within the unit's group. A mean of no
    present value leaves the value missing. The groups source holds only the group column chosen
    by the caller, so no name is spliced. -#}
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
, means as (
    -- Averaged in unit order (list_avg over an ordered list): the same bits on every run.
    select year, icode, list_avg(list(value order by unit_code)) as mean_value
    from included
    where value is not null
    group by year, icode
)
select i.unit_code, i.year, i.icode,
       coalesce(i.value, m.mean_value) as value,
       i.value is null and m.mean_value is not null as imputed
from included as i
left join means as m using (year, icode)
{% elif method.startswith('group_mean:') %}
, grouped as (
    select included.*, g.group_value
    from included
    left join {{ source('compute', 'groups') }} as g
        on g.unit_code = included.unit_code and g.year = included.year
)
, means as (
    -- Averaged in unit order (list_avg over an ordered list): the same bits on every run.
    select year, icode, group_value, list_avg(list(value order by unit_code)) as group_mean
    from grouped
    where value is not null
    group by year, icode, group_value
)
, group_means as (
    select grouped.*, means.group_mean
    from grouped
    left join means
        on means.year = grouped.year and means.icode = grouped.icode
        and means.group_value is not distinct from grouped.group_value
)
{#- As COINr's i_mean_grp (skip_f_na = TRUE): a unit whose group is missing is left as it is. #}
select unit_code, year, icode,
       case when value is null and group_value is not null then group_mean else value end
           as value,
       value is null and group_value is not null and group_mean is not null as imputed
from group_means
{% else %}
{{ exceptions.raise_compiler_error("impute must be none, mean or group_mean:COLUMN, got " ~ method) }}
{% endif %}
