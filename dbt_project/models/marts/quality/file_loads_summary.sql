-- Landing files loaded, by register and month partition, with their row accounting and the
-- time of the latest load: the freshness the dashboards' data quality page shows.

with file_loads as (

    select
        register,
        _partition,
        rows_read,
        rows_loaded,
        rows_quarantined,
        loaded_at
    from {{ ref('stg_ingestion__file_loads') }}

)

select
    register,
    _partition as partition,
    count(*) as files,
    sum(rows_read) as rows_read,
    sum(rows_loaded) as rows_loaded,
    sum(rows_quarantined) as rows_quarantined,
    max(loaded_at) as last_loaded_at
from file_loads
group by
    register,
    _partition
