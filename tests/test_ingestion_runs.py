"""Ingestion as real Dagster runs: unreadable files fail their partition and name the file while
everything readable loads; loading twice equals loading once; a killed run recovers."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest
from landing_files import INCIDENT, MONTHS, land_three_months, write_incidents

from core.contracts import ALL_RAW_TABLES
from core.settings import load_settings
from ingestion.loading import load_partition, load_partitions

PROJECT = Path(__file__).resolve().parent.parent


def raw_snapshot(warehouse: Path) -> dict[str, pl.DataFrame]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {
            t.name: con.sql(
                f"select * exclude (loaded_at) from {t.qualified} order by all"
                if t.name == "file_loads"
                else f"select * from {t.qualified} order by all"
            ).pl()
            for t in ALL_RAW_TABLES
        }
    finally:
        con.close()


def count(warehouse: Path, sql: str) -> int:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def test_unreadable_files_fail_their_partition_and_the_rest_loads(crimestat_home: Path) -> None:
    from orchestration.definitions import defs
    from orchestration.runs import dagster_instance, materialize_selection

    landing = crimestat_home / "landing"
    land_three_months(landing)
    cut = landing / "incidents/2022-02/incidents_2022-02-20.csv.gz"
    cut.write_bytes(cut.read_bytes()[:-30])  # gzip stream cut short
    utf8 = landing / "customs/2022-03/violations_2022-03.csv"
    utf8.write_bytes(utf8.read_bytes().decode("cp1257").encode("utf-8"))
    no_column = landing / "convictions/2022-01/convictions_2022-01-05.jsonl.gz"
    text = gzip.decompress(no_column.read_bytes()).decode().replace('"sex": "M", ', "")
    no_column.write_bytes(gzip.compress(text.encode(), mtime=0))
    csv_no_column = landing / "customs/2022-01/seizures_2022-01.csv"
    csv_no_column.write_bytes(csv_no_column.read_bytes().replace(b"cn_code;", b"", 1))

    settings = load_settings()
    outcomes = materialize_selection(defs(), settings, "group:ingestion", None)

    assert len(outcomes) == 1 and not outcomes[0].success
    problems = "\n".join(outcomes[0].problems)
    assert "incidents/2022-02/incidents_2022-02-20.csv.gz: gzip stream is truncated" in problems
    assert "customs/2022-03/violations_2022-03.csv: the file is encoded in UTF-8" in problems
    assert "customs/2022-01/seizures_2022-01.csv: header lacks column(s) cn_code" in problems
    # The JSON file lacks a field in every object: each row is quarantined, the file loads.
    warehouse = settings.warehouse_path
    assert count(warehouse, "select count(*) from raw.quarantine where _file like "
                 "'convictions/2022-01/convictions_2022-01-05%' and rule = 'missing_field' "
                 "and field = 'sex'") == 3  # fmt: skip
    # Nothing of the unreadable files, everything of the readable ones.
    assert count(warehouse, "select count(*) from raw.incident_versions") == 25
    assert count(warehouse, "select count(*) from raw.incident_versions "
                 "where _file like '%2022-02-20%'") == 0  # fmt: skip
    assert count(warehouse, "select count(*) from raw.customs_violation_versions") == 2
    assert count(warehouse, "select count(*) from raw.customs_seizures") == 2
    assert count(warehouse, "select count(*) from raw.conviction_versions") == 15
    # Dagster records the partitions that loaded completely, not the failed ones.
    instance = dagster_instance(settings)
    materialized = instance.get_materialized_partitions(dg.AssetKey(["raw", "incidents"]))
    assert materialized == {"2022-01", "2022-03"}
    assert instance.get_materialized_partitions(dg.AssetKey(["raw", "customs"])) == {"2022-02"}


def test_cli_names_the_unreadable_file_and_exits_non_zero(crimestat_home: Path) -> None:
    landing = crimestat_home / "landing"
    land_three_months(landing)
    cut = landing / "incidents/2022-03/incidents_2022-03-05.csv.gz"
    cut.write_bytes(cut.read_bytes()[:20])
    result = subprocess.run(
        [sys.executable, "-m", "crimestat.cli", "materialize", "--select", "group:ingestion",
         "--partition", "2022-03"],
        capture_output=True, text=True, cwd=PROJECT, env=os.environ.copy(), timeout=600,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "incidents/2022-03/incidents_2022-03-05.csv.gz: gzip stream is truncated" in (
        result.stdout
    )


def test_loading_twice_equals_loading_once(crimestat_home: Path) -> None:
    land_three_months(crimestat_home / "landing")
    settings = load_settings()
    for register in ("incidents", "convictions", "customs"):
        for month in MONTHS:
            load_partition(register, month, settings)
    once = raw_snapshot(settings.warehouse_path)
    for register in ("incidents", "convictions", "customs"):
        load_partition(register, "2022-02", settings)
    twice = raw_snapshot(settings.warehouse_path)
    assert once["incident_versions"].height == 30
    for name, frame in once.items():
        assert frame.equals(twice[name]), name


def test_worker_processes_load_what_one_process_loads(crimestat_home: Path) -> None:
    landing = crimestat_home / "landing"
    land_three_months(landing)
    cut = landing / "incidents/2022-02/incidents_2022-02-20.csv.gz"
    cut.write_bytes(cut.read_bytes()[:-30])
    settings = load_settings()
    snapshots, failures = [], []
    for workers in (1, 2):
        settings.warehouse_path.unlink(missing_ok=True)
        reports = list(load_partitions(
            "incidents", MONTHS, replace(settings, ingestion_workers=workers)))  # fmt: skip
        assert tuple(r.partition for r in reports) == MONTHS
        failures.append([str(f) for r in reports for f in r.failures])
        snapshots.append(raw_snapshot(settings.warehouse_path))
    # The unreadable file's error comes back from its worker process whole.
    assert failures[0] == failures[1] and len(failures[1]) == 1
    assert "incidents_2022-02-20.csv.gz: gzip stream is truncated" in failures[1][0]
    for name, frame in snapshots[0].items():
        assert frame.equals(snapshots[1][name]), name
    assert snapshots[1]["incident_versions"].height == 25


# argv: module of the load function, the function, register, month. Every warehouse connection
# the process opens through its settings dies at its commit.
KILL_AT_COMMIT = textwrap.dedent(
    """
    import importlib, os, signal, sys
    from contextlib import contextmanager
    from core.settings import Settings, load_settings

    class DiesAtCommit:
        # The process is killed when the partition's transaction is about to commit.
        def __init__(self, con):
            self._con = con
        def execute(self, sql, *args):
            if sql == "commit":
                os.kill(os.getpid(), signal.SIGKILL)
            return self._con.execute(sql, *args)
        def __getattr__(self, name):
            return getattr(self._con, name)

    opened_warehouse = Settings.warehouse

    @contextmanager
    def dying_warehouse(self, **options):
        with opened_warehouse(self, **options) as con:
            yield DiesAtCommit(con)

    Settings.warehouse = dying_warehouse
    module = importlib.import_module(sys.argv[1])
    getattr(module, sys.argv[2])(sys.argv[3], sys.argv[4], load_settings())
    """
)


def test_run_killed_in_the_middle_of_a_partition_recovers(crimestat_home: Path) -> None:
    landing = crimestat_home / "landing"
    land_three_months(landing)
    settings = load_settings()
    for month in MONTHS:
        load_partition("incidents", month, settings)
    expected = raw_snapshot(settings.warehouse_path)
    # A new delivery replaces February; the process dies mid-transaction.
    write_incidents(landing, "2022-02-25", [INCIDENT | {"event_id": "E-late"}])
    died = subprocess.run(
        [sys.executable, "-c", KILL_AT_COMMIT, "ingestion.loading", "load_partition",
         "incidents", "2022-02"],
        cwd=PROJECT, env=os.environ.copy(), capture_output=True, timeout=300,
    )  # fmt: skip
    assert died.returncode == -signal.SIGKILL
    after_crash = raw_snapshot(settings.warehouse_path)
    for name, frame in expected.items():
        assert frame.equals(after_crash[name]), f"{name} changed by a killed run"
    load_partition("incidents", "2022-02", settings)
    assert count(settings.warehouse_path, "select count(*) from raw.incident_versions "
                 "where event_id = 'E-late'") == 1  # fmt: skip
    assert count(settings.warehouse_path, "select count(*) from raw.incident_versions") == 31


@pytest.mark.parametrize("delay", [0.5, 1.5, 3.0])
def test_cli_run_killed_at_any_moment_then_rerun_ends_correct(
    crimestat_home: Path, delay: float
) -> None:
    """SIGKILL the real command at some moment, run it again: same state as a clean load."""
    import time

    landing = crimestat_home / "landing"
    land_three_months(landing)
    command = [sys.executable, "-m", "crimestat.cli", "materialize", "--select", "group:ingestion"]
    process = subprocess.Popen(command, cwd=PROJECT, env=os.environ.copy(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    time.sleep(delay)
    process.kill()
    process.wait()
    rerun = subprocess.run(command, cwd=PROJECT, env=os.environ.copy(), capture_output=True,
                           text=True, timeout=600)  # fmt: skip
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    settings = load_settings()
    recovered = raw_snapshot(settings.warehouse_path)
    assert recovered["incident_versions"].height == 30
    assert recovered["conviction_versions"].height == 18
    assert recovered["customs_violation_versions"].height == 3
    assert recovered["file_loads"].height == 6 * 2 + 3 * 2
    assert recovered["quarantine"].height == 0
