{#- Aggregate level by level up to the index, then rank every code within its year; units and
    codes by number (eng_units, eng_codes), named by eng_scores.
    Arithmetic: weighted mean of the children present, weights renormalised over them.
    Geometric: exp(sum(w * ln x) / sum(w)) over the children present; a value <= 0 stops the
    build with an error, as COINr's a_gmean does (normalise to [1, 100] first).
    Rank: highest first, ties share the best rank (1, 1, 3), as R's rank(-x, ties = "min").
    Sums run over lists ordered by child code (list_sum), never in the order DuckDB's threads
    deliver rows: the same inputs give the same bits, so a tie can never flip two ranks. Each
    parent's children are gathered unordered as one list of (code, terms) and sorted once by
    code (codes are unique among a parent's children, so the order is total): the same order as
    an ordered aggregate, at a fraction of its cost. The weights do not travel in those lists:
    each child's weight is read by its number from one list of every code's weight (code_id
    numbers the codes 1..n), the same double in the same order, and two fields to sort instead
    of three (about a fifth of the level-2 aggregation at 5,000 units x 20 years).
    No names travel through the levels and the ranks, and none are joined here: compute writes
    its 6 million rows from the numbers, naming them from eng_units and eng_codes as it writes
    (about a second less at 5,000 x 20 than joining the names). -#}

{% set method = var('aggregate') %}
{% if method not in ('amean', 'gmean') %}
{{ exceptions.raise_compiler_error("aggregate must be amean or gmean, got " ~ method) }}
{% endif %}
with tree as (
    select * from {{ ref('eng_codes') }}
),
units as (
    select * from {{ ref('eng_units') }}
),
weights as (
    -- One row: weight_of[code_id] is that code's weight.
    select list(weight order by code_id) as weight_of from tree
),
level_1 as (
    -- Every indicator of every screened-in unit (null when missing or constant).
    select u.unit_id, n.year, t.code_id, 1 as level, n.value
    from {{ ref('eng_normalised') }} as n
    join units as u on u.unit_code = n.unit_code
    join tree as t on t.icode = n.icode and t.level = 1
),
{% for k in range(2, var('max_level') + 1) %}
level_{{ k }} as (
    -- One row per parent and unit: null when none of its children has a value.
    select unit_id, year, code_id, {{ k }} as level,
{% if method == 'gmean' %}
           exp(list_sum(list_transform(terms, lambda t: t.log_term))
               / list_sum(list_transform(terms, lambda t: w.weight_of[t.code]))) as value
{% else %}
           list_sum(list_transform(terms, lambda t: t.term))
               / list_sum(list_transform(terms, lambda t: w.weight_of[t.code])) as value
{% endif %}
    from (
        select c.unit_id, c.year, t.parent_id as code_id,
{% if method == 'gmean' %}
               list_sort(list({'code': c.code_id, 'log_term': t.weight * ln(
                   case when c.value > 0 then c.value else error(
                   'aggregate gmean needs positive values (' || t.icode || ' = '
                   || cast(c.value as varchar)
                   || '): normalise with minmax to a range such as 1,100 first') end)})
                   filter (where c.value is not null)) as terms
{% else %}
               list_sort(list({'code': c.code_id, 'term': c.value * t.weight})
                   filter (where c.value is not null)) as terms
{% endif %}
        from level_{{ k - 1 }} as c
        join tree as t on t.code_id = c.code_id and t.level = {{ k - 1 }}
        where t.parent_id is not null
        group by c.unit_id, c.year, t.parent_id
    )
    cross join weights as w
),
{% endfor %}
ranked as (
    select
        unit_id,
        year,
        code_id,
        level,
        value,
        case when value is not null
            then rank() over (partition by year, code_id order by value desc nulls last)
        end as rank
    from (
{% for k in range(1, var('max_level') + 1) %}
        select unit_id, year, code_id, level, value from level_{{ k }}
        {% if not loop.last %}union all{% endif %}
{% endfor %}
    )
)
select unit_id, year, code_id, level, value, rank
from ranked
union all
-- Units below the availability threshold are listed with every code, unscored.
select u.unit_id, s.year, t.code_id, t.level, cast(null as double) as value,
       cast(null as bigint) as rank
from {{ ref('eng_screened') }} as s
join units as u on u.unit_code = s.unit_code
cross join tree as t
where not s.included
