{{ config(materialized='table') }}
-- Every version of every conviction decision written at or before the release cut-off
-- (var as_of), each (conviction_id, version) once: its first delivery (see
-- base_incidents__event_versions). The delivering file is kept: the version's offences are
-- the ones delivered with it.
-- A table: every later step reads it, so the cut-off and the de-duplication run once per build.

with cut_off_rows as (

    select *
    from {{ source('convictions', 'conviction_versions') }}
    where {{ as_of_condition('written_at') }}

),

deliveries_ranked as (

    select
        *,
        row_number() over (
            partition by conviction_id, version
            order by _partition, _file, _line
        ) as delivery_rank
    from cut_off_rows

)

select
    conviction_id,
    version,
    written_at,
    person_key,
    birth_year,
    age_at_judgment,
    sex,
    citizenship,
    court_code,
    judgment_at,
    final_at,
    status,
    sanction,
    sentence_months,
    fine_eur,
    ecris_member_state,
    _partition,
    _file,
    _line
from deliveries_ranked
where delivery_rank = 1
