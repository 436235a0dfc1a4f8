-- Every national offence code of a criminal offence seen in the data (any version written at
-- or before the cut-off, incident register and conviction register) that the correspondence
-- table does not map to ICCS (SPEC 3.6: reported, never dropped). Its offences are still
-- counted under iccs_code UNMAPPED. A test fails the build while this table is not empty.
-- offence_code null = a criminal event version that carried no offence code.

with codes_seen as (

    select * from {{ ref('int_offence_codes_seen') }}

),

correspondence as (

    select national_code, iccs_code
    from {{ ref('offence_code_iccs') }}

)

select
    codes_seen.offence_code,
    codes_seen.register,
    count(distinct codes_seen.record_id) as records,
    count(*) as versions,
    min(codes_seen.written_at) as first_seen_at,
    max(codes_seen.written_at) as last_seen_at
from codes_seen
left join correspondence
    on codes_seen.offence_code = correspondence.national_code
where correspondence.iccs_code is null
group by
    codes_seen.offence_code,
    codes_seen.register
