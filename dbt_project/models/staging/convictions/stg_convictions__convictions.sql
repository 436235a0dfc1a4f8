{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='conviction_id',
        on_schema_change='fail',
        full_refresh=full_refresh_with_as_of(),
        post_hook="{{ delete_retired_rows('convictions', ref('base_convictions__conviction_versions'), ['conviction_id']) }}"
    )
}}
-- The state of each conviction decision as of the release cut-off: its latest version written
-- at or before var as_of (highest version number; the write time breaks a tie).
-- Incremental (macros/incremental_staging.sql): a build ranks again only the records whose
-- versions changed since the last build.

with latest_versions as (

    {{ latest_versions('convictions', ref('base_convictions__conviction_versions'), 'conviction_id') }}

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
from latest_versions
