{#- A framework weight, replaced where the method's `weights` var names the code
    (pipelines.index.method.MethodConfig.weights). Codes are checked as identifiers and weights
    as positive numbers before they reach the SQL. -#}
{% macro configured_weight(icode_column, weight_column) %}
{%- set overrides = var('weights', {}) -%}
{%- if overrides is string -%}{%- set overrides = fromjson(overrides) -%}{%- endif -%}
{%- if overrides -%}
case {{ icode_column }}
{%- for code, weight in overrides.items() %}
{%- if not modules.re.match('^[A-Za-z_][A-Za-z0-9_.]*$', code) or not (weight | float > 0) %}
{{ exceptions.raise_compiler_error("weights: invalid code or weight " ~ code ~ ": " ~ weight) }}
{%- endif %}
    when '{{ code }}' then cast({{ weight | float }} as double)
{%- endfor %}
    else {{ weight_column }}
end
{%- else -%}
{{ weight_column }}
{%- endif -%}
{% endmacro %}
