{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['violation_id', 'version'],
        on_schema_change='fail',
        full_refresh=full_refresh_with_as_of(),
        post_hook="{{ delete_retired_rows('customs') }}"
    )
}}
-- Every version of every customs violation written at or before the release cut-off
-- (var as_of), each (violation_id, version) once: its first delivery (see
-- base_incidents__event_versions).
-- A table: every later step reads it, so the cut-off and the de-duplication run once per build.
-- Incremental (macros/incremental_staging.sql): a build redoes only the versions that the
-- loads since the last build delivered or retired, from all their deliveries.

with first_deliveries as (

    {{ first_deliveries('customs', source('customs', 'customs_violation_versions'), 'violation_id') }}

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
    _line,
    _load_seq
from first_deliveries
