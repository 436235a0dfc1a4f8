-- How fresh each register is (SPEC 10), at the time of the build: when it last wrote a record,
-- the latest file and month loaded from it, the age of its latest record in days, and the
-- verdict against the thresholds its source declares in sources.yml (read from dbt's graph by
-- the macro source_freshness: one definition, never copied here).
-- Age is measured on written_at, the time the register wrote the record (not when its file
-- happened to be loaded), on the raw versions as delivered: the release cut-off (var as_of)
-- that the staging models apply has nothing to do with how fresh a register is. written_at is
-- the registers' local wall-clock time (var timezone), so it is read in that zone against the
-- build's instant; computed_at is the build time in the same zone.
-- A register with no record yet is missing (severity error); older than error_after days is
-- stale (error), older than warn_after days stale (warning), else fresh.

{#- dbt learns a model's sources when it parses the project, before its graph exists: the
    registers' version tables are named here, each under its register's name. -#}
{%- set register_tables = [
    ('incidents', 'incident_versions'),
    ('convictions', 'conviction_versions'),
    ('customs', 'customs_violation_versions'),
] %}

with build as (

    select cast('{{ run_started_at }}' as timestamptz) as built_at

),

written as (

    {% for register, table_name in register_tables -%}
    {%- set freshness = source_freshness(register, table_name) %}
    select
        '{{ register }}' as register,
        max({{ freshness.loaded_at_field }}) as last_written_at,
        cast({{ freshness.warn_after_days | default('null', true) }} as bigint) as warn_after_days,
        cast({{ freshness.error_after_days | default('null', true) }} as bigint) as error_after_days
    from {{ source(register, table_name) }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

loads as (

    select
        register,
        max(loaded_at) as last_loaded_at,
        max(_partition) as last_partition
    from {{ ref('stg_ingestion__file_loads') }}
    group by register

),

aged as (

    select
        written.register,
        written.last_written_at,
        loads.last_loaded_at,
        loads.last_partition,
        round(
            (
                epoch(build.built_at)
                - epoch(timezone('{{ var("timezone") }}', written.last_written_at))
            ) / 86400,
            2
        ) as age_days,
        written.warn_after_days,
        written.error_after_days,
        timezone('{{ var("timezone") }}', build.built_at) as computed_at
    from written
    cross join build
    left join loads
        on written.register = loads.register

)

select
    register,
    last_written_at,
    last_loaded_at,
    last_partition,
    age_days,
    case
        when age_days is null then 'missing'
        when age_days > error_after_days or age_days > warn_after_days then 'stale'
        else 'fresh'
    end as status,
    case
        when age_days is null or age_days > error_after_days then 'error'
        when age_days > warn_after_days then 'warning'
    end as severity,
    warn_after_days,
    error_after_days,
    computed_at
from aged
