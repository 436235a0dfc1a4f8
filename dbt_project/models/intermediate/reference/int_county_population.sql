-- County population in long form (nuts3, population_year, population), unpivoted from the
-- seed's population_<year> columns. The columns are read from the loaded seed, so a figure
-- for a new year is one more column in county_population.csv and nothing else.

{%- set population_columns = [] -%}
{%- if execute -%}
    {%- for column in adapter.get_columns_in_relation(ref('county_population')) -%}
        {%- if modules.re.match('^population_[0-9]{4}$', column.name | lower) -%}
            {%- do population_columns.append(column.name | lower) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif %}

with county_population_wide as (

    select * from {{ ref('county_population') }}

),

county_population_long as (

{%- if population_columns | length == 0 %}

    -- the seed is not loaded yet (parse / compile before `dbt seed`)
    select
        cast(nuts3 as {{ dbt.type_string() }}) as nuts3,
        cast(null as {{ dbt.type_int() }}) as population_year,
        cast(null as {{ dbt.type_bigint() }}) as population
    from county_population_wide
    where 1 = 0

{%- else %}
{%- for column_name in population_columns %}

    select
        cast(nuts3 as {{ dbt.type_string() }}) as nuts3,
        {{ column_name[-4:] | int }} as population_year,
        cast({{ column_name }} as {{ dbt.type_bigint() }}) as population
    from county_population_wide
    where {{ column_name }} is not null
    {% if not loop.last %}union all{% endif %}

{%- endfor %}
{%- endif %}

)

select nuts3, population_year, population
from county_population_long
