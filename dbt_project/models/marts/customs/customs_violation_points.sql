-- Customs violations by month of detection, customs post, border section, type and place,
-- the place rounded to two decimals of a degree (about a kilometre): enough for a map of the
-- dashboards (public ones too), never a violation's exact spot. In their state as of the
-- cut-off; a violation without coordinates counts under null lat and lon.

with violations as (

    select
        {{ month_of('detected_at') }} as ref_month,
        customs_post,
        border_section,
        violation_type,
        round(lat, 2) as lat,
        round(lon, 2) as lon
    from {{ ref('stg_customs__violations') }}

)

select
    ref_month,
    customs_post,
    border_section,
    violation_type,
    lat,
    lon,
    count(*) as violations
from violations
group by
    ref_month,
    customs_post,
    border_section,
    violation_type,
    lat,
    lon
