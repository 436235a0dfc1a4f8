-- Rows quarantined at the door (SPEC 4) counted by register, month partition, rule and field:
-- what the dashboards' data quality page shows. Counts only: the rows themselves and their
-- reasons (which may quote personal values) stay in raw.quarantine.

with quarantined_rows as (

    select
        register,
        _partition,
        rule,
        field
    from {{ ref('stg_ingestion__quarantine') }}

)

select
    register,
    _partition as partition,
    rule,
    field,
    count(*) as rows
from quarantined_rows
group by
    register,
    _partition,
    rule,
    field
