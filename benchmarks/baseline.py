"""The baseline: the national annual recorded-offences table by ICCS code, computed by one
DuckDB query straight from the landing files, with no validation, no quarantine, no lineage,
no checks and no publication. The gap between it and the full build is the pipeline's
overhead.

    python -m benchmarks.baseline LANDING_DIR   (prints the table's row count and total)

The query applies the same counting rule as the marts (latest version per event, criminal,
not annulled, counted in the year of the pre-trial start, attempted murder as 0102) and reads
every daily incident file, skipping lines it cannot parse.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

SEEDS = Path(__file__).resolve().parent.parent / "dbt_project" / "seeds" / "reference"

QUERY = """
with versions as (
    select
        event_id,
        try_cast(version as integer) as version,
        event_kind,
        offence_code,
        attempt = 'true' as attempt,
        status,
        try_cast(pretrial_started_at as timestamp) as pretrial_started_at
    from read_csv($files, delim = ';', header = true, all_varchar = true,
                  ignore_errors = true, null_padding = false)
),
latest as (
    select *
    from versions
    where version is not null
    qualify row_number() over (partition by event_id order by version desc) = 1
),
recorded as (
    select
        year(pretrial_started_at) as ref_year,
        coalesce(
            case when attempt then correspondence.iccs_code_attempt
                 else correspondence.iccs_code end,
            'UNMAPPED'
        ) as iccs_code
    from latest
    left join read_csv($correspondence, all_varchar = true) as correspondence
        on latest.offence_code = correspondence.national_code
    where event_kind = 'criminal' and status <> 'annulled' and pretrial_started_at is not null
)
select ref_year, iccs_code, count(*) as offences
from recorded
group by all
order by all
"""


def national_annual_recorded_offences(landing: Path) -> list[tuple[int, str, int]]:
    files = str(landing / "incidents" / "*" / "incidents_*.csv.gz")
    with duckdb.connect() as con:
        return con.execute(
            QUERY,
            {"files": files, "correspondence": str(SEEDS / "offence_code_iccs.csv")},
        ).fetchall()


if __name__ == "__main__":
    rows = national_annual_recorded_offences(Path(sys.argv[1]))
    print(f"{len(rows)} rows, {sum(r[2] for r in rows)} recorded offences")
