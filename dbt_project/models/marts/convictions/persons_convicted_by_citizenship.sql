{{
    config(
        materialized='incremental',
        tags=['monthly_mart'],
        incremental_strategy='delete+insert',
        unique_key='ref_month',
        on_schema_change='fail',
        pre_hook="{{ delete_month_window('ref_month') }}"
    )
}}
-- Persons convicted per month their conviction became final (final_at), by citizenship
-- country, main offence, sex and age group at judgment; ECRIS convictions apart (via_ecris).
-- A person is counted once per month and via_ecris value, represented by their most serious
-- conviction of the month (macro seriousness_order: the rule of the yearly
-- int_persons_convicted_main_offence, applied per month). Incremental by month (vars
-- month_from/month_to). Feeds the partner extracts (persons who are a partner's citizens).

with final_convictions as (

    select
        *,
        {{ month_of('final_at') }} as ref_month
    from {{ ref('int_convictions_final') }}

),

convictions_in_window as (

    select *
    from final_convictions
    where {{ month_window_condition('ref_month') }}

),

convictions_ranked as (

    select
        *,
        row_number() over (
            partition by person_key, ref_month, via_ecris
            order by {{ seriousness_order() }}
        ) as seriousness_rank
    from convictions_in_window

),

persons as (

    select
        ref_month,
        coalesce(citizenship, 'UNK') as citizenship,
        iccs_code,
        sex,
        age_group,
        via_ecris
    from convictions_ranked
    where seriousness_rank = 1

)

select
    ref_month,
    citizenship,
    iccs_code,
    sex,
    age_group,
    via_ecris,
    count(*) as persons
from persons
group by
    ref_month,
    citizenship,
    iccs_code,
    sex,
    age_group,
    via_ecris
