{{ config(materialized='table') }}
-- Every criminal event in its state as of the release cut-off, classified: national offence
-- code -> ICCS through the correspondence (attempt code for attempts), municipality -> county
-- (NUTS3). An offence code without a correspondence row gets iccs_code 'UNMAPPED': it is
-- still counted (in TOTAL) and reported by unmapped_offence_codes.
-- A table: several marts and their tests read it, so the classification runs once per build.

with criminal_events as (

    select *
    from {{ ref('stg_incidents__events') }}
    where event_kind = 'criminal'

),

correspondence as (

    select national_code, iccs_code, iccs_code_attempt
    from {{ ref('offence_code_iccs') }}

),

municipalities as (

    select municipality_name, nuts3
    from {{ ref('municipalities') }}

)

select
    criminal_events.event_id,
    criminal_events.version,
    criminal_events.written_at,
    criminal_events.offence_code,
    criminal_events.attempt,
    {{ classify_offence('correspondence', 'criminal_events.attempt') }} as iccs_code,
    correspondence.iccs_code is not null as is_mapped,
    criminal_events.municipality,
    municipalities.nuts3,
    criminal_events.status,
    criminal_events.registered_at,
    criminal_events.pretrial_started_at,
    criminal_events.decision_at
from criminal_events
left join correspondence
    on criminal_events.offence_code = correspondence.national_code
left join municipalities
    on criminal_events.municipality = municipalities.municipality_name
