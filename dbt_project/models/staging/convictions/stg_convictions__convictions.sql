-- The state of each conviction decision as of the release cut-off: its latest version written
-- at or before var as_of (highest version number; the write time breaks a tie).

with conviction_versions as (

    select * from {{ ref('base_convictions__conviction_versions') }}

),

versions_ranked as (

    select
        *,
        row_number() over (
            partition by conviction_id
            order by version desc, written_at desc
        ) as recency_rank
    from conviction_versions

)

select
    conviction_id,
    version,
    written_at,
    person_key,
    birth_year,
    age_at_judgment,
    sex,
    citizenship,
    court_code,
    judgment_at,
    final_at,
    status,
    sanction,
    sentence_months,
    fine_eur,
    ecris_member_state,
    _partition,
    _file,
    _line
from versions_ranked
where recency_rank = 1
