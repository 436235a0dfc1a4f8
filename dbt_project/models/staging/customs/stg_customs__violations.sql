-- The state of each customs violation as of the release cut-off: its latest version written
-- at or before var as_of (highest version number; the write time breaks a tie).

with violation_versions as (

    select * from {{ ref('base_customs__violation_versions') }}

),

versions_ranked as (

    select
        *,
        row_number() over (
            partition by violation_id
            order by version desc, written_at desc
        ) as recency_rank
    from violation_versions

)

select
    violation_id,
    version,
    written_at,
    detected_at,
    unit_code,
    task_id,
    customs_post,
    border_section,
    lat,
    lon,
    violation_type,
    procedure,
    offender_citizenship,
    vehicle_type,
    _partition,
    _file,
    _line
from versions_ranked
where recency_rank = 1
