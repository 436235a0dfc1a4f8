"""Loads are per file and never forget: a month reloaded without some of its files keeps their
rows, a file re-delivered with other bytes replaces exactly its rows (the old load kept as
history), a version already loaded from another file is a duplicate, and rows leave only
through `crimestat forget`, which names the files and is logged."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from landing_files import INCIDENT, MONTHS, land_three_months, write_incidents
from test_ingestion_runs import count, raw_snapshot

from core.contracts import FILE_LOADS
from core.settings import load_settings
from ingestion.loading import load_partition
from ingestion.reconciliation import unreconciled_files
from ingestion.registers import incidents as incidents_module

PROJECT = Path(__file__).resolve().parent.parent
REGISTERS = ("incidents", "convictions", "customs")


def load_all(settings) -> None:
    for register in REGISTERS:
        for month in MONTHS:
            load_partition(register, month, settings)


def rows(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_files_moved_away_and_the_month_reloaded_keep_their_rows(crimestat_home: Path) -> None:
    landing = crimestat_home / "landing"
    land_three_months(landing)
    settings = load_settings()
    load_all(settings)
    before = raw_snapshot(settings.warehouse_path)
    # Every register loses files of February (customs both), then February is reloaded.
    moved = crimestat_home / "moved"
    for pattern in ("incidents/2022-02/*", "convictions/2022-02/*05*", "customs/2022-02/*"):
        for path in landing.glob(pattern):
            target = moved / path.relative_to(landing)
            target.parent.mkdir(parents=True, exist_ok=True)
            path.rename(target)
    for register in REGISTERS:
        report = load_partition(register, "2022-02", settings)
        assert report.files.height == 0  # nothing new: nothing read, nothing written
    after = raw_snapshot(settings.warehouse_path)
    for name, frame in before.items():
        assert frame.equals(after[name]), f"{name} changed when files were moved away"
    assert after["incident_versions"].height == 30
    assert after["conviction_versions"].height == 18


def test_a_corrected_file_replaces_only_its_rows(crimestat_home: Path) -> None:
    landing = crimestat_home / "landing"
    land_three_months(landing)
    settings = load_settings()
    load_all(settings)
    before = raw_snapshot(settings.warehouse_path)
    [(last_load,)] = rows(settings.warehouse_path, "select max(load_seq) from raw.file_loads")
    day = "2022-02-05"
    name = f"incidents/2022-02/incidents_{day}.csv.gz"
    old_sha = hashlib.sha256((landing / name).read_bytes()).hexdigest()
    # Re-delivered: one event corrected, one dropped, one added (4 rows instead of 5).
    corrected = [
        INCIDENT | {"event_id": f"E-{day}-{i}", "written_at": f"{day}T10:00:00",
                    "registered_at": f"{day}T09:00:00", "occurred_from": f"{day}T01:00:00"}
        for i in (0, 1, 2, 5)
    ]  # fmt: skip
    corrected[0]["offence_code"] = "BK180"
    new_path = write_incidents(landing, day, corrected)
    new_sha = hashlib.sha256(new_path.read_bytes()).hexdigest()
    load_partition("incidents", "2022-02", settings)
    after = raw_snapshot(settings.warehouse_path)

    def others(frame):
        return frame.filter(frame["_file"] != name)

    assert others(before["incident_versions"]).equals(others(after["incident_versions"]))
    mine = after["incident_versions"].filter(after["incident_versions"]["_file"] == name)
    assert sorted(mine["event_id"]) == [f"E-{day}-{i}" for i in (0, 1, 2, 5)]
    assert mine.filter(mine["event_id"] == f"E-{day}-0")["offence_code"].to_list() == ["BK180"]
    assert after["incident_versions"].height == 29
    for table in ("conviction_versions", "customs_violation_versions"):
        assert before[table].equals(after[table])
    assert rows(settings.warehouse_path, f"select sha256 from raw.file_loads where _file = '{name}'"
                ) == [(new_sha,)]  # fmt: skip
    assert rows(
        settings.warehouse_path,
        "select sha256, superseded_how, superseded_by_sha256, rows_read from "
        f"raw.file_load_history where _file = '{name}'",
    ) == [(old_sha, "replaced", new_sha, 5)]
    with duckdb.connect(str(settings.warehouse_path)) as con:
        assert unreconciled_files(con, "incidents", MONTHS).is_empty()
    # Delivering the old content again replaces it back; the history keeps both.
    land_three_months(landing)
    load_partition("incidents", "2022-02", settings)
    again = raw_snapshot(settings.warehouse_path)
    assert again["incident_versions"].equals(before["incident_versions"])
    assert again["file_load_history"].height == 2
    # Each delivery took the next load number; none is given twice (the staging models read
    # the loads numbered after their last build).
    assert rows(settings.warehouse_path, f"select load_seq from raw.file_loads where _file = "
                f"'{name}'") == [(last_load + 2,)]  # fmt: skip
    assert rows(settings.warehouse_path, "select load_seq from raw.file_load_history order by "
                "1")[-1] == (last_load + 1,)  # fmt: skip
    every_load = "from raw.file_loads union all by name from raw.file_load_history"
    numbers_given_twice = f"select count(*) - count(distinct load_seq) from ({every_load})"
    assert count(settings.warehouse_path, numbers_given_twice) == 0


@pytest.mark.parametrize("had_history", [True, False])
def test_loads_of_an_older_warehouse_are_numbered_in_load_order(
    crimestat_home: Path, had_history: bool
) -> None:
    """Warehouses made before loads were numbered get their numbers once, current and retired
    loads together in the order they were loaded; the next load goes on from there. One made
    before retired loads were kept gets its history table with the number."""
    landing = crimestat_home / "landing"
    land_three_months(landing)
    settings = load_settings()
    unnumbered = ", ".join(
        f"{name} {kind}" for name, kind in FILE_LOADS.columns if name != "load_seq"
    )
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("create schema raw")
        con.execute(f"create table raw.file_loads ({unnumbered})")
        for hour, name in ((9, "b"), (8, "a"), (11, "d")):
            con.execute(f"insert into raw.file_loads values ('customs', '2021-01', '{name}', "
                        f"'x', 0, 0, 0, '2021-02-01 {hour}:00:00')")  # fmt: skip
        if had_history:
            con.execute(
                f"create table raw.file_load_history ({unnumbered}, superseded_at timestamp not "
                "null, superseded_how varchar not null, superseded_by_sha256 varchar)"
            )
            con.execute(
                "insert into raw.file_load_history values ('customs', '2021-01', 'c', 'x', "
                "0, 0, 0, '2021-02-01 10:00:00', now(), 'forgotten', null)"
            )
    load_partition("incidents", "2022-01", settings)
    numbered = rows(
        settings.warehouse_path,
        "select _file, load_seq from raw.file_loads where register = 'customs' "
        "union all select _file, load_seq from raw.file_load_history order by 2",
    )
    expected = ["a", "b", "c", "d"] if had_history else ["a", "b", "d"]
    assert numbered == [(name, number) for number, name in enumerate(expected, 1)]
    assert rows(settings.warehouse_path, "select min(load_seq) from raw.file_loads where "
                "register = 'incidents'") == [(len(expected) + 1,)]  # fmt: skip


def test_a_version_loaded_from_another_file_is_a_duplicate(crimestat_home: Path) -> None:
    """File by file gives what the month at once gives."""
    landing = crimestat_home / "landing"
    land_three_months(landing)
    settings = load_settings()
    load_partition("incidents", "2022-02", settings)
    # A later delivery repeats a version of the 5th and brings a new one.
    repeated = INCIDENT | {"event_id": "E-2022-02-05-3", "written_at": "2022-02-05T10:00:00",
                           "registered_at": "2022-02-05T09:00:00",
                           "occurred_from": "2022-02-05T01:00:00"}  # fmt: skip
    write_incidents(landing, "2022-02-25", [repeated, INCIDENT | {"event_id": "E-new"}])
    load_partition("incidents", "2022-02", settings)
    one_by_one = raw_snapshot(settings.warehouse_path)
    quarantined = one_by_one["quarantine"]
    assert quarantined.select("_file", "_line", "field", "rule", "reason").rows() == [
        ("incidents/2022-02/incidents_2022-02-25.csv.gz", 2, "(event_id, version)", "duplicate",
         "duplicate of (event_id, version) first seen in "
         "incidents/2022-02/incidents_2022-02-05.csv.gz line 5"),
    ]  # fmt: skip
    assert quarantined["record"][0].startswith("E-2022-02-05-3;1;")
    assert one_by_one["incident_versions"].height == 11

    settings.warehouse_path.unlink()
    load_partition("incidents", "2022-02", settings)
    at_once = raw_snapshot(settings.warehouse_path)
    for name in ("incident_versions", "quarantine"):
        assert at_once[name].equals(one_by_one[name]), name
    with duckdb.connect(str(settings.warehouse_path)) as con:
        assert unreconciled_files(con, "incidents", ["2022-02"]).is_empty()


def test_the_recorded_hash_is_that_of_the_bytes_parsed(
    crimestat_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file rewritten in place while it is loaded is recorded under the hash of what was
    read, so the next load sees the new content as new and replaces it."""
    landing = crimestat_home / "landing"
    land_three_months(landing)
    path = landing / "incidents/2022-01/incidents_2022-01-05.csv.gz"
    parsed_sha = hashlib.sha256(path.read_bytes()).hexdigest()
    read_file = incidents_module.read_file

    def read_then_rewritten(file: Path, label: str, settings):
        records = read_file(file, label, settings)
        if file == path:  # the register rewrites it in place right after it was parsed
            write_incidents(landing, "2022-01-05", [INCIDENT | {"event_id": "E-rewritten"}])
        return records

    monkeypatch.setattr(incidents_module, "read_file", read_then_rewritten)
    settings = load_settings()
    load_partition("incidents", "2022-01", settings)
    monkeypatch.setattr(incidents_module, "read_file", read_file)
    label = "incidents/2022-01/incidents_2022-01-05.csv.gz"
    assert rows(settings.warehouse_path, f"select sha256 from raw.file_loads where _file = "
                f"'{label}'") == [(parsed_sha,)]  # fmt: skip
    load_partition("incidents", "2022-01", settings)
    assert rows(settings.warehouse_path, f"select event_id from raw.incident_versions where "
                f"_file = '{label}'") == [("E-rewritten",)]  # fmt: skip


