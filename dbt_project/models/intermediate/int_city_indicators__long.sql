{#- The city index's indicators in the engine's long form (unit, year, indicator, value): the
    union of every source's int_<source>__indicators model (macros/indicator_models.sql, written
    from the source specs). Missing stays missing (no row): the engine screens and aggregation
    skips it. -#}
with all_values as (
{% for model in indicator_models() %}
    {% if not loop.first %}union all {% endif %}select city_id, year, icode, value
    from {{ ref(model) }}
{% endfor %}
),
grid as (
    -- Every registry city for every loaded year, so a city with no data at all is still listed.
    select c.city_id, y.year
    from {{ ref('stg_registry__cities') }} as c
    cross join {{ ref('stg_ingest__loaded_years') }} as y
)
select g.city_id as unit_code, g.year, v.icode, v.value
from grid as g
left join all_values as v using (city_id, year)
