{#- Aggregate level by level up to the index, then rank every code within its year.
    Arithmetic: weighted mean of the children present, weights renormalised over them.
    Geometric: exp(sum(w * ln x) / sum(w)) over the children present; a value <= 0 stops the
    build with an error, as COINr's a_gmean does (normalise to [1, 100] first).
    Rank: highest first, ties share the best rank (1, 1, 3), as R's rank(-x, ties = "min").
    Sums run over lists ordered by child code (list_sum), never in the order DuckDB's threads
    deliver rows: the same inputs give the same bits, so a tie can never flip two ranks. The
    lists are gathered unordered and then sorted by code (codes are unique among a parent's
    children, so the order is total): the same order as an ordered aggregate, at a fraction of
    its cost (DuckDB's ORDER BY inside an aggregate buffers and sorts every group's rows). -#}

{% set method = var('aggregate') %}
{% if method not in ('amean', 'gmean') %}
{{ exceptions.raise_compiler_error("aggregate must be amean or gmean, got " ~ method) }}
{% endif %}
with framework as (
    select * from {{ ref('eng_framework') }}
),
level_1 as (
    -- Every indicator of every screened-in unit (null when missing or constant).
    select unit_code, year, icode, 1 as level, value from {{ ref('eng_normalised') }}
),
{% for k in range(2, var('max_level') + 1) %}
level_{{ k }} as (
    -- One row per parent and unit: null when none of its children has a value.
    select c.unit_code, c.year, f.parent as icode, {{ k }} as level,
{% if method == 'gmean' %}
           exp(list_sum(list_transform(list_sort(list({'code': c.icode, 'term': f.weight * ln(
               case when c.value > 0 then c.value else error(
               'aggregate gmean needs positive values (' || c.icode || ' = ' || cast(c.value as varchar)
               || '): normalise with minmax to a range such as 1,100 first') end)})
               filter (where c.value is not null)), lambda pair: pair.term))
               / list_sum(list_transform(list_sort(list({'code': c.icode, 'term': f.weight})
               filter (where c.value is not null)), lambda pair: pair.term)))
               as value
{% else %}
           list_sum(list_transform(list_sort(list({'code': c.icode, 'term': c.value * f.weight})
               filter (where c.value is not null)), lambda pair: pair.term))
               / list_sum(list_transform(list_sort(list({'code': c.icode, 'term': f.weight})
               filter (where c.value is not null)), lambda pair: pair.term))
               as value
{% endif %}
    from level_{{ k - 1 }} as c
    join framework as f on f.icode = c.icode and f.level = {{ k - 1 }}
    where f.parent is not null
    group by c.unit_code, c.year, f.parent
),
{% endfor %}
screened_out as (
    -- Units below the availability threshold are listed with every code, unscored.
    select s.unit_code, s.year, f.icode, f.level, cast(null as double) as value
    from {{ ref('eng_screened') }} as s
    cross join framework as f
    where not s.included
),
all_levels as (
{% for k in range(1, var('max_level') + 1) %}
    select unit_code, year, icode, level, value from level_{{ k }}
    union all
{% endfor %}
    select unit_code, year, icode, level, value from screened_out
)
select
    unit_code,
    year,
    icode,
    level,
    value,
    case when value is not null
        then rank() over (partition by year, icode order by value desc nulls last)
    end as rank
from all_levels
