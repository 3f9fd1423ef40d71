{#- Written by pipelines/sources/dbt_sources.py from the source specs: do not edit. -#}
{% macro indicator_models() %}
    {{ return(['int_gdelt__indicators', 'int_wikimedia__indicators', 'int_wikidata__indicators', 'int_worldbank__indicators', 'int_hackernews__indicators', 'int_stackexchange__indicators', 'int_curated__indicators']) }}
{% endmacro %}
