-- The state of each event as of the release cut-off: its latest version written at or before
-- var as_of (highest version number; the write time breaks a tie).

with event_versions as (

    select * from {{ ref('base_incidents__event_versions') }}

),

versions_ranked as (

    select
        *,
        row_number() over (
            partition by event_id
            order by version desc, written_at desc
        ) as recency_rank
    from event_versions

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
from versions_ranked
where recency_rank = 1
