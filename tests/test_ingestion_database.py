"""Registers pulled straight from a real PostgreSQL server (started by postgres_server.py):
the database path lands the same raw rows as the file path, pulls are incremental on
written_at, and every failure names its cause and leaves the watermark where it was."""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import polars as pl
import psycopg
import pytest
from postgres_server import PostgresServer, free_port, running_postgres
from test_ingestion_runs import KILL_AT_COMMIT, raw_snapshot

from core import contracts as c
from core.settings import Settings, SettingsError, load_settings
from ingestion.database.connection import masked_url
from ingestion.database.pull import pull_partition
from ingestion.database.seeding import load_landing_into_database
from ingestion.database.tables import SOURCE_TABLES_BY_REGISTER
from ingestion.errors import SourceDatabaseError
from ingestion.loading import load_partition
from ingestion.reconciliation import unreconciled_files

PROJECT = Path(__file__).resolve().parent.parent
MONTHS = ("2022-01", "2022-02", "2022-03")
SEEDED = "seeded_registers"
PERSONAL_CODE = re.compile(r"(?<![0-9])[1-6][0-9]{10}(?![0-9])")
# File-only defects: lines a typed database cannot hold, skipped by `generate --to-db`.
FILE_ONLY_RULES = ("duplicate", "broken_encoding", "truncated_row")
KEY_FIELDS = {"event_id", "conviction_id", "violation_id", "version", "line_no"}
FAILURE_DATABASES = itertools.count()


@dataclass(frozen=True)
class SeededRegisters:
    landing: Path
    generated: dict  # the command's summary, with its "database" part


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    with running_postgres() as server:
        yield server


