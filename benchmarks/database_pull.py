"""Benchmark: the pull of 1,000,000 incident versions from a PostgreSQL register database.

The synthetic generator writes a year of registers at the scale that yields at least the
wanted number of incident versions; `generate --to-db`'s loader puts the incidents into a
throwaway PostgreSQL server (tests/postgres_server.py: Debian's binaries, a free local port),
and the table is cut to exactly the wanted count (the latest versions go). Then, each in its
own subprocess (wall time of the work only, interpreter start-up and imports excluded; peak
resident memory from getrusage):

- pull: `pull_partition` of every month into an empty warehouse (COPY, text rendering,
  validation, DuckDB append with watermark): the figure the issue asks for;
- read: the COPY into polars alone (`read_source_batches`), to show what the database costs;
- files: the file path (`load_partition`) over the same months' landing files, for scale.

    .venv/bin/python -m benchmarks.database_pull [--versions 1000000]

Prints a Markdown table and writes benchmarks/results/database_pull.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(PROJECT / "tests"))

from benchmarks.measuring import (  # noqa: E402
    RESULTS,
    machine,
    markdown_table,
    peak_rss_mb,
    write_report,
)
from core.settings import load_settings  # noqa: E402

RESULT_FILE = RESULTS / "database_pull.json"
START = "2021-01"
MONTHS = 12
# Incident versions per year at scale 1 are about 578,000 (calibrated generator); a margin
# makes sure the year holds the wanted count before it is cut.
VERSIONS_PER_SCALE_YEAR = 520_000
KEY = "benchmark-pseudonymisation-key-0123"
MODES = ("pull", "read", "files")


def child(mode: str) -> dict:
    """One measurement over every month, in this (fresh) process."""
    from ingestion.database.pull import database_months, pull_partition, read_source_batches
    from ingestion.loading import load_partition

    settings = load_settings()
    months = database_months(settings) if mode != "files" else _landing_months(settings)
    baseline = peak_rss_mb()
    rows = 0
    started = time.perf_counter()
    for month in months:
        if mode == "pull":
            rows += pull_partition("incidents", month, settings).rows_read
        elif mode == "read":
            batches = read_source_batches("incidents", month, {}, settings)
            rows += sum(b.records.rows_read for b in batches)
        else:
            rows += load_partition("incidents", month, settings).rows_read
    seconds = time.perf_counter() - started
    return {
        "mode": mode,
        "months": len(months),
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_before_work_mb": round(baseline, 1),
    }


def _landing_months(settings) -> list[str]:
    from ingestion.landing import landed_months

    return landed_months(settings.landing_dir, ["incidents"])


def measure(mode: str, environment: dict[str, str]) -> dict:
    command = [sys.executable, "-m", "benchmarks.database_pull", "--child", mode]
    result = subprocess.run(
        command, check=True, capture_output=True, text=True, env=environment, cwd=PROJECT
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def prepare_database(server, landing: Path, versions: int) -> tuple[str, dict]:
    """The incidents of the landing files in a fresh database, cut to `versions` rows."""
    import psycopg

    from ingestion.database.seeding import load_landing_into_database

    url = server.create_database("benchmark")
    started = time.perf_counter()
    loaded = load_landing_into_database(landing, url, load_settings(), registers=["incidents"])
    seconds = time.perf_counter() - started
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(
            "delete from register.incidents where (written_at, event_id, version) > "
            "(select written_at, event_id, version from register.incidents "
            "order by written_at, event_id, version offset %s limit 1)",
            [versions - 1],
        )
        con.execute("vacuum analyze register.incidents")
        [(kept,)] = con.execute("select count(*) from register.incidents").fetchall()
    if kept != versions:
        raise RuntimeError(f"the generated year holds {kept} incident versions, not {versions}")
    rows = loaded.rows_in_tables["incidents"]
    return url, {
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=1_000_000)
    parser.add_argument("--child", choices=MODES)
    arguments = parser.parse_args()
    if arguments.child:
        print(json.dumps(child(arguments.child)))
        return

    from postgres_server import running_postgres

    from synthetic import generate_registers

    scale = round(arguments.versions / VERSIONS_PER_SCALE_YEAR, 2)
    with tempfile.TemporaryDirectory() as directory, running_postgres() as server:
        base = Path(directory)
        landing = base / "files" / "landing"
        generate_registers(landing, start=START, months=MONTHS, scale=scale, seed=42)
        url, seeding = prepare_database(server, landing, arguments.versions)
        environment = {k: v for k, v in os.environ.items() if not k.startswith("CRIMESTAT_")}
        environment["CRIMESTAT_PSEUDONYMISATION_KEY"] = KEY
        database = environment | {"CRIMESTAT_INCIDENTS_DB_URL": url}
        runs = [
            measure("pull", database | {"CRIMESTAT_HOME": str(base / "pulled")}),
            measure("read", database | {"CRIMESTAT_HOME": str(base / "read")}),
            measure("files", environment | {"CRIMESTAT_HOME": str(base / "files")}),
        ]
        [(server_version,)] = server.admin().execute("show server_version").fetchall()
    report = {
        "benchmark": "database_pull",
        "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": {
            **{name: version(name) for name in ("psycopg", "polars", "duckdb")},
            "postgresql": server_version,
        },
        "data": {
            "start": START,
            "months": MONTHS,
            "scale": scale,
            "incident_versions": arguments.versions,
        },
        "loading_into_postgresql": seeding,
        "runs": runs,
    }
    write_report(RESULT_FILE, report, markdown)


def markdown(report: dict) -> str:
    lines = markdown_table(
        ("mode", "months", "rows", "time (s)", "rows/s", "peak RSS (MB)", "RSS before work (MB)"),
        (
            (run["mode"], run["months"], f"{run['rows']:,}", run["seconds"],
             f"{run['rows_per_second']:,}", run["peak_rss_mb"], run["rss_before_work_mb"])
            for run in report["runs"]
        ),
    )  # fmt: skip
    seeding = report["loading_into_postgresql"]
    lines.append(
        f"\nLoading {seeding['rows']:,} incident versions into PostgreSQL (generate --to-db): "
        f"{seeding['seconds']} s, {seeding['rows_per_second']:,} rows/s"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
