{#- The framework the engine computes: indicators and aggregates with their weights. -#}
{% if var('engine_input') == 'compute' %}
select cast(level as integer) as level, icode, iname, cast(direction as double) as direction,
       {{ configured_weight('icode', 'cast(weight as double)') }} as weight,
       nullif(parent, '') as parent, type
from {{ source('compute', 'framework') }}
{% else %}
select level, icode, iname, direction,
       {{ configured_weight('icode', 'weight') }} as weight, parent, type
from {{ ref('stg_framework__indicators') }}
{% endif %}
where type in ('Indicator', 'Aggregate')
