"""Validation results are kept per run (quality.check_results) and browsable as GX Data Docs.

A small raw warehouse (no dbt needed): the raw suites run on it twice, once clean and once
with a planted unknown status, as two runs.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from dbt_fixtures import RawWriter, create_raw_warehouse, warehouse_path

from core.settings import load_settings
from quality import SuiteResult, build_data_docs, run_suite, store_results

NOW = datetime(2023, 3, 1, 12, 0)
RAW_SUITES = ("raw_incidents", "raw_customs")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    create_raw_warehouse(home)
    writer = RawWriter(home)
    started = [f"2023-0{1 + i % 2}-0{1 + i} 10:00:00" for i in range(6)]
    writer.incidents(
        [
            {"event_id": f"E{i}", "version": 1, "written_at": at, "municipality": "Kauno m. sav.",
             "offence_code": "BK178-1", "status": "pretrial_started", "pretrial_started_at": at}
            for i, at in enumerate(started)
        ]
    )  # fmt: skip
    writer.customs(
        [
            {"violation_id": "V1", "version": 1, "written_at": "2023-01-15 10:00:00",
             "detected_at": "2023-01-15 09:00:00", "border_section": "LT-BY",
             "violation_type": "cigarettes", "procedure": "administrative",
             "_partition": "2023-01", "seizures": [(1, "cigarettes", 1000, "sticks", 250)]}
        ]
    )  # fmt: skip
    return home


@pytest.fixture
def con(home: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with contextlib.closing(duckdb.connect(str(warehouse_path(home)))) as connection:
        yield connection


def run_raw_suites(con: duckdb.DuckDBPyConnection) -> list[SuiteResult]:
    settings = load_settings()
    return [run_suite(con, suite, now=NOW, settings=settings) for suite in RAW_SUITES]


def test_results_are_kept_per_run(con: duckdb.DuckDBPyConnection) -> None:
    first = run_raw_suites(con)
    store_results(con, "run-1", first, datetime(2023, 3, 1, 12, 0))
    con.execute("update raw.incident_versions set status = 'lost' where event_id = 'E3'")
    second = run_raw_suites(con)
    store_results(con, "run-2", second, datetime(2023, 3, 2, 12, 0))
    # storing a run again (a retried step) replaces it
    store_results(con, "run-2", second, datetime(2023, 3, 2, 12, 0))

    counts = dict(
        con.execute("select run_id, count(*) from quality.check_results group by 1").fetchall()
    )
    assert counts == {
        "run-1": sum(len(r.outcomes) for r in first),
        "run-2": sum(len(r.outcomes) for r in second),
    }
    failed = con.execute(
        "select run_id, suite, asset_key, batch, expectation, target, severity, "
        "unexpected_count, failing_values, observed "
        "from quality.check_results where not success"
    ).fetchall()
    assert len(failed) == 1
    run_id, suite, asset_key, batch, expectation, target, severity, count, sample, observed = (
        failed[0]
    )
    assert (run_id, suite, asset_key, severity, count) == (
        "run-2", "raw_incidents", "raw/incidents", "critical", 1,
    )  # fmt: skip
    assert (expectation, target) == (
        "expect_column_values_to_be_in_set", "raw.incident_versions.status",
    )  # fmt: skip
    assert batch == "raw.incident_versions 2023-01..2023-02"
    assert json.loads(sample) == [
        {"event_id": "E3", "version": 1, "_partition": "2023-02", "status": "lost"}
    ]
    assert json.loads(observed)["sample_value_counts"] == [{"value": "lost", "count": 1}]
    summary = json.loads(json.dumps(second[0].to_dict()))
    assert summary["suite"] == "raw_incidents" and summary["success_critical"] is False
    assert [f["target"] for f in summary["failed"]] == ["raw.incident_versions.status"]


def test_data_docs_list_every_run(con: duckdb.DuckDBPyConnection, home: Path) -> None:
    index = build_data_docs(home, run_raw_suites(con), run_id="run-1")
    con.execute("update raw.incident_versions set status = 'lost' where event_id = 'E3'")
    index = build_data_docs(home, run_raw_suites(con), run_id="run-2")

    assert index == home / "quality" / "data_docs" / "index.html"
    page = index.read_text(encoding="utf-8")
    for name in (*RAW_SUITES, "run-1", "run-2", "raw.incident_versions 2023-01..2023-02"):
        assert name in page, name
    assert "FAILED" in page and "passed" in page
    validations = list((home / "quality" / "data_docs" / "validations").rglob("*.html"))
    assert {p.parts[-4] for p in validations} == set(RAW_SUITES)
    assert {p.parts[-3] for p in validations} == {"run-1", "run-2"}
    failed_page = next(
        p.read_text(encoding="utf-8")
        for p in validations
        if p.parts[-3] == "run-2" and p.name == "raw.incident_versions 2023-01..2023-02.html"
    )
    assert "lost" in failed_page
    # the GX project keeps the results and suites for the next builds
    assert (home / "quality" / "gx" / "great_expectations.yml").exists()
    assert (home / "quality" / "gx" / "expectations" / "raw_incidents.json").exists()
    # browsable offline: every link stays in the site, no script or style from the internet
    assert "http://" not in page and "https://" not in page and "<script" not in page
    for suite in RAW_SUITES:
        assert (index.parent / "expectations" / f"{suite}.html").exists()
        assert f'href="expectations/{suite}.html"' in page


def index_rows(index: Path) -> list[tuple[str, str]]:
    """(status, run) of each validation result the index lists."""
    rows = index.read_text(encoding="utf-8").split("<tbody>")[1].split("<tr>")[1:]
    return [(row.split("<td>")[1][:-5], row.split("<td>")[3][:-5]) for row in rows]


def test_a_build_reads_no_earlier_result(con: duckdb.DuckDBPyConnection, home: Path) -> None:
    """The index comes from the ledger of outcomes, not from every stored result again: an
    earlier result made unreadable in the GX store does not stop or change the next build."""
    first = index_rows(build_data_docs(home, run_raw_suites(con), run_id="run-1"))
    for stored in (home / "quality" / "gx" / "uncommitted" / "validations").rglob("*.json"):
        stored.write_text("{not json")
    index = build_data_docs(home, run_raw_suites(con), run_id="run-2")
    assert sorted(index_rows(index)) == sorted(first + [("passed", "run-2")] * len(first))


def test_the_ledger_is_made_again_from_the_store(
    con: duckdb.DuckDBPyConnection, home: Path
) -> None:
    """A site made before the ledger existed, or a ledger line torn by a crash: the next build
    lists every stored run again, each once."""
    index = build_data_docs(home, run_raw_suites(con), run_id="run-1")
    batches = len(index_rows(index))
    ledger = index.parent / "validation_results.jsonl"
    ledger.unlink()
    build_data_docs(home, run_raw_suites(con), run_id="run-2")
    with ledger.open("a") as stream:
        stream.write('{"suite": "raw_inc')
    con.execute("update raw.incident_versions set status = 'lost' where event_id = 'E3'")
    build_data_docs(home, run_raw_suites(con), run_id="run-3")
    rows = index_rows(index)
    assert [rows.count(("passed", run)) for run in ("run-1", "run-2")] == [batches, batches]
    assert len(rows) == 3 * batches and ("FAILED", "run-3") in rows
