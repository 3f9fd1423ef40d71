{#- The method this build used (its vars), one row: the analysis and the release read it back
    (pipelines.index.method.read_method), so what they report is what the engine did.
    Every value is checked by the models that use it (an unknown option stops the build). -#}
{% set weights = var('weights', {}) %}
{% if weights is string %}{% set weights = fromjson(weights) %}{% endif %}
{% for name in ('treat', 'impute', 'normalise', 'aggregate') %}
{% if not modules.re.match('^[a-z_]+(:[A-Za-z0-9_]+)?$', var(name) | string) %}
{{ exceptions.raise_compiler_error(name ~ " has an invalid value: " ~ var(name)) }}
{% endif %}
{% endfor %}
select
    '{{ var("treat") }}' as treat,
    '{{ var("impute") }}' as impute,
    '{{ var("normalise") }}' as normalise,
    cast({{ var("range_lower") | float }} as double) as range_lower,
    cast({{ var("range_upper") | float }} as double) as range_upper,
    '{{ var("aggregate") }}' as aggregate,
    cast({{ var("screen_threshold") | float }} as double) as screen_threshold,
    '{{ tojson(weights) | replace("'", "''") }}' as weights
