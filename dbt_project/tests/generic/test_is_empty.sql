{#- Fails with the model's rows while the model holds any row (e.g. unmapped_offence_codes). -#}
{% test is_empty(model) %}

select *
from {{ model }}

{% endtest %}