@pytest.fixture(scope="module")
def seeded(postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> SeededRegisters:
    """Three months of synthetic registers, written to files and loaded into PostgreSQL by
    the real command; the database is the template every test copies."""
    landing = tmp_path_factory.mktemp("registers") / "landing"
    url = postgres.create_database(SEEDED)
    result = subprocess.run(
        [sys.executable, "-m", "crimestat.cli", "generate", "--out", str(landing), "--to-db",
         url, "--start", MONTHS[0], "--months", "3", "--scale", "0.05", "--seed", "11",
         "--defect-rate", "0.01"],
        cwd=PROJECT, capture_output=True, text=True, timeout=600,
        env={k: v for k, v in os.environ.items() if not k.startswith("CRIMESTAT_")},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert postgres.password not in result.stdout + result.stderr
    return SeededRegisters(landing, json.loads(result.stdout))


def copy_of_registers(postgres: PostgresServer, name: str) -> str:
    """A fresh database with the seeded registers (CREATE DATABASE ... TEMPLATE)."""
    with postgres.admin() as con:
        con.execute(f"drop database if exists {name}")
        con.execute(f"create database {name} template {SEEDED} owner crimestat")
    return postgres.url(name)


def use_database(monkeypatch: pytest.MonkeyPatch, url: str, *registers: str) -> Settings:
    for register in registers or c.REGISTERS:
        monkeypatch.setenv(f"CRIMESTAT_{register.upper()}_DB_URL", url)
    return load_settings()


def pull_all(settings: Settings, registers: tuple[str, ...] = c.REGISTERS) -> None:
    for register in registers:
        for month in MONTHS:
            pull_partition(register, month, settings)


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def raw_without_lineage(warehouse: Path, table: c.RawTable) -> pl.DataFrame:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.sql(f"select * exclude (_file, _line) from {table.qualified} order by all").pl()
    finally:
        con.close()


def quarantine_keys(warehouse: Path) -> pl.DataFrame:
    """(register, partition, rule, field, record key) of every quarantined row."""
    rows = query(warehouse, "select register, _partition, rule, field, record from raw.quarantine")
    keys = []
    for register, partition, rule, field, record in rows:
        if register == "convictions":
            try:
                obj = json.loads(record)
            except json.JSONDecodeError:  # a line cut short in its file
                obj = {}
            key = f"{obj.get('conviction_id')};{obj.get('version')}"
        else:
            key = ";".join(record.split(";")[:2])
        keys.append((register, partition, rule, field, key))
    return pl.DataFrame(
        keys, schema=["register", "_partition", "rule", "field", "key"], orient="row"
    ).sort(pl.all())


def test_file_path_and_database_path_land_identical_raw_tables(
    seeded: SeededRegisters, postgres: PostgresServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, crimestat_home: Path,
) -> None:  # fmt: skip
    (crimestat_home / "landing").symlink_to(seeded.landing)
    by_files = load_settings()
    for register in c.REGISTERS:
        for month in MONTHS:
            load_partition(register, month, by_files)
    monkeypatch.setenv("CRIMESTAT_HOME", str(tmp_path / "from-database"))
    by_database = use_database(monkeypatch, copy_of_registers(postgres, "equivalence"))
    pull_all(by_database)

    for tables in c.RAW_TABLES_BY_REGISTER.values():
        for table in tables:
            from_files = raw_without_lineage(by_files.warehouse_path, table)
            from_database = raw_without_lineage(by_database.warehouse_path, table)
            assert from_files.height > 0, table.name
            assert from_files.equals(from_database), table.name
    # Quarantine: the same rows, rules and fields, except the lines only files can carry,
    # which `generate --to-db` skipped and counted.
    file_rows = quarantine_keys(by_files.warehouse_path)
    file_only = pl.col("rule").is_in(FILE_ONLY_RULES) | (
        (pl.col("rule") == "missing_field") & pl.col("field").is_in(KEY_FIELDS)
    )
    assert file_rows.filter(~file_only).equals(quarantine_keys(by_database.warehouse_path))
    assert file_rows.filter(~file_only)["rule"].n_unique() >= 3
    skipped = seeded.generated["database"]["lines_skipped"]
    assert file_rows.filter(file_only).height == sum(
        n for r in skipped.values() for n in r.values()
    )
    assert file_rows.filter(file_only).height > 0
    # Accounting per pull batch reconciles; no personal code in what was quarantined.
    with duckdb.connect(str(by_database.warehouse_path)) as con:
        for register in c.REGISTERS:
            assert unreconciled_files(con, register, MONTHS).is_empty(), register
    records = query(by_database.warehouse_path, "select record from raw.quarantine")
    assert not any(PERSONAL_CODE.search(record) for (record,) in records)
    labels = query(by_database.warehouse_path, "select distinct _file from raw.file_loads")
    assert all(re.match(r"^db:[a-z_]+/2022-0[1-3]/2022-\S+\.\.2022-\S+$", f) for (f,) in labels)


def test_loading_the_same_registers_twice_into_the_database_changes_nothing(
    seeded: SeededRegisters, postgres: PostgresServer, crimestat_home: Path
) -> None:
    url = copy_of_registers(postgres, "reloaded")

    def contents() -> dict[str, list[tuple]]:
        with psycopg.connect(url) as con:
            return {
                t.name: con.execute(f"select * from register.{t.name} order by 1, 2").fetchall()
                for tables in SOURCE_TABLES_BY_REGISTER.values()
                for t in tables
            }

    before = contents()
    summary = load_landing_into_database(seeded.landing, url, load_settings())
    assert contents() == before
    assert summary.rows_upserted == seeded.generated["database"]["rows_upserted"]
    assert summary.rows_in_tables == {name: len(rows) for name, rows in before.items()}


def _watermark(settings: Settings, register: str, table: str, month: str):
    """The stored watermark (an instant) as the registers' local time, how their naive
    written_at columns hold it."""
    [(mark,)] = query(
        settings.warehouse_path,
        "select watermark from raw.source_watermarks where register = ? and source_table = ? "
        "and _partition = ?",
        [register, table, month],
    )
    assert mark.tzinfo is not None, "a watermark is an instant"
    return mark.astimezone(ZoneInfo(settings.country.timezone)).replace(tzinfo=None)


def write_new_versions(url: str, settings: Settings) -> dict[str, tuple]:
    """After a pull: a reclassification of a February event, a new February conviction and a
    March version of a violation last written before March (its seizure lines go with it),
    each copied from a row that landed clean and written just after its month's watermark."""
    warehouse = settings.warehouse_path
    [(event,)] = query(warehouse, "select min(event_id) from raw.incident_versions where "
                       "_partition = '2022-02' and event_kind = 'criminal' and status = "
                       "'registered' and written_at < '2022-02-15'")  # fmt: skip
    [(conviction, conviction_version)] = query(
        warehouse, "select conviction_id, version from raw.conviction_versions where "
        "_partition = '2022-02' and status = 'pending' order by all limit 1",
    )  # fmt: skip
    clean_violations = [v for (v,) in query(
        warehouse, "select violation_id from raw.customs_violation_versions group by all "
        "having max(_partition) < '2022-03' and max(procedure) = 'administrative' order by 1",
    )]  # fmt: skip
    new: dict[str, tuple] = {}
    with psycopg.connect(url) as con:
        at = _watermark(settings, "incidents", "incidents", "2022-02") + timedelta(seconds=1)
        [(version,)] = con.execute(
            "select max(version) from register.incidents where event_id = %s", [event]
        ).fetchall()
        con.execute(
            "insert into register.incidents select event_id, version + 1, %s, registered_at, "
            "occurred_from, occurred_to, agency_code, channel, call_112_id, event_kind, "
            "'BK180', attempt, municipality, lat, lon, victims, damage_eur, 'pretrial_started', "
            "%s, decision_at from register.incidents where event_id = %s and version = %s",
            [at, at, event, version],
        )
        new["incident"] = (event, version + 1, at)
        at = _watermark(settings, "convictions", "convictions", "2022-02") + timedelta(seconds=1)
        con.execute(
            "insert into register.convictions select 'NEW-CONVICTION', 1, %s, person_code, "
            "birth_date, sex, citizenship, court_code, judgment_at, final_at, status, offences, "
            "sanction, sentence_months, fine_eur, ecris_member_state from register.convictions "
            "where conviction_id = %s and version = %s",
            [at, conviction, conviction_version],
        )
        new["conviction"] = ("NEW-CONVICTION", 1, at)
        at = _watermark(settings, "customs", "customs_violations", "2022-03") + timedelta(seconds=1)
        violation, version = con.execute(
            "select violation_id, max(version) from register.customs_violations "
            "where violation_id = any(%s) group by violation_id "
            "having max(written_at) < '2022-03-01' order by violation_id limit 1",
            [clean_violations],
        ).fetchone()
        con.execute(
            "insert into register.customs_violations select violation_id, version + 1, %s, "
            "detected_at, unit_code, task_id, customs_post, border_section, lat, lon, "
            "violation_type, 'criminal', offender_citizenship, vehicle_type "
            "from register.customs_violations where violation_id = %s and version = %s",
            [at, violation, version],
        )
        lines = con.execute(
            "select count(*) from register.customs_seizures where violation_id = %s", [violation]
        ).fetchone()[0]
        new["violation"] = (violation, version + 1, at, lines)
    for name, (*_, at) in (("incident", new["incident"]), ("conviction", new["conviction"])):
        assert at.strftime("%Y-%m") == "2022-02", f"{name} version would leave its month"
    assert new["violation"][2].strftime("%Y-%m") == "2022-03"
    return new


def added_rows(before: dict[str, pl.DataFrame], after: dict[str, pl.DataFrame], name: str):
    return after[name].join(before[name], on=after[name].columns, how="anti", nulls_equal=True)


def test_incremental_pulls_land_exactly_the_new_versions(
    seeded: SeededRegisters, postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch,
    crimestat_home: Path,
) -> None:  # fmt: skip
    url = copy_of_registers(postgres, "incremental")
    settings = use_database(monkeypatch, url)
    pull_all(settings)
    before = raw_snapshot(settings.warehouse_path)
    new = write_new_versions(url, settings)

    pull_all(settings)
    after = raw_snapshot(settings.warehouse_path)
    event, version, _ = new["incident"]
    assert added_rows(before, after, "incident_versions").select(
        "event_id", "version", "offence_code", "_partition"
    ).rows() == [(event, version, "BK180", "2022-02")]
    assert added_rows(before, after, "conviction_versions")["conviction_id"].to_list() == [
        "NEW-CONVICTION"
    ]
    assert added_rows(before, after, "conviction_offences").height >= 1
    violation, version, _, lines = new["violation"]
    assert added_rows(before, after, "customs_violation_versions").select(
        "violation_id", "version", "procedure", "_partition"
    ).rows() == [(violation, version, "criminal", "2022-03")]
    seizures = added_rows(before, after, "customs_seizures")
    assert lines >= 1 and seizures.height == lines
    assert set(seizures["violation_id"]) == {violation}
    assert set(seizures["_partition"]) == {"2022-03"}
    assert added_rows(before, after, "quarantine").is_empty()
    batches = added_rows(before, after, "file_loads")
    assert sorted(batches["_file"].str.extract(r"^db:([a-z_]+/2022-0\d)").to_list()) == [
        "convictions/2022-02", "customs_seizures/2022-03", "customs_violations/2022-03",
        "incidents/2022-02",
    ]  # fmt: skip
    assert batches["rows_read"].sum() == 3 + lines
    assert _watermark(settings, "incidents", "incidents", "2022-02") == new["incident"][2]
    with duckdb.connect(str(settings.warehouse_path)) as con:
        for register in c.REGISTERS:
            assert unreconciled_files(con, register, MONTHS).is_empty(), register

    pull_all(settings)
    again = raw_snapshot(settings.warehouse_path)
    for name, frame in after.items():
        assert frame.equals(again[name]), f"a pull without new rows changed {name}"


def test_database_batches_are_loaded_per_batch_and_never_forgotten(
    seeded: SeededRegisters, postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch,
    crimestat_home: Path,
) -> None:  # fmt: skip
    """A batch is a file: pulled again under its name with other content (the watermark lost,
    a row corrected in place) it replaces only its rows; pulled again after the source lost
    rows, the earlier batch keeps them."""
    url = copy_of_registers(postgres, "per_batch")
    settings = use_database(monkeypatch, url, "incidents")
    pull_partition("incidents", "2022-02", settings)
    before = raw_snapshot(settings.warehouse_path)
    [(batch,)] = query(settings.warehouse_path, "select _file from raw.file_loads")
    [(event, version)] = query(settings.warehouse_path, "select event_id, version from "
                               "raw.incident_versions order by all limit 1")  # fmt: skip

    def forget_watermark() -> None:
        with duckdb.connect(str(settings.warehouse_path)) as con:
            con.execute("delete from raw.source_watermarks")

    with psycopg.connect(url) as con:
        con.execute(
            "update register.incidents set damage_eur = 12345.67 "
            "where event_id = %s and version = %s",
            [event, version],
        )
    forget_watermark()
    pull_partition("incidents", "2022-02", settings)
    corrected = raw_snapshot(settings.warehouse_path)
    changed = added_rows(before, corrected, "incident_versions")
    assert changed.select("event_id", "version", "_file").rows() == [(event, version, batch)]
    assert str(changed["damage_eur"][0]) == "12345.67"
    assert corrected["incident_versions"].height == before["incident_versions"].height
    assert corrected["file_load_history"].select("_file", "superseded_how").rows() == [
        (batch, "replaced")
    ]
    assert corrected["quarantine"].equals(before["quarantine"])

    # The source loses the second half of February; pulled again from scratch, nothing goes.
    with psycopg.connect(url) as con:
        con.execute("delete from register.incidents where written_at >= '2022-02-15'")
    forget_watermark()
    pull_partition("incidents", "2022-02", settings)
    after = raw_snapshot(settings.warehouse_path)
    assert after["incident_versions"].equals(corrected["incident_versions"])
    assert after["file_loads"].height == 2  # the first batch and the new, smaller one
    # The new batch's versions are all in the first one: each a duplicate, none lost.
    new_batch = added_rows(corrected, after, "file_loads")
    assert new_batch["rows_loaded"].to_list() == [0]
    with duckdb.connect(str(settings.warehouse_path)) as con:
        assert unreconciled_files(con, "incidents", ["2022-02"]).is_empty()


def test_a_pull_in_the_repeated_hour_of_october_skips_nothing(
    seeded: SeededRegisters, postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch,
    crimestat_home: Path,
) -> None:  # fmt: skip
    """Clocks go back at 04:00 on the last Sunday of October: 03:00-04:00 local happens twice.
    A register whose written_at is a timestamptz writes a version at 03:30 (summer time),
    is pulled, then writes one at 03:10 (winter time, 40 minutes later): the next pull gets it.
    Watermarks stored as local text were read back as 03:30 winter time and skipped it."""
    url = copy_of_registers(postgres, "repeated_hour")
    settings = use_database(monkeypatch, url, "incidents")
    copy = (
        "insert into register.incidents select %s, 1, %s, registered_at, occurred_from, "
        "occurred_to, agency_code, channel, call_112_id, event_kind, offence_code, attempt, "
        "municipality, lat, lon, victims, damage_eur, status, null, null "
        "from register.incidents where written_at < '2022-02-15' order by event_id limit 1"
    )
    with psycopg.connect(url) as con:
        con.execute("set timezone = 'Europe/Vilnius'")
        con.execute("alter table register.incidents alter column written_at type timestamptz")
        con.execute(copy, ["SUMMER-0330", datetime(2022, 10, 30, 0, 30, tzinfo=UTC)])
    first = pull_partition("incidents", "2022-10", settings)
    assert first.rows_loaded == 1
    with psycopg.connect(url) as con:
        con.execute(copy, ["WINTER-0310", datetime(2022, 10, 30, 1, 10, tzinfo=UTC)])
    second = pull_partition("incidents", "2022-10", settings)
    assert second.rows_loaded == 1
    assert [r[0] for r in query(settings.warehouse_path, "select event_id from "
            "raw.incident_versions where _partition = '2022-10' order by 1")] == [
        "SUMMER-0330", "WINTER-0310"]  # fmt: skip
    [(mark,)] = query(settings.warehouse_path, "select watermark from raw.source_watermarks "
                      "where _partition = '2022-10'")  # fmt: skip
    assert mark == datetime(2022, 10, 30, 1, 10, tzinfo=UTC)


def test_local_watermarks_of_an_older_warehouse_become_instants(crimestat_home: Path) -> None:
    settings = load_settings()
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("create schema raw")
        con.execute(
            "create table raw.source_watermarks (register varchar not null, source_table "
            "varchar not null, _partition varchar not null, watermark timestamp not null, "
            "rows integer not null, pulled_at timestamp not null)"
        )
        con.execute("insert into raw.source_watermarks values ('incidents', 'incidents', "
                    "'2022-07', '2022-07-01 12:00:00', 1, now())")  # fmt: skip
    from core.warehouse import ensure_raw_schema

    with duckdb.connect(str(settings.warehouse_path)) as con:
        ensure_raw_schema(con)
        [(mark,)] = con.execute("select watermark from raw.source_watermarks").fetchall()
    assert mark == datetime(2022, 7, 1, 9, 0, tzinfo=UTC)  # 12:00 summer time in Vilnius


@pytest.fixture
def pulled_once(
    seeded: SeededRegisters, postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch,
    crimestat_home: Path, request: pytest.FixtureRequest,
) -> tuple[str, Settings]:  # fmt: skip
    """February of the incidents pulled, then a new version written: a pull has work."""
    url = copy_of_registers(postgres, f"failure_{next(FAILURE_DATABASES)}")
    settings = use_database(monkeypatch, url, "incidents")
    pull_partition("incidents", "2022-02", settings)
    with psycopg.connect(url) as con:
        con.execute(
            "insert into register.incidents select 'LATE-EVENT', 1, %s, registered_at, "
            "occurred_from, occurred_to, agency_code, channel, call_112_id, event_kind, "
            "offence_code, attempt, municipality, lat, lon, victims, damage_eur, status, "
            "pretrial_started_at, decision_at from register.incidents "
            "where written_at < '2022-02-15' order by event_id limit 1",
            [_watermark(settings, "incidents", "incidents", "2022-02") + timedelta(seconds=1)],
        )
    return url, settings


BREAKS = {
    "unreachable": (
        lambda server, url: url.replace(f":{server.port}/", f":{free_port()}/"), None,
        r"cannot connect to the incidents register database postgresql://crimestat@"
        r"127\.0\.0\.1:\d+/failure_\d+: .*Connection refused",
    ),
    "wrong_password": (
        lambda server, url: url.replace(server.password, "not-the-password"), None,
        r"cannot connect to the incidents register database .*: .*password authentication "
        r'failed for user "crimestat"',
    ),
    "missing_table": (
        lambda server, url: url, "alter table register.incidents rename to incidents_archive",
        r"the incidents register database .*: table register\.incidents does not exist",
    ),
    "wrong_column_type": (
        lambda server, url: url, "alter table register.incidents alter column victims type text",
        r"the incidents register database .*: column register\.incidents\.victims is text, "
        r"expected integer or smallint or bigint",
    ),
}  # fmt: skip


@pytest.mark.parametrize("failure", list(BREAKS))
def test_a_failing_pull_names_its_cause_and_leaves_the_watermark(
    failure: str, pulled_once: tuple[str, Settings], postgres: PostgresServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    url, settings = pulled_once
    broken_url, statement, message = BREAKS[failure]
    if statement is not None:
        with psycopg.connect(url) as con:
            con.execute(statement)
    before = raw_snapshot(settings.warehouse_path)
    broken = use_database(monkeypatch, broken_url(postgres, url), "incidents")
    with pytest.raises(SourceDatabaseError, match=message) as raised:
        pull_partition("incidents", "2022-02", broken)
    assert postgres.password not in str(raised.value)
    after = raw_snapshot(settings.warehouse_path)
    for name, frame in before.items():
        assert frame.equals(after[name]), f"{name} changed by a failed pull"


def test_the_cli_names_a_refused_database_without_its_password(
    pulled_once: tuple[str, Settings], postgres: PostgresServer
) -> None:
    url, _ = pulled_once
    environment = os.environ | {
        "CRIMESTAT_INCIDENTS_DB_URL": url.replace(postgres.password, "wrong-secret-xyz")
    }
    result = subprocess.run(
        [sys.executable, "-m", "crimestat.cli", "materialize", "--select", "key:raw/incidents"],
        cwd=PROJECT, env=environment, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 1
    assert "password authentication failed" in result.stderr
    assert "postgresql://crimestat@127.0.0.1" in result.stderr
    assert "wrong-secret-xyz" not in result.stdout + result.stderr


def test_a_pull_killed_before_its_commit_loses_and_doubles_nothing(
    pulled_once: tuple[str, Settings],
) -> None:
    _, settings = pulled_once
    before = raw_snapshot(settings.warehouse_path)
    died = subprocess.run(
        [sys.executable, "-c", KILL_AT_COMMIT, "ingestion.database.pull", "pull_partition",
         "incidents", "2022-02"],
        cwd=PROJECT, env=os.environ.copy(), capture_output=True, timeout=300,
    )  # fmt: skip
    assert died.returncode == -signal.SIGKILL, died.stderr
    after_kill = raw_snapshot(settings.warehouse_path)
    for name, frame in before.items():
        assert frame.equals(after_kill[name]), f"{name} changed by a killed pull"
    pull_partition("incidents", "2022-02", settings)
    pull_partition("incidents", "2022-02", settings)
    rerun = raw_snapshot(settings.warehouse_path)
    assert added_rows(before, rerun, "incident_versions")["event_id"].to_list() == ["LATE-EVENT"]
    assert rerun["incident_versions"].height == before["incident_versions"].height + 1
    assert rerun["file_loads"].height == before["file_loads"].height + 1


def test_dagster_materializes_raw_incidents_from_the_database(
    seeded: SeededRegisters, postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch,
    crimestat_home: Path,
) -> None:  # fmt: skip
    from orchestration.definitions import defs
    from orchestration.runs import dagster_instance, materialize_selection

    url = copy_of_registers(postgres, "dagster")
    settings = use_database(monkeypatch, url, "incidents")
    assert not settings.landing_dir.exists()
    outcomes = materialize_selection(defs(), settings, "key:raw/incidents", None)
    assert [o.success for o in outcomes] == [True], [o.problems for o in outcomes]
    assert outcomes[0].partitions == "2022-01..2022-03"
    assert outcomes[0].checks_passed >= 1 and not outcomes[0].problems
    instance = dagster_instance(settings)
    checks = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(dg.AssetKey(["raw", "incidents"]), "rows_reconcile")]
    )
    [execution] = checks.values()
    assert execution.event.dagster_event.event_specific_data.passed
    assert instance.get_materialized_partitions(dg.AssetKey(["raw", "incidents"])) == set(MONTHS)
    with psycopg.connect(url) as con:
        in_database = con.execute("select count(*) from register.incidents").fetchone()[0]
    landed = query(settings.warehouse_path, "select sum(rows_read) from raw.file_loads")
    assert landed == [(in_database,)]


def test_register_database_settings_refuse_other_urls_and_mask_passwords(
    monkeypatch: pytest.MonkeyPatch, crimestat_home: Path
) -> None:
    monkeypatch.setenv("CRIMESTAT_CUSTOMS_DB_URL", "mysql://u:secret@host/db")
    with pytest.raises(SettingsError, match="CRIMESTAT_CUSTOMS_DB_URL must be a PostgreSQL URL"):
        load_settings()
    assert masked_url("postgresql://u:s3cret@h:5432/db?sslmode=require") == (
        "postgresql://u@h:5432/db"
    )
    assert masked_url("postgresql://h/db?user=u&password=s3cret") == "postgresql://u@h/db"
