{#- The partition years for which any source landed data (raw.landed_batches, written by every
    ingest): the years the index is built for. No source is named here. -#}
select distinct year from {{ source('raw', 'landed_batches') }}
where {{ in_build_years() }}
