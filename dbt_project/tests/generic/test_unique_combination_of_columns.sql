{#- Fails with each combination of the given columns that occurs more than once. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

{%- set columns_csv = combination_of_columns | join(', ') %}

with combinations as (

    select {{ columns_csv }}, count(*) as occurrences
    from {{ model }}
    group by {{ columns_csv }}

)

select *
from combinations
where occurrences > 1

{% endtest %}
