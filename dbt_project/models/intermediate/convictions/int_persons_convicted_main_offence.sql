-- Persons convicted (SPEC 5): each person (person_key) once per year in which a conviction of
-- theirs became final, separately for national convictions and those received through ECRIS
-- (via_ecris). A person with several final convictions in the year is represented by the most
-- serious one, which gives the main offence, sex, age group, citizenship group and sanction:
--   1. heaviest sanction (imprisonment, arrest, suspended, restriction_of_liberty,
--      community_work, fine, other),
--   2. then the longest sentence (sentence_months, none last),
--   3. then the highest fine (fine_eur, none last),
--   4. then the earliest final_at, then the smallest conviction_id
-- (macro seriousness_order, shared with the monthly persons_convicted_by_citizenship).

with final_convictions as (

    select * from {{ ref('int_convictions_final') }}

),

convictions_ranked as (

    select
        *,
        row_number() over (
            partition by person_key, ref_year, via_ecris
            order by {{ seriousness_order() }}
        ) as seriousness_rank,
        count(*) over (partition by person_key, ref_year, via_ecris) as convictions_in_year
    from final_convictions

)

select
    ref_year,
    person_key,
    via_ecris,
    conviction_id,
    convictions_in_year,
    final_at,
    main_offence_code,
    main_offence_attempt,
    iccs_code,
    sex,
    age_at_judgment,
    age_group,
    age_group_broad,
    citizenship,
    citizen_group,
    sanction,
    sentence_months,
    fine_eur,
    ecris_member_state
from convictions_ranked
where seriousness_rank = 1
