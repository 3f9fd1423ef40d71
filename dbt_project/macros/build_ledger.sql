{#- Forget, in the build ledger (ledger.built_years, pipelines/index/build_ledger.py), the years
    this invocation is about to replace, before any model runs: from the first year it builds
    (build_year_from(): every year from first_year with panel min-max) onwards, since a year's
    analysis reads the previous year's ranking. Runs on every command that can write (also a
    bare `dbt build` at a shell), so no row ever claims a year a build may have changed; the
    table itself is created by the pipeline when it records a build. -#}
{% macro invalidate_build_ledger() -%}
    {%- set read_only_commands = ['compile', 'docs', 'list', 'ls', 'parse', 'show', 'test'] -%}
    {%- set ledger = adapter.get_relation(
        database=target.database, schema='ledger', identifier='built_years') -%}
    {%- if execute and ledger is not none and flags.WHICH not in read_only_commands -%}
        {#- committed here: dbt rolls back what its hooks leave open -#}
        delete from {{ ledger }} where year >= {{ build_year_from() }}; commit
    {%- else -%}
        select 1 as build_ledger_untouched
    {%- endif -%}
{%- endmacro %}
