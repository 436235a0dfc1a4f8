-- The offences of each conviction as of the release cut-off: those of the version chosen by
-- stg_convictions__convictions (same conviction_id, version and delivering file).

with current_convictions as (

    select conviction_id, version, _partition, _file
    from {{ ref('stg_convictions__convictions') }}

),

offence_versions as (

    select * from {{ ref('base_convictions__conviction_offences') }}

)

select
    offence_versions.conviction_id,
    offence_versions.version,
    offence_versions.offence_seq,
    offence_versions.offence_code,
    offence_versions.attempt,
    offence_versions.is_main,
    offence_versions._partition,
    offence_versions._file,
    offence_versions._line
from offence_versions
inner join current_convictions
    on offence_versions.conviction_id = current_convictions.conviction_id
    and offence_versions.version = current_convictions.version
    and offence_versions._partition = current_convictions._partition
    and offence_versions._file = current_convictions._file
