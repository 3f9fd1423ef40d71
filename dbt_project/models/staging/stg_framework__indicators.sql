select
    cast(level as integer) as level,
    icode,
    iname,
    cast(direction as double) as direction,
    cast(weight as double) as weight,
    nullif(parent, '') as parent,
    type,
    source,
    unit,
    definition
from {{ source('raw', 'framework') }}
