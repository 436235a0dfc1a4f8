{#-
  Months rebuilt by the monthly incremental marts (Dagster runs them partitioned by month):
  either the months listed in var `months` ('YYYY-MM,YYYY-MM,...': the months a run's versions
  touch) or the range of vars `month_from` and `month_to` ('YYYY-MM', inclusive), each else from
  the environment variable CRIMESTAT_MONTHS, CRIMESTAT_MONTH_FROM, CRIMESTAT_MONTH_TO. None set
  = every month.

  Dagster passes the environment variable: dbt parses the whole project again when the command
  line's vars change (about 5 s), but only the files that read an environment variable when its
  value changes, and every partitioned run has months of its own.
-#}

{#- A setting of the window: the var, else the environment variable; none when empty. -#}
{% macro month_window_setting(name) -%}
    {%- set raw = var(name, none) -%}
    {%- if raw is none -%}
        {%- set raw = env_var('CRIMESTAT_' ~ name | upper, '') -%}
    {%- endif -%}
    {%- if raw is none or (raw | string | trim) in ('', 'none', 'None', 'null') -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(raw | string | trim) }}
{%- endmacro %}


{#- First days of the listed months (var months), validated; none when not set. -#}
{% macro month_list() -%}
    {%- set listed = month_window_setting('months') -%}
    {%- if listed is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set days = [] -%}
    {%- for text in listed.split(',') | map('trim') -%}
        {%- if not modules.re.match('^[0-9]{4}-(0[1-9]|1[0-2])$', text) -%}
            {{ exceptions.raise_compiler_error(
                "var months must list months as YYYY-MM, separated by commas, got '" ~ listed ~ "'") }}
        {%- endif -%}
        {%- do days.append(text ~ '-01') -%}
    {%- endfor -%}
    {{ return(days) }}
{%- endmacro %}


{% macro month_window() -%}
    {%- set bounds = [] -%}
    {%- for name in ('month_from', 'month_to') -%}
        {%- set text = month_window_setting(name) -%}
        {%- if text is none -%}
            {%- do bounds.append(none) -%}
        {%- else -%}
            {%- if not modules.re.match('^[0-9]{4}-(0[1-9]|1[0-2])$', text) -%}
                {{ exceptions.raise_compiler_error(
                    "var " ~ name ~ " must look like YYYY-MM, got '" ~ text ~ "'") }}
            {%- endif -%}
            {%- do bounds.append(text ~ '-01') -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if bounds[0] is none and bounds[1] is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if bounds[0] is none or bounds[1] is none -%}
        {{ exceptions.raise_compiler_error(
            "vars month_from and month_to go together: give both or neither") }}
    {%- endif -%}
    {%- if bounds[0] > bounds[1] -%}
        {{ exceptions.raise_compiler_error(
            "month_from (" ~ bounds[0][:7] ~ ") is after month_to (" ~ bounds[1][:7] ~ ")") }}
    {%- endif -%}
    {{ return(bounds) }}
{%- endmacro %}


{#- SQL condition on a first-of-month date column: inside the window (true without one). -#}
{% macro month_window_condition(month_column) -%}
    {%- set listed = month_list() -%}
    {%- set bounds = month_window() -%}
    {%- if listed is not none and bounds is not none -%}
        {{ exceptions.raise_compiler_error(
            "var months and vars month_from/month_to are two ways to say the window: give one") }}
    {%- elif listed is not none -%}
        {{ month_column }} in (
            {%- for day in listed -%}
                cast('{{ day }}' as date){% if not loop.last %}, {% endif %}
            {%- endfor -%}
        )
    {%- elif bounds is none -%}
        1 = 1
    {%- else -%}
        {{ month_column }} between cast('{{ bounds[0] }}' as date) and cast('{{ bounds[1] }}' as date)
    {%- endif -%}
{%- endmacro %}


{#-
  Pre-hook of the monthly marts: on an incremental run, delete the months about to be rebuilt
  (the window, or every month) so that a month whose rows all disappeared (e.g. annulled) does
  not keep stale rows; delete+insert on ref_month then writes the months that have rows.
-#}
{% macro delete_month_window(month_column='ref_month') -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ month_window_condition(month_column) }}
    {%- else -%}
        select 1 as nothing_to_delete
    {%- endif -%}
{%- endmacro %}


{#- First day of the month of a date/timestamp expression, as a date (portable). -#}
{% macro month_of(expression) -%}
    cast({{ dbt.date_trunc('month', expression) }} as date)
{%- endmacro %}


{#- Calendar year of a date/timestamp expression, as an integer (portable). -#}
{% macro year_of(expression) -%}
    cast(extract(year from {{ expression }}) as {{ dbt.type_int() }})
{%- endmacro %}
