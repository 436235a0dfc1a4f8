-- For each month in which register versions were written (the raw month partition), the
-- months of the monthly marts whose cells those versions can change (offences by pre-trial
-- start and decision, customs by detection, persons convicted by the month they became final). A new version moves its
-- record: it can leave the month an earlier version counted it in and join another, so every
-- month that ANY version of a touched record refers to is touched (a superset is safe: those
-- months are only rebuilt). Orchestration rebuilds the monthly marts from the earliest touched
-- month, so a March reclassification of a February offence refreshes February too.

with event_versions as (

    select event_id, _partition, written_at, pretrial_started_at, decision_at
    from {{ ref('base_incidents__event_versions') }}

),

violation_versions as (

    select violation_id, _partition, detected_at
    from {{ ref('base_customs__violation_versions') }}

),

conviction_versions as (

    select conviction_id, _partition, final_at
    from {{ ref('base_convictions__conviction_versions') }}

),

touched_events as (

    select distinct event_id, _partition
    from event_versions

),

event_months as (

    select event_id, {{ month_of('pretrial_started_at') }} as ref_month
    from event_versions
    where pretrial_started_at is not null
    union
    select event_id, {{ month_of('coalesce(decision_at, written_at)') }} as ref_month
    from event_versions

),

touched_violations as (

    select distinct violation_id, _partition
    from violation_versions

),

violation_months as (

    select distinct violation_id, {{ month_of('detected_at') }} as ref_month
    from violation_versions

),

touched_convictions as (

    select distinct conviction_id, _partition
    from conviction_versions

),

conviction_months as (

    select distinct conviction_id, {{ month_of('final_at') }} as ref_month
    from conviction_versions
    where final_at is not null

),

months_touched as (

    select touched_events._partition, event_months.ref_month
    from touched_events
    inner join event_months on touched_events.event_id = event_months.event_id
    union
    select touched_violations._partition, violation_months.ref_month
    from touched_violations
    inner join violation_months on touched_violations.violation_id = violation_months.violation_id
    union
    select touched_convictions._partition, conviction_months.ref_month
    from touched_convictions
    inner join conviction_months
        on touched_convictions.conviction_id = conviction_months.conviction_id

)

select
    cast({{ dbt.concat(['_partition', "'-01'"]) }} as date) as written_month,
    ref_month
from months_touched
