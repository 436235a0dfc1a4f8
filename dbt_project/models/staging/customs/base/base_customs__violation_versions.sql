{{ config(materialized='table') }}
-- Every version of every customs violation written at or before the release cut-off
-- (var as_of), each (violation_id, version) once: its first delivery (see
-- base_incidents__event_versions).
-- A table: every later step reads it, so the cut-off and the de-duplication run once per build.

with cut_off_rows as (

    select *
    from {{ source('customs', 'customs_violation_versions') }}
    where {{ as_of_condition('written_at') }}

),

deliveries_ranked as (

    select
        *,
        row_number() over (
            partition by violation_id, version
            order by _partition, _file, _line
        ) as delivery_rank
    from cut_off_rows

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
from deliveries_ranked
where delivery_rank = 1
