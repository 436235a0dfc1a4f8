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
-- Seized goods by month of the violation's detection and goods category, each in its own
-- unit (sticks, l, kg, pcs, eur: quantities of different units are never added), with their
-- value in EUR. Incremental by month (vars month_from/month_to).

with violations as (

    select
        violation_id,
        {{ month_of('detected_at') }} as ref_month
    from {{ ref('stg_customs__violations') }}

),

seizures as (

    select * from {{ ref('stg_customs__seizures') }}

),

seizures_in_window as (

    select
        violations.ref_month,
        seizures.violation_id,
        seizures.goods_category,
        seizures.unit,
        seizures.quantity,
        seizures.value_eur
    from seizures
    inner join violations
        on seizures.violation_id = violations.violation_id
    where {{ month_window_condition('violations.ref_month') }}

)

select
    ref_month,
    goods_category,
    unit,
    sum(quantity) as quantity,
    sum(value_eur) as value_eur,
    count(*) as seizure_lines,
    count(distinct violation_id) as violations
from seizures_in_window
group by
    ref_month,
    goods_category,
    unit
