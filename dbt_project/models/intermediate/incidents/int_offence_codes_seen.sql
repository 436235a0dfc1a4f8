-- Every national offence code of a criminal offence seen in any version written at or before
-- the cut-off: criminal events of the incident register and the offences of conviction
-- decisions. The input of the unmapped-code report.

with incident_codes as (

    select
        'incidents' as register,
        offence_code,
        event_id as record_id,
        written_at
    from {{ ref('base_incidents__event_versions') }}
    where event_kind = 'criminal'

),

conviction_codes as (

    select
        'convictions' as register,
        offence_code,
        conviction_id as record_id,
        written_at
    from {{ ref('base_convictions__conviction_offences') }}

)

select register, offence_code, record_id, written_at from incident_codes
union all
select register, offence_code, record_id, written_at from conviction_codes
