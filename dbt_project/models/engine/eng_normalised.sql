{#- Normalise each indicator (direction applied first), as COINr's Normalise:
    minmax        n_minmax per year: (x - min) / (max - min) * (upper - lower) + lower;
    minmax_panel  the same with min and max pooled over every year's rows (COINr's
                  Normalise(purse, global = TRUE)), so scores are comparable over time;
    zscore        n_zscore with its default m_sd = c(0, 1): (x - mean) / sd with the sample sd
                  (n - 1), per year; range_lower and range_upper do not apply and are ignored.
    Statistics use the present values only; missing stays missing. A constant indicator has
    no spread and gives null (COINr's 0/0 = NaN), which aggregation skips. -#}
{% set method = var('normalise') %}
{% set lower = var('range_lower') | float %}
{% set upper = var('range_upper') | float %}
{% if method not in ('minmax', 'minmax_panel', 'zscore') %}
{{ exceptions.raise_compiler_error("normalise must be minmax, minmax_panel or zscore, got " ~ method) }}
{% endif %}
{% set by_year = method != 'minmax_panel' %}
with oriented as (
    select t.unit_code, t.year, t.icode, t.value * f.direction as x
    from {{ ref('eng_treated') }} as t
    join {{ ref('eng_framework') }} as f on f.icode = t.icode and f.level = 1
),
stats as (
    -- Only the statistics the method uses (the ordered lists of zscore cost min-max a third of
    -- this model's time). Mean and sd over an ordered list (one fixed summation order): the
    -- same bits every run.
    select {% if by_year %}year, {% endif %}icode,
{% if method == 'zscore' %}
           list_avg(list(x order by year, unit_code) filter (where x is not null)) as x_mean,
           list_stddev_samp(list(x order by year, unit_code) filter (where x is not null))
               as x_sd
{% else %}
           min(x) as x_min, max(x) as x_max
{% endif %}
    from oriented
    group by {% if by_year %}year, {% endif %}icode
)
select
    o.unit_code,
    o.year,
    o.icode,
{% if method == 'zscore' %}
    case when s.x_sd > 0 then (o.x - s.x_mean) / s.x_sd end as value
{% else %}
    case when s.x_max > s.x_min
        then (o.x - s.x_min) / (s.x_max - s.x_min) * ({{ upper }} - {{ lower }}) + {{ lower }}
    end as value
{% endif %}
from oriented as o
join stats as s on s.icode = o.icode{% if by_year %} and s.year = o.year{% endif %}
