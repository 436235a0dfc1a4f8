{#-
  Release cut-off (SPEC 3): "the state as of time T" is the latest version written at or
  before T. The var `as_of` holds T; unset (null / empty) means no cut-off.
-#}

{% macro as_of_value() -%}
    {%- set raw = var('as_of', none) -%}
    {%- if raw is none or (raw | string | trim) in ('', 'none', 'None', 'null') -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set text = raw | string | trim | replace('T', ' ') -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,6})?)?)?$', text) -%}
        {{ exceptions.raise_compiler_error(
            "var as_of must look like YYYY-MM-DD[ HH:MM[:SS]] (or with T), got '" ~ raw ~ "'") }}
    {%- endif -%}
    {%- if text | length == 10 -%}
        {#- A bare date means the end of that day: everything written on it is included. -#}
        {%- set text = text ~ ' 23:59:59.999999' -%}
    {%- endif -%}
    {{ return(text) }}
{%- endmacro %}


{#- SQL condition keeping rows written at or before the cut-off (true when there is none). -#}
{% macro as_of_condition(column) -%}
    {%- set cutoff = as_of_value() -%}
    {%- if cutoff is none -%}
        1 = 1
    {%- else -%}
        {{ column }} <= cast('{{ cutoff }}' as {{ dbt.type_timestamp() }})
    {%- endif -%}
{%- endmacro %}