def test_forget_removes_the_named_files_only_and_logs_it(crimestat_home: Path) -> None:
    landing = crimestat_home / "landing"
    land_three_months(landing)
    settings = load_settings()
    load_all(settings)
    write_incidents(landing, "2022-02-06", [INCIDENT | {"event_id": "E-bad", "victims": "-1"}])
    load_partition("incidents", "2022-02", settings)
    before = raw_snapshot(settings.warehouse_path)
    names = ["incidents/2022-02/incidents_2022-02-05.csv.gz",
             "incidents/2022-02/incidents_2022-02-06.csv.gz"]  # fmt: skip
    command = [sys.executable, "-m", "crimestat.cli", "forget", "--register", "incidents"]
    result = subprocess.run(
        [*command, "--file", names[0], "--file", names[1]],
        cwd=PROJECT, env=os.environ.copy(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"forgot incidents {names[0]}: incident_versions 5" in result.stdout
    assert f"forgot incidents {names[1]}: quarantine 1" in result.stdout
    after = raw_snapshot(settings.warehouse_path)
    assert after["incident_versions"].height == before["incident_versions"].height - 5
    assert after["quarantine"].height == 0
    assert sorted(after["file_load_history"]["_file"]) == names
    assert set(after["file_load_history"]["superseded_how"]) == {"forgotten"}
    assert after["conviction_versions"].equals(before["conviction_versions"])
    [logged] = [json.loads(line) for line in (crimestat_home / "logs/forget.log").open()]
    assert logged["removed"][names[0]]["incident_versions"] == 5
    # An unknown name removes nothing and says so.
    failed = subprocess.run(
        [*command, "--file", names[0], "--file", "incidents/2022-02/nope.csv.gz"],
        cwd=PROJECT, env=os.environ.copy(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert failed.returncode == 1
    assert "no loaded file" in failed.stderr and "nothing was removed" in failed.stderr
    assert count(settings.warehouse_path, "select count(*) from raw.incident_versions") == (
        after["incident_versions"].height
    )


def test_gz_files_compare_by_their_bytes(crimestat_home: Path) -> None:
    """The same rows compressed differently are another content: the file's rows are
    replaced by the same rows (no duplicate, nothing lost)."""
    landing = crimestat_home / "landing"
    land_three_months(landing)
    settings = load_settings()
    load_partition("incidents", "2022-03", settings)
    before = raw_snapshot(settings.warehouse_path)
    path = landing / "incidents/2022-03/incidents_2022-03-05.csv.gz"
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes()), compresslevel=1, mtime=1))
    load_partition("incidents", "2022-03", settings)
    after = raw_snapshot(settings.warehouse_path)
    assert after["incident_versions"].equals(before["incident_versions"])
    assert after["quarantine"].is_empty()
    assert after["file_load_history"].height == 1
