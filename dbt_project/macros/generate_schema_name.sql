{#-
  Layers land in schemas named exactly as configured (staging, intermediate, marts,
  reference), not dbt's default `<target schema>_<custom schema>`: every consumer
  (dashboards, SDMX export, partner extracts) reads `marts.<model>` whatever the target.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
