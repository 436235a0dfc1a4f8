-- Each ICCS code with every one of its ancestors, itself included (distance 0): a 020111
-- offence counts in 020111, 02011, 0201 and 02. ICCS has four levels, so three parent hops
-- reach the section; plain self-joins keep this portable (no recursive CTE).

with iccs_codes as (

    select code, level, parent
    from {{ ref('iccs_codes') }}

),

ancestor_chains as (

    select
        code_itself.code as iccs_code,
        code_itself.level as iccs_level,
        parent_1.code as parent_1_code,
        parent_1.level as parent_1_level,
        parent_2.code as parent_2_code,
        parent_2.level as parent_2_level,
        parent_3.code as parent_3_code,
        parent_3.level as parent_3_level
    from iccs_codes as code_itself
    left join iccs_codes as parent_1
        on code_itself.parent = parent_1.code
    left join iccs_codes as parent_2
        on parent_1.parent = parent_2.code
    left join iccs_codes as parent_3
        on parent_2.parent = parent_3.code

),

ancestors as (

    select iccs_code, iccs_level, iccs_code as ancestor_code, iccs_level as ancestor_level, 0 as distance
    from ancestor_chains

    union all

    select iccs_code, iccs_level, parent_1_code, parent_1_level, 1
    from ancestor_chains
    where parent_1_code is not null

    union all

    select iccs_code, iccs_level, parent_2_code, parent_2_level, 2
    from ancestor_chains
    where parent_2_code is not null

    union all

    select iccs_code, iccs_level, parent_3_code, parent_3_level, 3
    from ancestor_chains
    where parent_3_code is not null

)

select
    iccs_code,
    iccs_level,
    ancestor_code,
    ancestor_level,
    distance
from ancestors
