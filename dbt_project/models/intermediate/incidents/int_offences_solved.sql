{{ config(materialized='table') }}
-- Solved offences (SPEC 5): recorded offences (state as of the cut-off, not annulled) that a
-- decision solved, counted once, in the month of that decision.
-- The solving decision: among the event's versions written at or before the cut-off, the
-- earliest version with status 'solved' or 'sent_to_court' that came after the last version
-- in an open or negative state (registered, pretrial_started, refused, annulled); its
-- decision_at (the version's written_at if the register left decision_at empty).
-- So solved in January then sent to court in March counts once, in January; a later 'closed'
-- keeps the earlier solving decision; a case reopened (back to pretrial_started) is not solved
-- until solved again, and then counts in the month of the new decision.
-- A table: several marts and their tests read it, so the classification runs once per build.

with recorded_offences as (

    select * from {{ ref('int_offences_recorded') }}

),

event_versions as (

    select event_id, version, written_at, status, decision_at
    from {{ ref('base_incidents__event_versions') }}

),

last_unsolved_versions as (

    select
        event_id,
        max(version) as last_unsolved_version
    from event_versions
    where status not in ('solved', 'sent_to_court', 'closed')
    group by event_id

),

solving_decisions as (

    select
        event_versions.event_id,
        min(coalesce(event_versions.decision_at, event_versions.written_at)) as solved_at
    from event_versions
    left join last_unsolved_versions
        on event_versions.event_id = last_unsolved_versions.event_id
    where event_versions.status in ('solved', 'sent_to_court')
        and event_versions.version > coalesce(last_unsolved_versions.last_unsolved_version, 0)
    group by event_versions.event_id

)

select
    recorded_offences.event_id,
    recorded_offences.version,
    recorded_offences.offence_code,
    recorded_offences.attempt,
    recorded_offences.iccs_code,
    recorded_offences.municipality,
    recorded_offences.nuts3,
    recorded_offences.status,
    recorded_offences.ref_month as recorded_month,
    solving_decisions.solved_at,
    {{ month_of('solving_decisions.solved_at') }} as ref_month,
    {{ year_of('solving_decisions.solved_at') }} as ref_year
from recorded_offences
inner join solving_decisions
    on recorded_offences.event_id = solving_decisions.event_id
