{#-
  One branch of int_mart_months_touched: for every version of `versions` (a base model), the
  month partition it was written in, paired with the month of `month` (an expression over the
  alias `versions`) in each version of the same record (`key`); months that are null are left
  out. A plain join of the base table with itself, so that a filter on the written partition
  reaches the versions written there and the rest of the history is only probed.
-#}
{% macro months_referred_to(versions, key, month) -%}
    select
        written._partition,
        {{ month_of(month) }} as ref_month
    from {{ versions }} as written
    inner join {{ versions }} as versions
        on written.{{ key }} = versions.{{ key }}
    where {{ month }} is not null
{%- endmacro %}
