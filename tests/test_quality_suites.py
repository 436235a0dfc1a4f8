"""The GX suites on a real warehouse: a clean one passes every suite; then, on a copy of it per
test, one planted violation of each kind a suite guards makes the right expectation fail,
with the failing value reported and the right severity.

The clean warehouse is built once for the module: hand-written register rows (two complete
years, every municipality, every ICCS section the correspondence reaches, every month) go
through the raw tables and a real `dbt build`. Violations are planted with UPDATE / INSERT
on a copy of its file, so each test costs a file copy and one suite run, not a dbt build.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dbt_fixtures import RawWriter, create_raw_warehouse, run_dbt, warehouse_path

from core import contracts as c
from core.reference import load_code_lists
from core.settings import REFERENCE_DIR, load_settings
from ingestion.pseudonymisation import person_key
from quality import CRITICAL, SUITES, WARNING, ExpectationOutcome, SuiteResult, run_suite

NOW = datetime(2024, 3, 1, 12, 0)
YEARS = (2022, 2023)
MUNICIPALITIES = load_code_lists(REFERENCE_DIR).municipalities
# One national code per ICCS section the correspondence reaches (01 ... 09).
SECTION_CODES = (
    "BK129", "BK138", "BK149", "BK180", "BK178-1", "BK259", "BK182", "BK284", "BK253",
)  # fmt: skip
SECRET = b"test-secret-key-0123456789"
VILNIUS = "Vilniaus m. sav."


def clean_incidents() -> list[dict[str, Any]]:
    """Per year, one offence in every municipality, the months and sections in turn; every
    third one solved ten days later; plus events that are not recorded offences."""
    rows: list[dict[str, Any]] = []
    for year in YEARS:
        for i, municipality in enumerate(MUNICIPALITIES):
            month, day = i % 12 + 1, 1 + i // 12
            started = f"{year}-{month:02d}-{day:02d} 10:00:00"
            offence = {
                "event_id": f"E{year}-{i:02d}", "version": 1, "written_at": started,
                "municipality": municipality, "offence_code": SECTION_CODES[i % 9],
                "attempt": i % 10 == 0, "status": "pretrial_started",
                "pretrial_started_at": started,
            }  # fmt: skip
            rows.append(offence)
            if i % 3 == 0:
                solved = f"{year}-{month:02d}-{day + 10:02d} 10:00:00"
                rows.append(
                    {**offence, "version": 2, "written_at": solved, "status": "solved",
                     "decision_at": solved}
                )  # fmt: skip
    return [
        *rows,
        # version 1 of the first event re-sent, identical, in the next month's extract
        {**rows[0], "_partition": "2022-02",
         "_file": "incidents/2022-02/incidents_2022-02-01.csv.gz"},
        {"event_id": "A1", "version": 1, "written_at": "2023-05-02 10:00:00",
         "municipality": VILNIUS, "event_kind": "administrative", "offence_code": "ANK123",
         "status": "registered"},
        {"event_id": "I1", "version": 1, "written_at": "2023-05-03 10:00:00",
         "municipality": VILNIUS, "event_kind": "incident", "offence_code": None,
         "status": "registered", "channel": "112", "call_112_id": "112-0001"},
        {"event_id": "X1", "version": 1, "written_at": "2023-06-01 10:00:00",
         "municipality": VILNIUS, "offence_code": "BK182", "status": "pretrial_started",
         "pretrial_started_at": "2023-06-01 10:00:00"},
        {"event_id": "X1", "version": 2, "written_at": "2023-06-20 10:00:00",
         "municipality": VILNIUS, "offence_code": "BK182", "status": "annulled",
         "pretrial_started_at": "2023-06-01 10:00:00", "decision_at": "2023-06-20 10:00:00"},
    ]  # fmt: skip


def clean_convictions() -> list[dict[str, Any]]:
    """A final conviction every month, one person convicted twice in a year, one conviction
    received through ECRIS, one still pending."""
    rows: list[dict[str, Any]] = []
    for k in range(24):
        final = f"{YEARS[0] + k // 12}-{k % 12 + 1:02d}-15"
        rows.append(
            {"conviction_id": f"C{k:02d}", "version": 1, "written_at": f"{final} 12:00:00",
             "person_key": person_key(f"3900101{k:04d}", SECRET), "age_at_judgment": 18 + k,
             "sex": "MF"[k % 2], "citizenship": ("LT", "LV", "UA", "XX", None)[k % 5],
             "final_at": final, "sanction": c.SANCTIONS[k % len(c.SANCTIONS)],
             "offences": [(SECTION_CODES[k % 9], False, True), ("BK187", False, False)]}
        )  # fmt: skip
    return [
        *rows,
        {"conviction_id": "C90", "version": 1, "written_at": "2022-03-20 12:00:00",
         "person_key": rows[0]["person_key"], "age_at_judgment": 18, "final_at": "2022-03-20",
         "sanction": "fine", "fine_eur": 300, "offences": [("BK182", False, True)]},
        {"conviction_id": "C91", "version": 1, "written_at": "2023-04-20 12:00:00",
         "person_key": person_key("39001019991", SECRET), "age_at_judgment": 40,
         "final_at": "2023-04-20", "sanction": "imprisonment", "sentence_months": 24,
         "ecris_member_state": "PL", "offences": [("BK260", False, True)]},
        {"conviction_id": "C92", "version": 1, "written_at": "2023-05-20 12:00:00",
         "person_key": person_key("39001019992", SECRET), "age_at_judgment": 35,
         "status": "pending", "final_at": None, "judgment_at": "2023-05-20",
         "sanction": "fine", "fine_eur": 100, "offences": [("BK182", False, True)]},
    ]  # fmt: skip


def clean_customs() -> list[dict[str, Any]]:
    """A violation every month, with its seizure lines."""
    rows = []
    for k in range(24):
        month = f"{YEARS[0] + k // 12}-{k % 12 + 1:02d}"
        category = c.GOODS_CATEGORIES[k % len(c.GOODS_CATEGORIES)]
        rows.append(
            {"violation_id": f"V{k:02d}", "version": 1, "written_at": f"{month}-10 10:00:00",
             "detected_at": f"{month}-10 09:00:00", "_partition": month,
             "border_section": c.BORDER_SECTIONS[k % len(c.BORDER_SECTIONS)],
             "violation_type": c.VIOLATION_TYPES[k % len(c.VIOLATION_TYPES)],
             "procedure": c.PROCEDURES[k % 2],
             "seizures": [(1, category, 10 + k, c.SEIZURE_UNITS[k % 5], 100 + k),
                          (2, "cigarettes", 2000, "sticks", 500)]}
        )  # fmt: skip
    return rows


@pytest.fixture(scope="module")
def clean_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("quality_clean")
    create_raw_warehouse(home)
    writer = RawWriter(home)
    writer.incidents(clean_incidents())
    writer.convictions(clean_convictions())
    writer.customs(clean_customs())
    run = run_dbt(home, "build")
    assert run.success, (run.failed_nodes(), run.exception)
    with contextlib.closing(duckdb.connect(str(warehouse_path(home)))) as con:
        con.execute("checkpoint")
    return home


@pytest.fixture
def con(clean_home: Path, tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to this test's own copy of the clean warehouse."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(warehouse_path(clean_home), path)
    with contextlib.closing(duckdb.connect(str(path))) as connection:
        yield connection


def check(con: duckdb.DuckDBPyConnection, suite: str, **options: Any) -> SuiteResult:
    return run_suite(con, suite, now=NOW, settings=load_settings(), **options)


def failure(result: SuiteResult, target: str, severity: str = CRITICAL) -> ExpectationOutcome:
    """The failed outcome on `target`, asserting it failed with that severity."""
    failed = [o for o in result.failed() if o.target == target]
    assert failed, f"{target} did not fail; failures: {[o.target for o in result.failed()]}"
    assert all(o.severity == severity for o in failed), failed
    return failed[0]


def values(outcome: ExpectationOutcome, column: str) -> list[Any]:
    return [row[column] for row in outcome.failing_values]


# --------------------------------------------------------------------------------------
# The clean warehouse
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("suite", list(SUITES))
def test_clean_warehouse_passes_every_suite(con: duckdb.DuckDBPyConnection, suite: str) -> None:
    result = check(con, suite)
    assert result.outcomes, "a suite always evaluates expectations"
    assert result.failed() == []
    assert result.success_critical and result.success_warning
    assert result.asset_key == SUITES[suite].asset_key
    assert {o.severity for o in result.outcomes} <= {CRITICAL, WARNING}


def test_suites_guard_the_dagster_assets() -> None:
    assert {s.asset_key for s in SUITES.values()} == {
        ("raw", "incidents"), ("raw", "convictions"), ("raw", "customs"),
        ("marts", "recorded_offences"), ("marts", "recorded_offences_annual"),
        ("marts", "solved_offences"), ("marts", "persons_convicted"),
        ("marts", "persons_convicted_by_citizenship"),
        ("marts", "customs_violations"), ("marts", "customs_seizures"),
        ("marts", "unmapped_offence_codes"),
    }  # fmt: skip


def test_partitions_only_for_raw_suites(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(ValueError, match="partitions do not apply"):
        check(con, "mart_recorded_offences", partitions=["2023-01"])
    with pytest.raises(ValueError, match="YYYY-MM"):
        check(con, "raw_incidents", partitions=["2023-1"])
    with pytest.raises(KeyError, match="raw_incidents"):
        check(con, "raw_nothing")


# --------------------------------------------------------------------------------------
# raw_incidents
# --------------------------------------------------------------------------------------


def test_raw_incidents_unknown_codes(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("update raw.incident_versions set status = 'lost' where event_id = 'E2023-05'")
    con.execute(
        "update raw.incident_versions set municipality = 'Atlantis' where event_id = 'E2023-07'"
    )
    con.execute("update raw.incident_versions set channel = 'pigeon' where event_id = 'I1'")
    result = check(con, "raw_incidents")
    assert not result.success_critical
    status = failure(result, "raw.incident_versions.status")
    assert values(status, "status") == ["lost"]
    assert status.failing_values[0]["event_id"] == "E2023-05"
    assert status.unexpected_count == 1
    assert values(failure(result, "raw.incident_versions.municipality"), "municipality") == [
        "Atlantis"
    ]
    assert values(failure(result, "raw.incident_versions.channel"), "channel") == ["pigeon"]


def test_raw_incidents_patterns_amounts_and_coordinates(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "update raw.incident_versions set agency_code = 'XYZ-1' where event_id = 'E2022-01'"
    )
    con.execute(
        "update raw.incident_versions set offence_code = 'B178' where event_id = 'E2022-02'"
    )
    con.execute("update raw.incident_versions set damage_eur = -5 where event_id = 'E2022-05'")
    con.execute("update raw.incident_versions set lat = 10.5, lon = 25 where event_id = 'E2022-06'")
    result = check(con, "raw_incidents")
    assert values(failure(result, "raw.incident_versions.agency_code"), "agency_code") == ["XYZ-1"]
    assert values(failure(result, "raw.incident_versions.offence_code"), "offence_code") == ["B178"]
    assert values(failure(result, "raw.incident_versions.damage_eur"), "damage_eur") == [-5.0]
    latitude = failure(result, "raw.incident_versions.lat")  # both versions of E2022-06
    assert {(r["event_id"], r["version"], r["lat"]) for r in latitude.failing_values} == {
        ("E2022-06", 1, 10.5),
        ("E2022-06", 2, 10.5),
    }
    assert {o.target for o in result.failed()} == {
        "raw.incident_versions.agency_code",
        "raw.incident_versions.offence_code",
        "raw.incident_versions.damage_eur",
        "raw.incident_versions.lat",
    }


def test_raw_incidents_missing_mandatory_fields(con: duckdb.DuckDBPyConnection) -> None:
    # the raw DDL forbids it; a table written around the ingestion might not
    con.execute("alter table raw.incident_versions alter column municipality drop not null")
    con.execute("update raw.incident_versions set municipality = null where event_id = 'E2022-03'")
    con.execute("update raw.incident_versions set offence_code = null where event_id = 'E2022-04'")
    result = check(con, "raw_incidents")
    missing = failure(result, "raw.incident_versions.municipality")
    assert missing.expectation == "expect_column_values_to_not_be_null"
    assert {row["event_id"] for row in missing.failing_values} == {"E2022-03"}
    # offence_code is mandatory for criminal and administrative events only (I1 has none)
    code = failure(result, "raw.incident_versions.offence_code")
    assert [row["event_id"] for row in code.failing_values] == ["E2022-04"]


def test_raw_incidents_dates_out_of_range_and_order(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "update raw.incident_versions set occurred_from = '1899-12-31' where event_id = 'E2023-01'"
    )
    con.execute(
        "update raw.incident_versions set decision_at = '2999-01-01' where event_id = 'E2023-03'"
    )
    con.execute(
        "update raw.incident_versions set occurred_to = occurred_from - interval 1 day "
        "where event_id = 'E2023-08'"
    )
    con.execute("update raw.incident_versions set version = 0 where event_id = 'E2023-11'")
    result = check(con, "raw_incidents")
    assert values(failure(result, "raw.incident_versions.occurred_from"), "occurred_from") == [
        "1899-12-31T00:00:00"
    ]
    future = failure(result, "raw.incident_versions.decision_at")
    assert {row["event_id"] for row in future.failing_values} == {"E2023-03"}
    order = failure(result, "raw.incident_versions.date_order")
    assert values(order, "date_order") == ["occurred_to before occurred_from"]
    assert values(failure(result, "raw.incident_versions.version"), "version") == [0]


def test_raw_incidents_duplicate_keys(con: duckdb.DuckDBPyConnection) -> None:
    # the same version twice in its partition, and another one again in a later partition
    # with a different content; identical re-deliveries (E2022-00) stay legitimate
    con.execute(
        "insert into raw.incident_versions select * replace (_line + 1000 as _line) "
        "from raw.incident_versions where event_id = 'E2023-10' and version = 1"
    )
    con.execute(
        "insert into raw.incident_versions select * replace ('2023-12' as _partition, "
        "'recorded' as status) from raw.incident_versions "
        "where event_id = 'E2023-20' and version = 1"
    )
    result = check(con, "raw_incidents")
    repeats = failure(result, "incident_versions_keys.repeats_within_partition")
    assert repeats.failing_values == [
        {"event_id": "E2023-10", "version": 1, "partitions": "2023-11",
         "repeats_within_partition": 1}
    ]  # fmt: skip
    contents = failure(result, "incident_versions_keys.contents")
    assert contents.failing_values[0]["event_id"] == "E2023-20"
    assert contents.failing_values[0]["partitions"] == "2023-09, 2023-12"


def test_raw_incidents_duplicate_across_partitions_seen_from_the_new_one(
    con: duckdb.DuckDBPyConnection,
) -> None:
    con.execute(
        "insert into raw.incident_versions select * replace ('2024-01' as _partition, "
        "'closed' as status) from raw.incident_versions "
        "where event_id = 'E2022-30' and version = 1"
    )
    only_new = check(con, "raw_incidents", partitions=["2024-01"])
    assert only_new.partitions == ("2024-01",)
    contents = failure(only_new, "incident_versions_keys.contents")
    assert contents.failing_values[0]["partitions"] == "2022-07, 2024-01"
    assert contents.batch == "incident_versions_keys 2024-01"
    # the rows of other partitions are not validated again
    assert {o.batch for o in only_new.outcomes if o.target.startswith("raw.")} == {
        "raw.incident_versions 2024-01"
    }


def test_raw_incidents_schema_drift(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("alter table raw.incident_versions drop column call_112_id")
    con.execute("alter table raw.incident_versions alter column victims type varchar")
    result = check(con, "raw_incidents")
    columns = failure(result, "incident_versions_columns.expected_type+actual_type")
    assert columns.failing_values == [
        {"column_name": "call_112_id", "expected_type": "VARCHAR", "actual_type": None},
        {"column_name": "victims", "expected_type": "INTEGER", "actual_type": "VARCHAR"},
    ]


def test_raw_rows_are_validated_in_batches_of_partitions(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("update raw.incident_versions set status = 'lost' where event_id = 'E2023-05'")
    result = check(con, "raw_incidents", max_batch_rows=50)
    batches = {o.batch for o in result.outcomes if o.target == "raw.incident_versions.status"}
    assert len(batches) > 2
    assert all(b.startswith("raw.incident_versions 20") for b in batches)
    status = failure(result, "raw.incident_versions.status")
    assert values(status, "status") == ["lost"]
    assert status.batch in batches


# --------------------------------------------------------------------------------------
# raw_convictions
# --------------------------------------------------------------------------------------


def test_raw_convictions_codes_keys_and_personal_codes(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("update raw.conviction_versions set sex = 'X' where conviction_id = 'C01'")
    con.execute("update raw.conviction_versions set citizenship = 'ZZ' where conviction_id = 'C02'")
    con.execute(
        "update raw.conviction_versions set ecris_member_state = 'LT' where conviction_id = 'C03'"
    )
    # a personal code that slipped past the pseudonymisation
    con.execute(
        "update raw.conviction_versions set person_key = '39001010004' where conviction_id = 'C04'"
    )
    result = check(con, "raw_convictions")
    assert not result.success_critical
    assert values(failure(result, "raw.conviction_versions.sex"), "sex") == ["X"]
    assert values(failure(result, "raw.conviction_versions.citizenship"), "citizenship") == ["ZZ"]
    ecris = failure(result, "raw.conviction_versions.ecris_member_state")
    assert values(ecris, "ecris_member_state") == ["LT"]
    leaked = failure(result, "raw.conviction_versions.person_key")
    assert values(leaked, "person_key") == ["39001010004"]


def test_raw_convictions_missing_fields_and_dates(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("alter table raw.conviction_versions alter column court_code drop not null")
    con.execute("update raw.conviction_versions set court_code = null where conviction_id = 'C05'")
    con.execute(
        "update raw.conviction_versions set judgment_at = '1899-01-01' where conviction_id = 'C06'"
    )
    con.execute(
        "update raw.conviction_versions set final_at = '2999-01-01' where conviction_id = 'C07'"
    )
    result = check(con, "raw_convictions")
    missing = failure(result, "raw.conviction_versions.court_code")
    assert values(missing, "conviction_id") == ["C05"]
    assert values(failure(result, "raw.conviction_versions.judgment_at"), "judgment_at") == [
        "1899-01-01T00:00:00"
    ]
    assert values(failure(result, "raw.conviction_versions.final_at"), "conviction_id") == ["C07"]


def test_raw_convictions_ranges_and_date_order(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "update raw.conviction_versions set final_at = judgment_at - 3 where conviction_id = 'C12'"
    )
    con.execute("update raw.conviction_versions set birth_year = 1850 where conviction_id = 'C13'")
    con.execute("update raw.conviction_versions set fine_eur = -100 where conviction_id = 'C14'")
    result = check(con, "raw_convictions")
    order = failure(result, "raw.conviction_versions.date_order")
    assert order.failing_values == [
        {"conviction_id": "C12", "version": 1, "_partition": "2023-01",
         "date_order": "final_at before judgment_at"}
    ]  # fmt: skip
    assert values(failure(result, "raw.conviction_versions.birth_year"), "birth_year") == [1850]
    assert values(failure(result, "raw.conviction_versions.fine_eur"), "fine_eur") == [-100.0]


def test_raw_convictions_duplicates_and_main_offences(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "insert into raw.conviction_versions select * replace ('2023-12' as _partition, "
        "'annulled' as status) from raw.conviction_versions where conviction_id = 'C08'"
    )
    con.execute("update raw.conviction_offences set is_main = false where conviction_id = 'C09'")
    con.execute(
        "update raw.conviction_offences set offence_code = 'XX12' "
        "where conviction_id = 'C10' and offence_seq = 2"
    )
    result = check(con, "raw_convictions")
    contents = failure(result, "conviction_versions_keys.contents")
    assert values(contents, "conviction_id") == ["C08"]
    # C09 lost its main offence; the re-delivered C08 came without any offence
    mains = failure(result, "main_offences.main_offences")
    assert {(row["conviction_id"], row["main_offences"]) for row in mains.failing_values} == {
        ("C09", 0),
        ("C08", 0),
    }
    code = failure(result, "raw.conviction_offences.offence_code")
    assert values(code, "offence_code") == ["XX12"]


def test_raw_convictions_offences_without_their_version(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "insert into raw.conviction_offences select * replace (_line + 1000 as _line) "
        "from raw.conviction_offences where conviction_id = 'C11'"
    )
    result = check(con, "raw_convictions")
    orphans = failure(result, "main_offences.version_delivered")
    assert values(orphans, "conviction_id") == ["C11"]


# --------------------------------------------------------------------------------------
# raw_customs
# --------------------------------------------------------------------------------------


def test_raw_customs_codes_fields_dates_and_amounts(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "update raw.customs_violation_versions set border_section = 'LT-XX' "
        "where violation_id = 'V01'"
    )
    con.execute("alter table raw.customs_violation_versions alter column procedure drop not null")
    con.execute(
        "update raw.customs_violation_versions set procedure = null where violation_id = 'V02'"
    )
    con.execute(
        "update raw.customs_violation_versions set detected_at = '1980-05-05 10:00:00' "
        "where violation_id = 'V03'"
    )
    con.execute("update raw.customs_seizures set unit = 'tons' where violation_id = 'V04'")
    con.execute(
        "update raw.customs_seizures set quantity = -5 where violation_id = 'V05' and line_no = 1"
    )
    con.execute(
        "update raw.customs_seizures set cn_code = '2402' "
        "where violation_id = 'V09' and line_no = 1"
    )
    con.execute(
        "update raw.customs_violation_versions set written_at = detected_at - interval 1 day "
        "where violation_id = 'V10'"
    )
    result = check(con, "raw_customs")
    assert values(failure(result, "raw.customs_seizures.cn_code"), "cn_code") == ["2402"]
    assert values(failure(result, "raw.customs_violation_versions.date_order"), "date_order") == [
        "written_at before detected_at"
    ]
    assert values(
        failure(result, "raw.customs_violation_versions.border_section"), "border_section"
    ) == ["LT-XX"]
    assert values(failure(result, "raw.customs_violation_versions.procedure"), "violation_id") == [
        "V02"
    ]
    assert values(failure(result, "raw.customs_violation_versions.detected_at"), "detected_at") == [
        "1980-05-05T10:00:00"
    ]
    assert set(values(failure(result, "raw.customs_seizures.unit"), "unit")) == {"tons"}
    assert values(failure(result, "raw.customs_seizures.quantity"), "quantity") == [-5.0]


def test_raw_customs_duplicate_keys(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "insert into raw.customs_violation_versions select * replace (_line + 1000 as _line) "
        "from raw.customs_violation_versions where violation_id = 'V06'"
    )
    con.execute(
        "insert into raw.customs_seizures select * replace (_line + 1000 as _line) "
        "from raw.customs_seizures where violation_id = 'V07' and line_no = 2"
    )
    result = check(con, "raw_customs")
    repeats = failure(result, "customs_violation_versions_keys.repeats_within_partition")
    assert values(repeats, "violation_id") == ["V06"]
    lines = failure(result, "customs_seizures_keys.deliveries")
    assert lines.failing_values == [
        {"violation_id": "V07", "line_no": 2, "_partition": "2022-08", "deliveries": 2}
    ]


def test_raw_customs_seizures_without_violation_warn(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("delete from raw.customs_violation_versions where violation_id = 'V08'")
    result = check(con, "raw_customs")
    assert result.success_critical and not result.success_warning
    orphans = failure(result, "seizures_without_violation", WARNING)
    assert orphans.failing_values == [{"violation_id": "V08", "_partition": "2022-09"}]


# --------------------------------------------------------------------------------------
# mart_recorded_offences
# --------------------------------------------------------------------------------------


def test_recorded_offences_counts_and_codes(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "update marts.recorded_offences set offences = -1 "
        "where municipality = 'Alytaus m. sav.' and year(ref_month) = 2023"
    )
    con.execute(
        "update marts.recorded_offences set iccs_code = 'XX99' "
        "where municipality = 'Alytaus r. sav.' and year(ref_month) = 2023"
    )
    con.execute(
        "update marts.recorded_offences set nuts3 = 'LT029' "
        "where municipality = 'Druskininkų sav.' and year(ref_month) = 2023"
    )
    con.execute(
        "insert into marts.recorded_offences select * from marts.recorded_offences "
        "where municipality = 'Lazdijų r. sav.' and year(ref_month) = 2023"
    )
    con.execute(
        "update marts.recorded_offences set ref_month = '2030-01-01' "
        "where municipality = 'Varėnos r. sav.' and year(ref_month) = 2023"
    )
    result = check(con, "mart_recorded_offences")
    future = failure(result, "marts.recorded_offences.ref_month")
    assert values(future, "ref_month") == ["2030-01-01T00:00:00"]
    negative = failure(result, "marts.recorded_offences.offences")
    assert values(negative, "offences") == [-1]
    assert values(negative, "municipality") == ["Alytaus m. sav."]
    assert values(failure(result, "marts.recorded_offences.iccs_code"), "iccs_code") == ["XX99"]
    pair = failure(result, "municipality_nuts3.municipality+nuts3")
    assert pair.failing_values[0]["nuts3"] == "LT029"
    grain = failure(result, "marts.recorded_offences.ref_month+municipality+iccs_code+attempt")
    assert values(grain, "municipality") == ["Lazdijų r. sav.", "Lazdijų r. sav."]


def test_recorded_offences_coverage_warns(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "delete from marts.recorded_offences "
        "where municipality = 'Neringos sav.' and year(ref_month) = 2023"
    )
    con.execute("delete from marts.recorded_offences where ref_month = '2022-06-01'")
    result = check(con, "mart_recorded_offences")
    assert result.success_critical and not result.success_warning
    gap = failure(result, "municipality_coverage.offences", WARNING)
    assert {"ref_year": 2023, "municipality": "Neringos sav.", "offences": 0} in (
        gap.failing_values
    )
    month = failure(result, "recorded_month_continuity.offences", WARNING)
    assert month.failing_values == [{"ref_month": "2022-06-01T00:00:00", "offences": 0}]


# --------------------------------------------------------------------------------------
# mart_recorded_offences_annual
# --------------------------------------------------------------------------------------

ANNUAL = "marts.recorded_offences_annual"


def test_annual_negative_counts_and_unknown_codes(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"update {ANNUAL} set offences_at_code = -2 "
        "where ref_year = 2022 and geo = 'LT021' and iccs_code = '0502'"
    )
    con.execute(
        f"update {ANNUAL} set iccs_code = 'XX99' "
        "where ref_year = 2022 and geo = 'LT022' and iccs_code = '0401'"
    )
    con.execute(f"update {ANNUAL} set geo = 'LT999' where ref_year = 2022 and geo = 'LT027'")
    result = check(con, "mart_recorded_offences_annual")
    negative = failure(result, f"{ANNUAL}.offences_at_code")
    assert negative.failing_values == [
        {"ref_year": 2022, "geo": "LT021", "iccs_code": "0502", "offences_at_code": -2}
    ]
    assert values(failure(result, f"{ANNUAL}.iccs_code"), "iccs_code") == ["XX99"]
    assert set(values(failure(result, f"{ANNUAL}.geo"), "geo")) == {"LT999"}


def test_annual_levels_and_grain(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"update {ANNUAL} set iccs_level = 3 "
        "where ref_year = 2022 and geo = 'LT' and iccs_code = '0502'"
    )
    con.execute(
        f"update {ANNUAL} set offences_at_code = offences + 1 "
        "where ref_year = 2022 and geo = 'LT' and iccs_code = '0401'"
    )
    con.execute(
        f"insert into {ANNUAL} select * from {ANNUAL} "
        "where ref_year = 2023 and geo = 'LT023' and iccs_code = 'TOTAL'"
    )
    result = check(con, "mart_recorded_offences_annual")
    level = failure(result, "iccs_levels.iccs_code+iccs_level")
    assert [(r["iccs_code"], r["iccs_level"]) for r in level.failing_values] == [("0502", 3)]
    at_code = failure(result, f"{ANNUAL}.offences+offences_at_code")
    assert [r["iccs_code"] for r in at_code.failing_values] == ["0401"]
    grain = failure(result, f"{ANNUAL}.ref_year+geo+iccs_code")
    assert grain.unexpected_count == 2
    assert {(r["geo"], r["iccs_code"]) for r in grain.failing_values} == {("LT023", "TOTAL")}


def test_annual_broken_rollups(con: duckdb.DuckDBPyConnection) -> None:
    # TOTAL off by one; a section off by three against its children; a county's leaf code
    # off by five against the country and the monthly mart
    con.execute(
        f"update {ANNUAL} set offences = offences + 1 "
        "where ref_year = 2023 and geo = 'LT' and iccs_code = 'TOTAL'"
    )
    con.execute(
        f"update {ANNUAL} set offences = offences + 3 "
        "where ref_year = 2022 and geo = 'LT011' and iccs_code = '05'"
    )
    con.execute(
        f"update {ANNUAL} set offences = offences + 5, offences_at_code = offences_at_code + 5 "
        "where ref_year = 2022 and geo = 'LT021' and iccs_code = '0502'"
    )
    result = check(con, "mart_recorded_offences_annual")
    assert not result.success_critical

    def cells(target: str, *columns: str) -> set[tuple[Any, ...]]:
        return {tuple(row[c] for c in columns) for row in failure(result, target).failing_values}

    assert (2023, "LT", 1) in cells("total_vs_sections.difference", "ref_year", "geo", "difference")
    parent = cells("parent_vs_children.difference", "ref_year", "geo", "iccs_code", "difference")
    assert (2022, "LT011", "05", 3) in parent
    assert (2022, "LT021", "050", -5) not in parent  # 0502 itself adds up: at code = offences
    country = cells("country_vs_nuts3.difference", "ref_year", "iccs_code", "difference")
    assert (2022, "0502", -5) in country
    monthly = cells("monthly_vs_annual.difference", "ref_year", "geo", "iccs_code", "difference")
    assert (2022, "LT021", "0502", -5) in monthly


def test_annual_missing_population_and_wrong_rate(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"update {ANNUAL} set population = null "
        "where ref_year = 2023 and geo = 'LT011' and iccs_code = 'TOTAL'"
    )
    con.execute(
        f"update {ANNUAL} set rate_per_100k = rate_per_100k * 2 "
        "where ref_year = 2022 and geo = 'LT' and iccs_code = 'TOTAL'"
    )
    result = check(con, "mart_recorded_offences_annual")
    missing = failure(result, f"{ANNUAL}.population")
    assert missing.expectation == "expect_column_values_to_not_be_null"
    assert missing.failing_values == [
        {"ref_year": 2023, "geo": "LT011", "iccs_code": "TOTAL", "population": None}
    ]
    rate = failure(result, f"{ANNUAL}.rate_error")
    assert [(r["ref_year"], r["geo"], r["iccs_code"]) for r in rate.failing_values] == [
        (2022, "LT", "TOTAL")
    ]


def test_annual_year_on_year_jump_is_a_warning(con: duckdb.DuckDBPyConnection) -> None:
    # 2023 tripled everywhere, consistently: every roll-up still adds up, only the jump shows
    con.execute(
        f"update {ANNUAL} set offences = offences * 3, offences_at_code = offences_at_code * 3 "
        "where ref_year = 2023"
    )
    con.execute(
        f"update {ANNUAL} set rate_per_100k = round(offences * 100000.0 / population, 2) "
        "where ref_year = 2023"
    )
    con.execute(
        "update marts.recorded_offences set offences = offences * 3 where year(ref_month) = 2023"
    )
    result = check(con, "mart_recorded_offences_annual")
    assert result.success_critical, result.failed(CRITICAL)
    assert not result.success_warning
    jump = failure(result, "recorded_year_on_year.change", WARNING)
    assert jump.failing_values[0] == {
        "ref_year": 2023, "geo": "LT", "iccs_code": "01", "previous_cases": 7, "cases": 21,
        "change": 2.0,
    }  # fmt: skip
    assert jump.observed["sample_value_counts"] == [{"value": 2.0, "count": 10}]


def test_annual_coverage_warns(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"delete from {ANNUAL} where ref_year = 2022 and iccs_code like '09%'")
    con.execute(f"delete from {ANNUAL} where ref_year = 2023 and geo = 'LT027'")
    result = check(con, "mart_recorded_offences_annual")
    section = failure(result, "iccs_section_coverage.offences", WARNING)
    assert section.failing_values == [{"ref_year": 2022, "iccs_code": "09", "offences": 0}]
    county = failure(result, "county_coverage.offences", WARNING)
    assert county.failing_values == [{"ref_year": 2023, "geo": "LT027", "offences": 0}]


# --------------------------------------------------------------------------------------
# mart_solved_offences
# --------------------------------------------------------------------------------------


def test_solved_offences(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "update marts.solved_offences set offences = -4 "
        "where nuts3 = 'LT011' and ref_month = '2023-07-01'"
    )
    con.execute(
        "update marts.solved_offences set nuts3 = 'LT999' "
        "where nuts3 = 'LT022' and ref_month = '2022-07-01'"
    )
    con.execute(
        "update marts.solved_offences set offences = offences + 50 "
        "where nuts3 = 'LT023' and year(ref_month) = 2022"
    )
    result = check(con, "mart_solved_offences")
    negative = failure(result, "marts.solved_offences.offences")
    assert [(r["nuts3"], r["offences"]) for r in negative.failing_values] == [("LT011", -4)]
    assert values(failure(result, "marts.solved_offences.nuts3"), "nuts3") == ["LT999"]
    # 50 more solved than recorded in Klaipėda county (and the LT999 ones, never recorded)
    excess = failure(result, "solved_vs_recorded.excess")
    assert {r["nuts3"] for r in excess.failing_values} == {"LT023", "LT999"}


# --------------------------------------------------------------------------------------
# mart_persons_convicted
# --------------------------------------------------------------------------------------

CONVICTED = "marts.persons_convicted"


def test_persons_convicted_counts_codes_and_breakdowns(con: duckdb.DuckDBPyConnection) -> None:
    first = "(select min(ref_year) from marts.persons_convicted)"
    con.execute(
        f"update {CONVICTED} set persons = -1 where sanction = 'fine' and ref_year = {first}"
    )
    con.execute(f"update {CONVICTED} set citizen_group = 'MARS' where sanction = 'arrest'")
    con.execute(
        f"update {CONVICTED} set age_group_broad = 'Y_LT18' "
        "where age_group = 'Y25-34' and sanction = 'other'"
    )
    con.execute(f"update {CONVICTED} set iccs_code = '9999' where sanction = 'suspended'")
    result = check(con, "mart_persons_convicted")
    negative = failure(result, f"{CONVICTED}.persons")
    assert set(values(negative, "persons")) == {-1}
    assert set(values(failure(result, f"{CONVICTED}.citizen_group"), "citizen_group")) == {"MARS"}
    ages = failure(result, "age_groups.age_group+age_group_broad")
    assert {(r["age_group"], r["age_group_broad"]) for r in ages.failing_values} == {
        ("Y25-34", "Y_LT18")
    }
    assert set(values(failure(result, f"{CONVICTED}.iccs_code"), "iccs_code")) == {"9999"}
    # a negative count also breaks "each person counted once"
    once = failure(result, "persons_counted_once.difference")
    assert once.failing_values[0]["via_ecris"] is False


def test_persons_convicted_year_on_year_jump_warns(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"update {CONVICTED} set persons = 25 where ref_year = 2023 and sex = 'F'")
    result = check(con, "mart_persons_convicted")
    jump = failure(result, "convicted_year_on_year.change", WARNING)
    assert jump.failing_values[0]["ref_year"] == 2023
    assert jump.failing_values[0]["cases"] >= 25


def test_persons_counted_twice(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"insert into {CONVICTED} select * replace ('community_work' as sanction) "
        f"from {CONVICTED} where via_ecris"
    )
    result = check(con, "mart_persons_convicted")
    once = failure(result, "persons_counted_once.difference")
    assert once.failing_values == [
        {"ref_year": 2023, "via_ecris": True, "persons": 2, "distinct_persons": 1,
         "difference": 1}
    ]  # fmt: skip


# --------------------------------------------------------------------------------------
# mart_persons_convicted_by_citizenship
# --------------------------------------------------------------------------------------

BY_CITIZENSHIP = "marts.persons_convicted_by_citizenship"


def test_persons_convicted_by_citizenship(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"update {BY_CITIZENSHIP} set persons = -1 where ref_month = '2022-01-01'")
    con.execute(
        f"update {BY_CITIZENSHIP} set citizenship = 'ATLANTIS' where ref_month = '2022-02-01'"
    )
    con.execute(f"delete from {BY_CITIZENSHIP} where ref_month = '2022-05-01'")
    result = check(con, "mart_persons_convicted_by_citizenship")
    assert set(values(failure(result, f"{BY_CITIZENSHIP}.persons"), "persons")) == {-1}
    citizenship = failure(result, f"{BY_CITIZENSHIP}.citizenship")
    assert set(values(citizenship, "citizenship")) == {"ATLANTIS"}
    # A negative count and a month gone missing between the first and the last built both
    # break "each person counted once a month".
    once = failure(result, "persons_counted_once_a_month.difference")
    assert [
        (str(r["ref_month"])[:7], r["persons"], r["distinct_persons"]) for r in once.failing_values
    ] == [("2022-01", -1, 1), ("2022-05", 0, 1)]


# --------------------------------------------------------------------------------------
# mart_customs_violations, mart_customs_seizures
# --------------------------------------------------------------------------------------


def test_customs_violations(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "update marts.customs_violations set violations = -2 where ref_month = '2022-02-01'"
    )
    con.execute(
        "update marts.customs_violations set violation_type = 'gold' where ref_month = '2022-03-01'"
    )
    con.execute("delete from marts.customs_violations where ref_month = '2023-04-01'")
    result = check(con, "mart_customs_violations")
    assert values(failure(result, "marts.customs_violations.violations"), "violations") == [-2]
    assert values(failure(result, "marts.customs_violations.violation_type"), "violation_type") == [
        "gold"
    ]
    gap = failure(result, "customs_month_continuity.violations", WARNING)
    assert "2023-04-01T00:00:00" in values(gap, "ref_month")


def test_customs_violations_year_on_year_jump_warns(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "update marts.customs_violations set violations = 30 "
        "where violation_type = 'fuel' and year(ref_month) = 2023"
    )
    result = check(con, "mart_customs_violations")
    assert result.success_critical and not result.success_warning
    jump = failure(result, "customs_year_on_year.change", WARNING)
    assert jump.failing_values == [
        {"ref_year": 2023, "violation_type": "fuel", "previous_cases": 2, "cases": 30,
         "change": 14.0}
    ]  # fmt: skip


def test_customs_seizures(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "update marts.customs_seizures set quantity = -10 "
        "where ref_month = '2022-01-01' and unit = 'sticks'"
    )
    con.execute(
        "update marts.customs_seizures set unit = 'tons' "
        "where ref_month = '2022-05-01' and goods_category <> 'cigarettes'"
    )
    con.execute(
        "update marts.customs_seizures set violations = 3 "
        "where ref_month = '2022-06-01' and goods_category = 'cigarettes'"
    )
    result = check(con, "mart_customs_seizures")
    assert values(failure(result, "marts.customs_seizures.quantity"), "quantity") == [-10.0]
    assert values(failure(result, "marts.customs_seizures.unit"), "unit") == ["tons"]
    lines = failure(result, "marts.customs_seizures.seizure_lines+violations")
    assert lines.failing_values[0]["violations"] == 3
    excess = failure(result, "seizures_vs_violations.excess")
    assert excess.failing_values == [
        {"ref_month": "2022-06-01T00:00:00", "violations_with_seizures": 3, "violations": 1,
         "excess": 2}
    ]  # fmt: skip


# --------------------------------------------------------------------------------------
# mart_unmapped_offence_codes
# --------------------------------------------------------------------------------------


def test_unmapped_offence_code_blocks(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "insert into marts.unmapped_offence_codes values "
        "('BK999', 'incidents', 2, 3, '2023-03-01 10:00:00', '2023-04-01 10:00:00')"
    )
    result = check(con, "mart_unmapped_offence_codes")
    assert not result.success_critical
    unmapped = failure(result, "marts.unmapped_offence_codes")
    assert unmapped.expectation == "expect_table_row_count_to_equal"
    assert unmapped.failing_values == [
        {"offence_code": "BK999", "register": "incidents", "records": 2, "versions": 3}
    ]
    assert unmapped.unexpected_count == 1


def test_a_missing_mart_fails_its_suite(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("drop table marts.customs_seizures")
    result = check(con, "mart_customs_seizures")
    assert not result.success_critical
    assert {o.expectation for o in result.failed()} == {"check_query_runs"}
    assert "customs_seizures" in result.failed()[0].observed["error"]
