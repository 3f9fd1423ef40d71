{#- The years one build computes: year_from..year_to (a Dagster partition or partition range).
    Per-year steps only ever see these years, so building one year never touches another.
    Panel min-max pools every year, so with it a build of year_to recomputes every year from
    first_year (the asset says so in its description and metadata). -#}
{% macro build_year_from() -%}
    {{ var('first_year') if var('normalise') == 'minmax_panel' else var('year_from') }}
{%- endmacro %}

{% macro in_build_years(column='year') -%}
    {{ column }} between {{ build_year_from() }} and {{ var('year_to') }}
{%- endmacro %}
