{#-
  Fails with every row for which the SQL boolean expression is not true. On a column, the
  expression is about that row (the column name is available but not prepended).
-#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where not ({{ expression }})

{% endtest %}
