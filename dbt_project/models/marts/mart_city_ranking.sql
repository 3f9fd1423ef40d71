{#- One row per city and year: the index score and rank, pillar scores, change on the year before.
    A view over the per-year facts, so the change always compares with the year before as it
    stands now: rebuilding one year can never leave another year's change stale. -#}
{{ config(materialized='view') }}
{#- The pillar columns are the framework's pillars (children of the top code), in file order;
    codes are checked as identifiers when the framework is loaded (framework_check.py). -#}
{% set framework = ref('stg_framework__indicators') %}
{% set pillars = [] %}
{% if execute %}
{% set found = run_query(
    "select icode from " ~ framework ~ " where parent = (select icode from " ~ framework
    ~ " where parent is null) order by position"
) %}
{% set pillars = found.columns[0].values() %}
{% endif %}
with scores as (
    select * from {{ ref('fct_index_score') }}
),
top_code as (
    select icode from {{ ref('eng_framework') }} where parent is null
),
ranking as (
    select
        s.city_id,
        s.year,
        sc.data_availability,
        sc.included and idx.score is not null as ranked,
        idx.score,
        idx.rank,
{% for pillar in pillars %}
        max(case when s.icode = '{{ pillar }}' then s.score end) as {{ pillar }}{% if not loop.last %},{% endif %}
{% endfor %}
    from scores as s
    join {{ ref('fct_data_availability') }} as sc on sc.city_id = s.city_id and sc.year = s.year
    left join scores as idx
        on idx.city_id = s.city_id and idx.year = s.year
        and idx.icode = (select icode from top_code)
    group by s.city_id, s.year, sc.data_availability, sc.included, idx.score, idx.rank
)
select
    r.year,
    r.city_id,
    c.name_en,
    c.name_zh,
    c.country_iso3,
    r.ranked,
    r.data_availability,
    r.score,
    r.rank,
    r.score - previous.score as score_change,
    previous.rank - r.rank as rank_change,
    previous.rank as previous_rank,
{% for pillar in pillars %}
    r.{{ pillar }},
{% endfor %}
    reasons.reason as change_reason
from ranking as r
join {{ ref('dim_city') }} as c using (city_id)
left join {{ ref('change_reasons') }} as reasons
    on reasons.city_id = r.city_id and reasons.year = r.year
left join ranking as previous
    on previous.city_id = r.city_id and previous.year = r.year - 1
