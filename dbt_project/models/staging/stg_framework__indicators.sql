select
    cast(position as integer) as position,
    cast(level as integer) as level,
    icode,
    iname,
    nullif(iname_zh, '') as iname_zh,
    cast(direction as double) as direction,
    cast(weight as double) as weight,
    nullif(parent, '') as parent,
    type,
    source,
    unit,
    definition
from {{ source('raw', 'framework') }}
