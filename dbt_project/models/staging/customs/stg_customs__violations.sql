{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='violation_id',
        on_schema_change='fail',
        full_refresh=full_refresh_with_as_of(),
        post_hook="{{ delete_retired_rows('customs', ref('base_customs__violation_versions'), ['violation_id']) }}"
    )
}}
-- The state of each customs violation as of the release cut-off: its latest version written
-- at or before var as_of (highest version number; the write time breaks a tie).
-- Incremental (macros/incremental_staging.sql): a build ranks again only the records whose
-- versions changed since the last build.

with latest_versions as (

    {{ latest_versions('customs', ref('base_customs__violation_versions'), 'violation_id') }}

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
from latest_versions
