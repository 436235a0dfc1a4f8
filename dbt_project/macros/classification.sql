{#- Shared classification rules of the counting (SPEC 5); documented in models/docs.md. -#}

{#- Pseudo ICCS code of an offence whose national code the correspondence does not map. -#}
{% macro unmapped_iccs_code() -%}
    'UNMAPPED'
{%- endmacro %}


{#-
  ICCS code of an offence: the correspondence's attempt code when the offence was attempted
  (BK129 murder attempted -> 0102 attempted intentional homicide), else its code;
  UNMAPPED when the national code has no correspondence row.
-#}
{% macro classify_offence(correspondence_alias, attempt_column) -%}
    case
        when {{ correspondence_alias }}.iccs_code is null then {{ unmapped_iccs_code() }}
        when {{ attempt_column }} then coalesce({{ correspondence_alias }}.iccs_code_attempt, {{ correspondence_alias }}.iccs_code)
        else {{ correspondence_alias }}.iccs_code
    end
{%- endmacro %}


{#- Eurostat age classes of the age at judgment; under 14 (below criminal age) is UNK. -#}
{% macro age_group(age_column) -%}
    case
        when {{ age_column }} is null or {{ age_column }} < 14 then 'UNK'
        when {{ age_column }} <= 17 then 'Y14-17'
        when {{ age_column }} <= 24 then 'Y18-24'
        when {{ age_column }} <= 34 then 'Y25-34'
        when {{ age_column }} <= 44 then 'Y35-44'
        when {{ age_column }} <= 54 then 'Y45-54'
        when {{ age_column }} <= 64 then 'Y55-64'
        else 'Y_GE65'
    end
{%- endmacro %}


{#- The Y_LT18 / Y_GE18 aggregate an age group belongs to. -#}
{% macro age_group_broad(age_column) -%}
    case
        when {{ age_column }} is null or {{ age_column }} < 14 then 'UNK'
        when {{ age_column }} <= 17 then 'Y_LT18'
        else 'Y_GE18'
    end
{%- endmacro %}


{#-
  Seriousness of a sanction, 1 = most serious (Lithuanian Criminal Code art. 42 order, with a
  suspended prison sentence after the custodial ones): decides which conviction represents a
  person convicted more than once in a year.
-#}
{% macro sanction_severity_rank(sanction_column) -%}
    case {{ sanction_column }}
        when 'imprisonment' then 1
        when 'arrest' then 2
        when 'suspended' then 3
        when 'restriction_of_liberty' then 4
        when 'community_work' then 5
        when 'fine' then 6
        else 7
    end
{%- endmacro %}


{#-
  Order of a person's final convictions from the most serious (SPEC 5: a person convicted
  more than once in a period is represented by the first): heaviest sanction, then the
  longest sentence, the highest fine (none last), the earliest final_at, the smallest
  conviction_id. Used by the yearly and the monthly counts of persons convicted.
-#}
{% macro seriousness_order() -%}
    sanction_severity_rank,
    case when sentence_months is null then 1 else 0 end,
    sentence_months desc,
    case when fine_eur is null then 1 else 0 end,
    fine_eur desc,
    final_at,
    conviction_id
{%- endmacro %}
