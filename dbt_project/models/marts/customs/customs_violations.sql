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
-- Customs violations by month of detection, type, border section and procedure, in their
-- state as of the cut-off. Incremental by month (vars month_from/month_to).

with violations as (

    select
        *,
        {{ month_of('detected_at') }} as ref_month
    from {{ ref('stg_customs__violations') }}

),

violations_in_window as (

    select *
    from violations
    where {{ month_window_condition('ref_month') }}

)

select
    ref_month,
    violation_type,
    border_section,
    procedure,
    count(*) as violations
from violations_in_window
group by
    ref_month,
    violation_type,
    border_section,
    procedure
