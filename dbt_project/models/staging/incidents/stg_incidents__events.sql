{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='event_id',
        on_schema_change='fail',
        full_refresh=full_refresh_with_as_of(),
        post_hook="{{ delete_retired_rows('incidents', ref('base_incidents__event_versions'), ['event_id']) }}"
    )
}}
-- The state of each event as of the release cut-off: its latest version written at or before
-- var as_of (highest version number; the write time breaks a tie).
-- Incremental (macros/incremental_staging.sql): a build ranks again only the records whose
-- versions changed since the last build.

with latest_versions as (

    {{ latest_versions('incidents', ref('base_incidents__event_versions'), 'event_id') }}

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
from latest_versions
