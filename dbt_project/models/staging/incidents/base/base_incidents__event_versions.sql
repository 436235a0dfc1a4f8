{{ config(materialized='table') }}
-- Every version of every event written at or before the release cut-off (var as_of).
-- A version delivered more than once (an extract re-sent in a later file) is kept once: its
-- first delivery, so a later delivery can never change a release already built.
-- A table: every later step reads it, so the cut-off and the de-duplication run once per build.

with cut_off_rows as (

    select *
    from {{ source('incidents', 'incident_versions') }}
    where {{ as_of_condition('written_at') }}

),

deliveries_ranked as (

    select
        *,
        row_number() over (
            partition by event_id, version
            order by _partition, _file, _line
        ) as delivery_rank
    from cut_off_rows

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
    _line
from deliveries_ranked
where delivery_rank = 1
