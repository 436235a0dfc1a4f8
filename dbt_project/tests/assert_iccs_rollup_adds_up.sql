{{ config(meta={'dagster': {'ref': {'name': 'recorded_offences_annual'}}}) }}
-- (meta.dagster.ref: the Dagster asset this check is attached to.)
-- The ICCS roll-up of recorded_offences_annual adds up, for every year, geo and code:
--   offences(code) = offences_at_code(code) + sum of offences(child codes)
-- where offences_at_code counts offences classified exactly at the code, and the children of
-- TOTAL are the sections (level 1) and UNMAPPED. So a section equals the sum of its children
-- when nothing is classified at the section itself, and TOTAL equals the sum of the sections
-- plus UNMAPPED. Reads the mart alone (and the code list), so it holds whatever else a run
-- selects. Returns the rows that do not add up.

with annual as (

    select ref_year, geo, iccs_code, offences, offences_at_code
    from {{ ref('recorded_offences_annual') }}

),

iccs_codes as (

    select code, parent
    from {{ ref('iccs_codes') }}

),

children_totals as (

    select
        annual.ref_year,
        annual.geo,
        case
            when annual.iccs_code = {{ unmapped_iccs_code() }} then 'TOTAL'
            else coalesce(iccs_codes.parent, 'TOTAL')
        end as parent_code,
        sum(annual.offences) as offences
    from annual
    left join iccs_codes
        on annual.iccs_code = iccs_codes.code
    where annual.iccs_code <> 'TOTAL'
    group by 1, 2, 3

),

expected as (

    select
        annual.ref_year,
        annual.geo,
        annual.iccs_code,
        annual.offences,
        annual.offences_at_code + coalesce(children_totals.offences, 0) as offences_expected
    from annual
    left join children_totals
        on annual.ref_year = children_totals.ref_year
        and annual.geo = children_totals.geo
        and annual.iccs_code = children_totals.parent_code

)

select ref_year, geo, iccs_code, offences, offences_expected
from expected
where offences <> offences_expected

union all

-- children whose parent code has no row at all
select
    children_totals.ref_year,
    children_totals.geo,
    children_totals.parent_code,
    null,
    children_totals.offences
from children_totals
left join annual
    on children_totals.ref_year = annual.ref_year
    and children_totals.geo = annual.geo
    and children_totals.parent_code = annual.iccs_code
where annual.iccs_code is null
