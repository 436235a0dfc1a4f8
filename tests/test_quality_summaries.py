"""Quarantine summary and register freshness, as frames and as tables of schema quality."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from dbt_fixtures import RawWriter, create_raw_warehouse, warehouse_path

from quality import quarantine_summary, register_freshness, store_summaries

NOW = datetime(2023, 3, 20, 12, 0)


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    home = tmp_path / "home"
    create_raw_warehouse(home)
    writer = RawWriter(home)
    # incidents written a day ago, convictions five days ago, customs eighty days ago
    writer.incidents(
        [{"event_id": "E1", "version": 1, "written_at": "2023-03-19 12:00:00",
          "municipality": "Kauno m. sav.", "offence_code": "BK178-1", "status": "registered"}]
    )  # fmt: skip
    writer.convictions(
        [{"conviction_id": "C1", "version": 1, "written_at": "2023-03-15 12:00:00",
          "person_key": "a" * 52, "age_at_judgment": 30, "final_at": "2023-03-15",
          "sanction": "fine", "offences": [("BK182", False, True)]}]
    )  # fmt: skip
    writer.customs(
        [{"violation_id": "V1", "version": 1, "written_at": "2022-12-30 12:00:00",
          "detected_at": "2022-12-30 09:00:00", "border_section": "LT-BY",
          "violation_type": "fuel", "procedure": "administrative", "_partition": "2022-12"}]
    )  # fmt: skip
    with contextlib.closing(duckdb.connect(str(warehouse_path(home)))) as connection:
        connection.execute(
            """
            insert into raw.quarantine values
              ('incidents', '2023-03', 'incidents/2023-03/incidents_2023-03-19.csv.gz', 5,
               'municipality', 'unknown_code', 'municipality ''X'' is not in the code list', ''),
              ('incidents', '2023-03', 'incidents/2023-03/incidents_2023-03-19.csv.gz', 9,
               'municipality', 'unknown_code', 'municipality ''Y'' is not in the code list', ''),
              ('incidents', '2023-03', 'incidents/2023-03/incidents_2023-03-18.csv.gz', 2,
               'municipality', 'unknown_code', 'municipality ''Z'' is not in the code list', ''),
              ('incidents', '2023-03', 'incidents/2023-03/incidents_2023-03-18.csv.gz', 3,
               null, 'truncated_row', 'line has 4 fields, the header 20', ''),
              ('customs', '2022-12', 'customs/2022-12/violations_2022-12.csv', 7,
               'detected_at', 'impossible_date', 'detected_at 1899-01-01 is before 1990', '')
            """
        )
        connection.execute(
            """
            insert into raw.file_loads values
              ('incidents', '2023-03', 'incidents/2023-03/incidents_2023-03-19.csv.gz', 'x',
               3, 1, 2, '2023-03-20 06:00:00'),
              ('incidents', '2023-02', 'incidents/2023-02/incidents_2023-02-28.csv.gz', 'y',
               1, 1, 0, '2023-03-01 06:00:00'),
              ('customs', '2022-12', 'customs/2022-12/violations_2022-12.csv', 'z',
               2, 1, 1, '2023-01-02 06:00:00')
            """
        )
        yield connection


def test_quarantine_summary(con: duckdb.DuckDBPyConnection) -> None:
    assert quarantine_summary(con).rows() == [
        ("customs", "impossible_date", "detected_at", 1, 1),
        ("incidents", "unknown_code", "municipality", 3, 2),
        ("incidents", "truncated_row", None, 1, 1),
    ]


def test_register_freshness(con: duckdb.DuckDBPyConnection) -> None:
    freshness = {row["register"]: row for row in register_freshness(con, NOW).iter_rows(named=True)}
    incidents = freshness["incidents"]
    assert incidents["last_written_at"] == datetime(2023, 3, 19, 12, 0)
    assert incidents["last_loaded_at"] == datetime(2023, 3, 20, 6, 0)
    assert incidents["last_partition"] == "2023-03"
    assert (incidents["age_days"], incidents["status"], incidents["severity"]) == (
        1.0, "fresh", None,
    )  # fmt: skip
    convictions = freshness["convictions"]
    assert (convictions["age_days"], convictions["status"], convictions["severity"]) == (
        5.0, "stale", "warning",
    )  # fmt: skip
    assert convictions["last_loaded_at"] is None  # no file_loads rows for it
    customs = freshness["customs"]
    assert (customs["age_days"], customs["status"], customs["severity"]) == (80.0, "stale", "error")
    assert (customs["warn_after_days"], customs["error_after_days"]) == (40, 70)


def test_store_summaries_replaces_the_tables(con: duckdb.DuckDBPyConnection) -> None:
    store_summaries(con, NOW)
    store_summaries(con, NOW)
    assert con.execute("select count(*) from quality.quarantine_summary").fetchall() == [(3,)]
    assert con.execute(
        "select register, status, computed_at from quality.register_freshness order by 1"
    ).fetchall() == [
        ("convictions", "stale", NOW),
        ("customs", "stale", NOW),
        ("incidents", "fresh", NOW),
    ]


def test_summaries_of_an_empty_warehouse(tmp_path: Path) -> None:
    with contextlib.closing(duckdb.connect(str(tmp_path / "empty.duckdb"))) as con:
        assert quarantine_summary(con).is_empty()
        freshness = register_freshness(con, NOW)
        assert set(freshness["status"]) == {"missing"}
        assert set(freshness["severity"]) == {"error"}
        store_summaries(con, NOW)
        assert con.execute("select count(*) from quality.register_freshness").fetchall() == [(3,)]
