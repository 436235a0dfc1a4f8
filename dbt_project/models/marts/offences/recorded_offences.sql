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
-- Recorded offences by month of pre-trial start, municipality, county and ICCS code as
-- classified (attempted homicide as 0102; UNMAPPED for codes without correspondence).
-- Incremental by month: with vars month_from/month_to only that window is rebuilt.

with recorded_offences as (

    select *
    from {{ ref('int_offences_recorded') }}
    where {{ month_window_condition('ref_month') }}

)

select
    ref_month,
    municipality,
    nuts3,
    iccs_code,
    attempt,
    count(*) as offences
from recorded_offences
group by
    ref_month,
    municipality,
    nuts3,
    iccs_code,
    attempt
