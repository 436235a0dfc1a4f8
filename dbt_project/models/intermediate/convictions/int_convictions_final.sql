{{ config(materialized='table') }}
-- Conviction decisions in force, in their state as of the cut-off: status 'final' or
-- 'amended' with final_at set ('pending' and 'annulled' excluded; so is an amended decision
-- under appeal again, final_at null). Each with its main offence classified to ICCS
-- (attempt code for attempts; UNMAPPED without correspondence), the person's age group at
-- judgment and citizenship group.
-- A table: several marts and their tests read it, so the classification runs once per build.

with convictions as (

    select *
    from {{ ref('stg_convictions__convictions') }}
    where status in ('final', 'amended')
        and final_at is not null

),

offences_ranked as (

    -- the offence flagged is_main (the contract says exactly one; should a version carry none
    -- or several, the first in its list stands in, deterministically)
    select
        conviction_id,
        offence_code,
        attempt,
        row_number() over (
            partition by conviction_id
            order by case when is_main then 0 else 1 end, offence_seq
        ) as main_rank
    from {{ ref('stg_convictions__conviction_offences') }}

),

main_offences as (

    select conviction_id, offence_code, attempt
    from offences_ranked
    where main_rank = 1

),

correspondence as (

    select national_code, iccs_code, iccs_code_attempt
    from {{ ref('offence_code_iccs') }}

),

countries as (

    select alpha2, eu27_2020
    from {{ ref('countries') }}

)

select
    convictions.conviction_id,
    convictions.version,
    convictions.person_key,
    {{ year_of('convictions.final_at') }} as ref_year,
    convictions.final_at,
    convictions.judgment_at,
    convictions.status,
    convictions.sex,
    convictions.age_at_judgment,
    {{ age_group('convictions.age_at_judgment') }} as age_group,
    {{ age_group_broad('convictions.age_at_judgment') }} as age_group_broad,
    convictions.citizenship,
    case
        when convictions.citizenship is null then 'UNK'
        when convictions.citizenship = '{{ var("country_code") }}' then 'NAT'
        when convictions.citizenship = 'XX' then 'STLS'
        when countries.eu27_2020 then 'EU27_2020_FOR'
        when countries.alpha2 is not null then 'NEU27_2020_FOR'
        else 'UNK'
    end as citizen_group,
    convictions.sanction,
    {{ sanction_severity_rank('convictions.sanction') }} as sanction_severity_rank,
    convictions.sentence_months,
    convictions.fine_eur,
    convictions.ecris_member_state,
    convictions.ecris_member_state is not null as via_ecris,
    main_offences.offence_code as main_offence_code,
    main_offences.attempt as main_offence_attempt,
    {{ classify_offence('correspondence', 'main_offences.attempt') }} as iccs_code
from convictions
left join main_offences
    on convictions.conviction_id = main_offences.conviction_id
left join correspondence
    on main_offences.offence_code = correspondence.national_code
left join countries
    on convictions.citizenship = countries.alpha2
