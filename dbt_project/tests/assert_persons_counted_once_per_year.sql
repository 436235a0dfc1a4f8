{{ config(meta={'dagster': {'ref': {'name': 'persons_convicted'}}}) }}
-- (meta.dagster.ref: the Dagster asset this check is attached to.)
-- persons_convicted counts each person once per year and via_ecris value: its total equals
-- the number of distinct (person, year, via_ecris) among final convictions.

with mart_totals as (

    select ref_year, via_ecris, sum(persons) as persons
    from {{ ref('persons_convicted') }}
    group by ref_year, via_ecris

),

distinct_persons as (

    select ref_year, via_ecris, count(distinct person_key) as persons
    from {{ ref('int_convictions_final') }}
    group by ref_year, via_ecris

)

select
    coalesce(mart_totals.ref_year, distinct_persons.ref_year) as ref_year,
    coalesce(mart_totals.via_ecris, distinct_persons.via_ecris) as via_ecris,
    mart_totals.persons as persons_in_mart,
    distinct_persons.persons as persons_expected
from mart_totals
full outer join distinct_persons
    on mart_totals.ref_year = distinct_persons.ref_year
    and mart_totals.via_ecris = distinct_persons.via_ecris
where mart_totals.persons is null
    or distinct_persons.persons is null
    or mart_totals.persons <> distinct_persons.persons
