{#- Aggregate level by level up to the index, then rank every code within its year.
    Arithmetic: weighted mean of the children present, weights renormalised over them.
    Geometric: exp(sum(w * ln x) / sum(w)) over the children present; a value <= 0 stops the
    build with an error, as COINr's a_gmean does (normalise to [1, 100] first).
    Rank: highest first, ties share the best rank (1, 1, 3), as R's rank(-x, ties = "min"). -#}
{% set method = var('aggregate') %}
{% if method not in ('amean', 'gmean') %}
{{ exceptions.raise_compiler_error("aggregate must be amean or gmean, got " ~ method) }}
{% endif %}
with framework as (
    select * from {{ ref('eng_framework') }}
),
level_1 as (
    select unit_code, year, icode, value from {{ ref('eng_normalised') }}
),
{% for k in range(2, var('max_level') + 1) %}
level_{{ k }} as (
    select c.unit_code, c.year, f.parent as icode,
{% if method == 'gmean' %}
           exp(sum(f.weight * ln(case when c.value > 0 then c.value else error(
               'aggregate gmean needs positive values (' || c.icode || ' = ' || cast(c.value as varchar)
               || '): normalise with minmax to a range such as 1,100 first') end))
               / sum(f.weight)) as value
{% else %}
           sum(c.value * f.weight) / sum(f.weight) as value
{% endif %}
    from level_{{ k - 1 }} as c
    join framework as f on f.icode = c.icode and f.level = {{ k - 1 }}
    where c.value is not null and f.parent is not null
    group by c.unit_code, c.year, f.parent
),
{% endfor %}
all_levels as (
{% for k in range(1, var('max_level') + 1) %}
    select unit_code, year, icode, value from level_{{ k }}
    {% if not loop.last %}union all{% endif %}
{% endfor %}
),
grid as (
    select u.unit_code, u.year, f.icode, f.level
    from (select distinct unit_code, year from {{ ref('eng_screened') }}) as u
    cross join framework as f
)
select
    g.unit_code,
    g.year,
    g.icode,
    g.level,
    a.value,
    case when a.value is not null
        then rank() over (partition by g.year, g.icode, a.value is null order by a.value desc)
    end as rank
from grid as g
left join all_levels as a
    on a.unit_code = g.unit_code and a.year = g.year and a.icode = g.icode
