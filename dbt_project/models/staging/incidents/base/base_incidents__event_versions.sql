{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['event_id', 'version'],
        on_schema_change='fail',
        full_refresh=full_refresh_with_as_of(),
        post_hook="{{ delete_retired_rows('incidents') }}"
    )
}}
-- Every version of every event written at or before the release cut-off (var as_of).
-- A version delivered more than once (an extract re-sent in a later file) is kept once: its
-- first delivery, so a later delivery can never change a release already built.
-- A table: every later step reads it, so the cut-off and the de-duplication run once per build.
-- Incremental (macros/incremental_staging.sql): a build redoes only the versions that the
-- loads since the last build delivered or retired, from all their deliveries.

with first_deliveries as (

    {{ first_deliveries('incidents', source('incidents', 'incident_versions'), 'event_id') }}

)

select
    event_id,
    version,
    written_at,
    registered_at,
    occurred_from,
    occurred_to,
    agency_code,
    channel,
    call_112_id,
    event_kind,
    offence_code,
    attempt,
    municipality,
    lat,
    lon,
    victims,
    damage_eur,
    status,
    pretrial_started_at,
    decision_at,
    _partition,
    _file,
    _line,
    _load_seq
from first_deliveries
