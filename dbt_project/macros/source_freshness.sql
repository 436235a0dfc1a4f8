{#-
  The freshness a source declares in its own config (sources.yml: loaded_at_field and
  freshness), read from dbt's graph so that no model copies the thresholds. Returns
  {loaded_at_field, warn_after_days, error_after_days} (a threshold not declared is none).
  Thresholds are counted in days, as the models that use them report ages in days: a period
  other than day stops the compilation, naming the source. The graph exists only when dbt
  executes; at parse time the result is empty.
-#}

{% macro source_freshness(source_name, table_name) -%}
    {%- if not execute -%}
        {{ return({}) }}
    {%- endif -%}
    {%- set found = graph.sources.values()
        | selectattr('source_name', 'equalto', source_name)
        | selectattr('name', 'equalto', table_name)
        | list -%}
    {%- set label = source_name ~ '.' ~ table_name -%}
    {%- if not found or not found[0].loaded_at_field or not found[0].freshness -%}
        {{ exceptions.raise_compiler_error(
            "source " ~ label ~ " declares no loaded_at_field and freshness in sources.yml") }}
    {%- endif -%}
    {%- set declared = found[0].freshness -%}
    {%- set days = {} -%}
    {%- for threshold in ('warn_after', 'error_after') -%}
        {%- set rule = declared.get(threshold) or {} -%}
        {%- if rule.get('count') is none -%}
            {%- do days.update({threshold ~ '_days': none}) -%}
        {%- elif rule.get('period') == 'day' -%}
            {%- do days.update({threshold ~ '_days': rule.count}) -%}
        {%- else -%}
            {{ exceptions.raise_compiler_error(
                "source " ~ label ~ ": freshness " ~ threshold ~ " must be counted in days, got "
                ~ rule.get('period')) }}
        {%- endif -%}
    {%- endfor -%}
    {%- do days.update({'loaded_at_field': found[0].loaded_at_field}) -%}
    {{ return(days) }}
{%- endmacro %}
