-- Recorded offences (SPEC 5): criminal events whose pre-trial investigation has started,
-- counted in the month of pretrial_started_at (the Lithuanian rule: an event registered in
-- December whose investigation starts in January is a January offence), in their state as of
-- the cut-off, annulled ones excluded. Attempts are included.

with classified_offences as (

    select *
    from {{ ref('int_offences_classified') }}
    where pretrial_started_at is not null
        and status <> 'annulled'

)

select
    event_id,
    version,
    offence_code,
    attempt,
    iccs_code,
    is_mapped,
    municipality,
    nuts3,
    status,
    pretrial_started_at,
    decision_at,
    {{ month_of('pretrial_started_at') }} as ref_month,
    {{ year_of('pretrial_started_at') }} as ref_year
from classified_offences
