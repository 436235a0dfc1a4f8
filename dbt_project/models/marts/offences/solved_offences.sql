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
-- Solved offences by month of the solving decision, county and ICCS code as classified.
-- Incremental by month: with vars month_from/month_to only that window is rebuilt.

with solved_offences as (

    select *
    from {{ ref('int_offences_solved') }}
    where {{ month_window_condition('ref_month') }}

)

select
    ref_month,
    nuts3,
    iccs_code,
    count(*) as offences
from solved_offences
group by
    ref_month,
    nuts3,
    iccs_code
