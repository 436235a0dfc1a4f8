{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['conviction_id', 'version'],
        on_schema_change='fail',
        full_refresh=full_refresh_with_as_of(),
        post_hook="{{ delete_retired_rows('convictions') }}"
    )
}}
-- Every version of every conviction decision written at or before the release cut-off
-- (var as_of), each (conviction_id, version) once: its first delivery (see
-- base_incidents__event_versions). The delivering file is kept: the version's offences are
-- the ones delivered with it.
-- A table: every later step reads it, so the cut-off and the de-duplication run once per build.
-- Incremental (macros/incremental_staging.sql): a build redoes only the versions that the
-- loads since the last build delivered or retired, from all their deliveries.

with first_deliveries as (

    {{ first_deliveries('convictions', source('convictions', 'conviction_versions'), 'conviction_id') }}

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
    _line,
    _load_seq
from first_deliveries
