{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['conviction_id', 'version'],
        on_schema_change='fail',
        full_refresh=full_refresh_with_as_of(),
        post_hook="{{ delete_retired_rows('convictions', ref('base_convictions__conviction_versions'), ['conviction_id', 'version']) }}"
    )
}}
-- The offences of every conviction version kept by base_convictions__conviction_versions:
-- offence rows have no write time of their own, so they follow the version row delivered in
-- the same file (a re-delivered version brings its offences again; only the kept delivery's
-- offences count, each offence_seq once).
-- A table: every later step reads it, so the cut-off and the de-duplication run once per build.
-- Incremental (macros/incremental_staging.sql): a build redoes only the offences of versions
-- whose kept delivery changed since the last build.

with

{% if is_incremental() %}
versions_to_redo as (

    {{ keys_of_changed_rows(['conviction_id', 'version'], ref('base_convictions__conviction_versions'), 'convictions') }}

),
{% endif %}

conviction_versions as (

    select conviction_id, version, written_at, _partition, _file, _load_seq
    from {{ ref('base_convictions__conviction_versions') }}
    {% if is_incremental() %}
    semi join versions_to_redo using (conviction_id, version)
    {% endif %}

),

offence_rows as (

    select * from {{ source('convictions', 'conviction_offences') }}

),

offences_of_kept_versions as (

    select
        offence_rows.conviction_id,
        offence_rows.version,
        offence_rows.offence_seq,
        offence_rows.offence_code,
        offence_rows.attempt,
        offence_rows.is_main,
        conviction_versions.written_at,
        offence_rows._partition,
        offence_rows._file,
        offence_rows._line,
        conviction_versions._load_seq,
        row_number() over (
            partition by offence_rows.conviction_id, offence_rows.version, offence_rows.offence_seq
            order by offence_rows._line
        ) as delivery_rank
    from offence_rows
    inner join conviction_versions
        on offence_rows.conviction_id = conviction_versions.conviction_id
        and offence_rows.version = conviction_versions.version
        and offence_rows._partition = conviction_versions._partition
        and offence_rows._file = conviction_versions._file

)

select
    conviction_id,
    version,
    offence_seq,
    offence_code,
    attempt,
    is_main,
    written_at,
    _partition,
    _file,
    _line,
    _load_seq
from offences_of_kept_versions
where delivery_rank = 1
