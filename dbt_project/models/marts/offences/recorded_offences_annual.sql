-- Recorded offences per year, for the country (geo = var country_code) and each county
-- (NUTS3), at every ICCS level: an offence counts under its own code, each ancestor, and
-- TOTAL; an unmapped offence under UNMAPPED and TOTAL (so TOTAL = sum of the sections +
-- UNMAPPED). offences_at_code counts those classified exactly at the code (not through a
-- more detailed one), so offences = offences_at_code + sum over the child codes.
-- Rates per 100,000 inhabitants with the population of int_population_by_year.
-- Only combinations with offences appear (no zero rows).

with recorded_offences as (

    select ref_year, nuts3, iccs_code
    from {{ ref('int_offences_recorded') }}

),

iccs_hierarchy as (

    select iccs_code, ancestor_code, ancestor_level, distance
    from {{ ref('int_iccs_hierarchy') }}

),

offences_at_every_level as (

    select
        recorded_offences.ref_year,
        recorded_offences.nuts3,
        iccs_hierarchy.ancestor_code as iccs_code,
        iccs_hierarchy.ancestor_level as iccs_level,
        case when iccs_hierarchy.distance = 0 then 1 else 0 end as is_own_code
    from recorded_offences
    inner join iccs_hierarchy
        on recorded_offences.iccs_code = iccs_hierarchy.iccs_code

    union all

    select
        ref_year,
        nuts3,
        iccs_code,
        cast(null as {{ dbt.type_int() }}) as iccs_level,
        1 as is_own_code
    from recorded_offences
    where iccs_code = {{ unmapped_iccs_code() }}

    union all

    select
        ref_year,
        nuts3,
        'TOTAL' as iccs_code,
        0 as iccs_level,
        0 as is_own_code
    from recorded_offences

),

offences_by_geo as (

    select
        ref_year,
        cast(nuts3 as {{ dbt.type_string() }}) as geo,
        'NUTS3' as geo_level,
        iccs_code,
        iccs_level,
        count(*) as offences,
        sum(is_own_code) as offences_at_code
    from offences_at_every_level
    where nuts3 is not null
    group by ref_year, nuts3, iccs_code, iccs_level

    union all

    select
        ref_year,
        cast('{{ var("country_code") }}' as {{ dbt.type_string() }}) as geo,
        'COUNTRY' as geo_level,
        iccs_code,
        iccs_level,
        count(*) as offences,
        sum(is_own_code) as offences_at_code
    from offences_at_every_level
    group by ref_year, iccs_code, iccs_level

),

population as (

    select ref_year, geo, population
    from {{ ref('int_population_by_year') }}

)

select
    offences_by_geo.ref_year,
    offences_by_geo.geo,
    offences_by_geo.geo_level,
    offences_by_geo.iccs_code,
    offences_by_geo.iccs_level,
    offences_by_geo.offences,
    offences_by_geo.offences_at_code,
    population.population,
    round(offences_by_geo.offences * 100000.0 / population.population, 2) as rate_per_100k
from offences_by_geo
left join population
    on offences_by_geo.ref_year = population.ref_year
    and offences_by_geo.geo = population.geo
