{#-
  Incremental staging (issue 17): a build takes in only what changed since the last one.

  Every loaded file or database batch has a load number (raw.file_loads.load_seq, increasing,
  never given twice). Each staging row carries the number of the load that delivered it
  (_load_seq), so the highest _load_seq in a model says how far it has read. A build redoes
  only the keys that
    - rows of loads numbered after that carry (new versions, re-deliveries, replaced files), or
    - built rows carry whose load is no longer current (a file replaced, or forgotten with
      `crimestat forget`),
  from ALL the upstream rows of those keys, ranked again exactly as a full build ranks them,
  and writes them delete+insert by key; a post-hook deletes the built rows whose load retired
  and that nothing replaced (a key whose every delivery is gone). The result is the full
  build's, row for row (tests/test_incremental_staging.py builds both ways and compares).

  A build with var as_of is a release cut-off, not today's state: it rebuilds whole, and its
  rows carry no load number, so the next build without as_of redoes every key.
  `dbt build --full-refresh` (`crimestat materialize --full-refresh`) rebuilds whole.
-#}

{#- Model config: a build with an as_of cut-off is always a full one. -#}
{% macro full_refresh_with_as_of() -%}
    {{ return(true if as_of_value() is not none else none) }}
{%- endmacro %}


{#- The load number a row carries: none under as_of (see above). -#}
{% macro load_seq_of(column) -%}
    {%- if as_of_value() is none -%}
        {{ column }}
    {%- else -%}
        cast(null as bigint)
    {%- endif -%}
{%- endmacro %}


{#- The loads of a register whose rows are in the warehouse now. -#}
{% macro current_loads(register) -%}
    select _partition, _file, load_seq
    from {{ source('ingestion', 'file_loads') }}
    where register = '{{ register }}'
{%- endmacro %}


{#- The load number marking how far the model being built has read (0 before its first build). -#}
{% macro last_load_read() -%}
    (select coalesce(max(_load_seq), 0) from {{ this }})
{%- endmacro %}


{#-
  Keys of the built rows whose load is no longer current (a file replaced or forgotten), and
  of rows without a load number (left by a build with as_of).
-#}
{% macro keys_of_retired_rows(keys, register) -%}
    select {{ keys | join(', ') }}
    from {{ this }} as built
    anti join ({{ current_loads(register) }}) as loads
        on built._partition = loads._partition
        and built._file = loads._file
        and built._load_seq = loads.load_seq
{%- endmacro %}


{#-
  Keys to redo in a model over a staging table (`upstream`, carrying _load_seq): those of
  upstream rows numbered after the last build, and those of built rows whose load retired.
  The upstream is redone in the same build (it comes first), so these are all the records
  whose upstream rows changed.
-#}
{% macro keys_of_changed_rows(keys, upstream, register) -%}
    select {{ keys | join(', ') }}
    from {{ upstream }}
    where _load_seq > {{ last_load_read() }}
    union
    {{ keys_of_retired_rows(keys, register) }}
{%- endmacro %}


{#-
  Post-hook: delete the built rows whose load retired and that nothing replaced: in a base
  model, every such row (its key has no current delivery left: it would have been redone); in
  a model over a staging table (`upstream`), those no upstream row matches any more (built
  before its upstream was, such a row waits for the upstream to move on).
-#}
{% macro delete_retired_rows(register, upstream=none, keys=none) -%}
    {%- if is_incremental() and as_of_value() is none -%}
        delete from {{ this }} as built
        where (
            built._load_seq is null
            or not exists (
                select 1
                from ({{ current_loads(register) }}) as loads
                where loads._partition = built._partition
                    and loads._file = built._file
                    and loads.load_seq = built._load_seq
            )
        )
        {%- if upstream is not none %}
        and not exists (
            select 1
            from {{ upstream }} as current_rows
            where current_rows._load_seq is not distinct from built._load_seq
            {%- for column in keys + ['version'] | reject('in', keys) | list %}
                and current_rows.{{ column }} = built.{{ column }}
            {%- endfor %}
        )
        {%- endif %}
    {%- else -%}
        select 1 as nothing_to_delete
    {%- endif -%}
{%- endmacro %}


{#-
  The first delivery of every (key, version) of a register's versions written at or before
  the cut-off (var as_of), with the number of its load (_load_seq): the body of the base
  models. On an incremental build, only the versions the loads since the last build changed
  or retired, each from all its deliveries.
-#}
{% macro first_deliveries(register, versions, key) -%}
    with loads as (

        {{ current_loads(register) }}

    ),

    {% if is_incremental() -%}
    loads_since_last_build as (

        select *
        from loads
        where load_seq > {{ last_load_read() }}

    ),

    versions_to_redo as (

        select {{ key }}, version
        from {{ versions }} as versions
        semi join loads_since_last_build
            on versions._partition = loads_since_last_build._partition
            and versions._file = loads_since_last_build._file
        union
        {{ keys_of_retired_rows([key, 'version'], register) }}

    ),
    {%- endif %}

    cut_off_rows as (

        select
            versions.*,
            {{ load_seq_of('loads.load_seq') }} as _load_seq
        from {{ versions }} as versions
        inner join loads
            on versions._partition = loads._partition
            and versions._file = loads._file
        {% if is_incremental() -%}
        semi join versions_to_redo using ({{ key }}, version)
        {%- endif %}
        where {{ as_of_condition('versions.written_at') }}

    ),

    deliveries_ranked as (

        select
            *,
            row_number() over (
                partition by {{ key }}, version
                order by _partition, _file, _line
            ) as delivery_rank
        from cut_off_rows

    )

    select *
    from deliveries_ranked
    where delivery_rank = 1
{%- endmacro %}


{#-
  The latest version of each record (highest version number; the write time breaks a tie)
  among a base model's versions: the body of the stg models. On an incremental build, only the
  records whose versions changed since the last build (keys_of_changed_rows).
-#}
{% macro latest_versions(register, versions, key) -%}
    {% if is_incremental() -%}
    with records_to_redo as (

        {{ keys_of_changed_rows([key], versions, register) }}

    ),

    record_versions as (

        select *
        from {{ versions }}
        semi join records_to_redo using ({{ key }})

    ),
    {%- else -%}
    with record_versions as (

        select * from {{ versions }}

    ),
    {%- endif %}

    versions_ranked as (

        select
            *,
            row_number() over (
                partition by {{ key }}
                order by version desc, written_at desc
            ) as recency_rank
        from record_versions

    )

    select *
    from versions_ranked
    where recency_rank = 1
{%- endmacro %}
