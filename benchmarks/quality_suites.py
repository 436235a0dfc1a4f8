"""How long the suites take on a warehouse of realistic size, and how much memory they hold.

    python -m benchmarks.quality_suites --home /tmp/quality-bench --rows 5000000 [--dbt]

fills the raw tables of a fresh warehouse under --home with synthetic, contract-valid rows
made by DuckDB SQL (120 months; about --rows incident versions, scale 1 being ~5M), with
--dbt builds the marts from them, then runs every suite (raw suites over all partitions and
over the last month alone) and prints the seconds per suite and the peak memory.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from datetime import datetime
from pathlib import Path

import duckdb

from core.contracts import RAW_TABLES_BY_REGISTER
from core.settings import DBT_PROJECT_DIR, Settings, load_settings
from core.warehouse import ensure_raw_schema
from ingestion.loading import numbered_loads
from quality.references import load_references
from quality.runner import run_suite
from quality.suites import SUITES

FIRST_DAY = "2014-01-01"
DAYS = 3652  # 120 months
LAST_MONTH = "2023-12"


def _run(con: duckdb.DuckDBPyConnection, sql: str, params: dict) -> None:
    """DuckDB refuses named parameters a statement does not use: pass only its own."""
    con.execute(sql, {name: value for name, value in params.items() if f"${name}" in sql})


def fill_raw(con: duckdb.DuckDBPyConnection, incident_rows: int, settings: Settings) -> None:
    """Incident versions (40% of events have a second version), about one conviction version
    per 20 incident versions, one customs violation per 40, spread evenly over the days."""
    ensure_raw_schema(con)
    refs = load_references(settings, datetime.now())
    codes = [
        line.split(",")[0]
        for line in (settings.reference_dir / "offence_code_iccs.csv")
        .read_text(encoding="utf-8")
        .splitlines()[1:]
    ]
    params = {
        "municipalities": list(refs.municipalities),
        "codes": codes,
        "events": int(incident_rows / 1.4),
        "first_day": FIRST_DAY,
        "days": DAYS,
    }
    _run(
        con,
        """
        insert into raw.incident_versions
        with events as (
            select i, cast($first_day as timestamp)
                      + to_seconds(cast(i * 86400.0 * $days / $events as bigint)) as registered_at,
                   case when i % 10 < 2 then 'criminal'
                        when i % 10 < 5 then 'administrative' else 'incident' end as event_kind
            from range($events) as t(i)
        ),
        versions as (
            select events.*, v.version,
                   registered_at + to_days(cast(10 * (v.version - 1) as integer)) as written_at
            from events, range(1, case when i % 5 < 2 then 3 else 2 end) as v(version)
        )
        select 'E' || lpad(cast(i as varchar), 9, '0'), version, written_at, registered_at,
               registered_at - interval 1 hour, null,
               'POL-' || lpad(cast(i % 100 as varchar), 3, '0'),
               ['112', 'in_person', 'online', 'proactive'][i % 4 + 1], null, event_kind,
               case when event_kind = 'criminal' then $codes[i % len($codes) + 1]
                    when event_kind = 'administrative' then 'ANK' || (100 + i % 50) end,
               i % 50 = 0, $municipalities[cast(hash(i) % len($municipalities) as bigint) + 1],
               54.0 + (i % 200) / 100.0, 23.0 + (i % 300) / 100.0, i % 3, i % 1000,
               case when version = 1 and event_kind = 'criminal' then 'pretrial_started'
                    when version = 1 then 'registered'
                    when event_kind = 'criminal' then 'solved' else 'closed' end,
               case when event_kind = 'criminal' then registered_at end,
               case when version = 2 then written_at end,
               strftime(written_at, '%Y-%m'),
               'incidents/' || strftime(written_at, '%Y-%m/incidents_%Y-%m-%d') || '.csv.gz',
               cast(i % 100000 + 2 as integer)
        from versions
        """,
        params,
    )
    _run(
        con,
        """
        insert into raw.conviction_versions
        with convictions as (
            select i, cast(cast($first_day as timestamp)
                      + to_seconds(cast(i * 86400.0 * $days / ($events / 15) as bigint)) as date)
                   as final_at
            from range(cast($events / 15 as bigint)) as t(i)
        )
        select 'C' || lpad(cast(i as varchar), 8, '0'), 1, final_at + interval 12 hour,
               translate(md5(cast(i % ($events / 20) as varchar))
                         || left(md5(cast(-(i % ($events / 20)) as varchar)), 20), '0189', 'wxyz'),
               year(final_at) - 18 - i % 50,
               18 + i % 50, ['M', 'F'][i % 2 + 1], ['LT', 'LV', 'PL', 'UA', null][i % 5 + 1],
               'APYL-01', final_at, final_at, 'final',
               ['imprisonment', 'suspended', 'fine', 'community_work'][i % 4 + 1], null, null,
               null, strftime(final_at, '%Y-%m'),
               'convictions/' || strftime(final_at, '%Y-%m/convictions_%Y-%m-%d') || '.jsonl.gz',
               cast(i % 100000 + 2 as integer)
        from convictions
        """,
        params,
    )
    _run(
        con,
        """
        insert into raw.conviction_offences
        select conviction_id, version, 1,
               $codes[cast(hash(conviction_id) % len($codes) as bigint) + 1], false, true,
               _partition, _file, _line
        from raw.conviction_versions
        """,
        params,
    )
    _run(
        con,
        """
        insert into raw.customs_violation_versions
        with violations as (
            select i, cast($first_day as timestamp)
                      + to_seconds(cast(i * 86400.0 * $days / ($events / 28) as bigint))
                   as detected_at
            from range(cast($events / 28 as bigint)) as t(i)
        )
        select 'V' || lpad(cast(i as varchar), 8, '0'), 1, detected_at + interval 1 hour,
               detected_at, 'MU-01', null, 'Medininkai',
               ['LT-BY', 'LT-RU', 'LT-LV', 'LT-PL', 'inland', 'airport', 'seaport'][i % 7 + 1],
               null, null,
               ['cigarettes', 'alcohol', 'fuel', 'drugs', 'weapons', 'cash', 'counterfeit',
                'other'][i % 8 + 1],
               ['administrative', 'criminal'][i % 2 + 1], 'LT', 'car',
               strftime(detected_at + interval 1 hour, '%Y-%m'),
               'customs/' || strftime(detected_at + interval 1 hour, '%Y-%m/violations_%Y-%m')
                   || '.csv',
               cast(i % 100000 + 2 as integer)
        from violations
        """,
        params,
    )
    con.execute(
        """
        insert into raw.customs_seizures
        select violation_id, 1, '24022090', 'cigarettes', 1000, 'sticks', 250, _partition,
               replace(_file, 'violations_', 'seizures_'), _line
        from raw.customs_violation_versions
        """
    )
    record_loads(con)


def record_loads(con: duckdb.DuckDBPyConnection) -> None:
    """A `raw.file_loads` row for every file the rows name, as the ingestion records each file
    it loads (the staging models read the rows of recorded loads only)."""
    files = con.sql(
        "select register, _partition, _file, count(*) as rows_read, count(*) as rows_loaded, "
        "0 as rows_quarantined, 'generated' as sha256, localtimestamp as loaded_at from ("
        + " union all ".join(
            f"select '{register}' as register, _partition, _file from {table.qualified}"
            for register, tables in RAW_TABLES_BY_REGISTER.items()
            for table in tables
        )
        + ") group by all order by _partition, register, _file"
    ).pl()
    con.register("numbered_loads", numbered_loads(con, files).to_arrow())
    con.execute("insert into raw.file_loads by name select * from numbered_loads")
    con.unregister("numbered_loads")


def build_marts(home: Path) -> None:
    from dbt.cli.main import dbtRunner

    os.environ["CRIMESTAT_HOME"] = str(home)
    project = str(DBT_PROJECT_DIR)
    dbtRunner().invoke(
        ["build", "--project-dir", project, "--profiles-dir", project, "--quiet",
         "--target-path", str(home / "dbt_target"), "--log-path", str(home / "dbt_logs")]
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--dbt", action="store_true", help="build the marts with dbt")
    args = parser.parse_args()
    args.home.mkdir(parents=True, exist_ok=True)
    settings = load_settings()
    path = args.home / "warehouse.duckdb"
    if not path.exists():
        started = time.perf_counter()
        with duckdb.connect(str(path)) as con:
            fill_raw(con, args.rows, settings)
        print(f"raw tables filled in {time.perf_counter() - started:.1f} s")
        if args.dbt:
            started = time.perf_counter()
            build_marts(args.home)
            print(f"dbt build in {time.perf_counter() - started:.1f} s")
    with duckdb.connect(str(path)) as con:
        sizes = {
            table: con.execute(f"select count(*) from raw.{table}").fetchall()[0][0]
            for table in ("incident_versions", "conviction_versions", "customs_violation_versions")
        }
        print("rows:", sizes)
        total = 0.0
        for name, suite in SUITES.items():
            runs = [None, [LAST_MONTH]] if suite.partitioned else [None]
            for partitions in runs:
                result = run_suite(con, name, partitions=partitions, settings=settings)
                total += result.seconds if partitions is None else 0.0
                scope = "all" if partitions is None else LAST_MONTH
                print(
                    f"{name:32} {scope:8} {result.seconds:7.2f} s  "
                    f"critical ok: {result.success_critical}  warning ok: {result.success_warning}"
                )
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"all suites, all partitions: {total:.1f} s; peak memory {peak:.0f} MB")


if __name__ == "__main__":
    main()
