-- Persons convicted per year (final_at) under their main offence, by sex, age group at
-- judgment, citizenship group and sanction; ECRIS convictions apart (via_ecris). A person is
-- counted once per year and via_ecris value (int_persons_convicted_main_offence).

with persons as (

    select * from {{ ref('int_persons_convicted_main_offence') }}

)

select
    ref_year,
    iccs_code,
    sex,
    age_group,
    age_group_broad,
    citizen_group,
    sanction,
    via_ecris,
    count(*) as persons
from persons
group by
    ref_year,
    iccs_code,
    sex,
    age_group,
    age_group_broad,
    citizen_group,
    sanction,
    via_ecris
