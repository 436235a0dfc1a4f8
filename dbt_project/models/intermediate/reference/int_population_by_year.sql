-- Population denominator of every year the statistics need, per county (NUTS3) and for the
-- country (= sum of its counties). Rule for a year without its own figure: the latest figure
-- at or before that year; for a year before the first figure, the earliest figure.
-- Years needed: those of the recorded offences and final convictions, and the seed's own.

with county_population as (

    select * from {{ ref('int_county_population') }}

),

years_needed as (

    select distinct ref_year from {{ ref('int_offences_recorded') }}

    union

    select distinct ref_year from {{ ref('int_convictions_final') }}

    union

    select distinct population_year as ref_year from county_population

),

candidate_figures as (

    select
        years_needed.ref_year,
        county_population.nuts3,
        county_population.population_year,
        county_population.population,
        row_number() over (
            partition by years_needed.ref_year, county_population.nuts3
            order by
                case when county_population.population_year <= years_needed.ref_year then 0 else 1 end,
                case
                    when county_population.population_year <= years_needed.ref_year
                        then years_needed.ref_year - county_population.population_year
                    else county_population.population_year - years_needed.ref_year
                end
        ) as preference
    from years_needed
    cross join county_population

),

county_figures as (

    select ref_year, nuts3, population_year, population
    from candidate_figures
    where preference = 1

),

country_figures as (

    select
        ref_year,
        cast('{{ var("country_code") }}' as {{ dbt.type_string() }}) as geo,
        max(population_year) as population_year,
        sum(population) as population
    from county_figures
    group by ref_year

)

select
    ref_year,
    cast(nuts3 as {{ dbt.type_string() }}) as geo,
    'NUTS3' as geo_level,
    population_year,
    population
from county_figures

union all

select
    ref_year,
    geo,
    'COUNTRY' as geo_level,
    population_year,
    population
from country_figures
