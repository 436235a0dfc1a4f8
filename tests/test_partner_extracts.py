"""Partner extract packages (SPEC 9): configurations checked on load, packages whose members
match their manifest and the marts, disclosure control and labels, numbered revisions beside
earlier packages, the delivery log, the CLI, and the Dagster asset behind the publication
gate. One warehouse (hand-written register rows + a real dbt build) per module."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import shutil
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import polars as pl
import pytest
from click.testing import CliRunner
from dashboards_fixtures import write_registers
from dbt_fixtures import RawWriter, run_dbt
from landing_files import (
    CONVICTION,
    INCIDENT,
    land_three_months,
    personal_code,
    write_convictions,
    write_incidents,
)

from core.settings import StructureSettings, load_settings
from crimestat.cli import main
from publication.datasets import crim_just_observations
from publication.partners.config import CONFIG_DIR, PartnerConfigError, load_partner, load_partners
from publication.partners.delivery import DeliveryError
from publication.partners.packages import PackageError, deliver_package
from publication.partners.structures import partner_structures
from publication.releases import produce_release, revisions
from publication.stored_cells import observations_from_cells, stored_cells
from sdmx_export.layout import DsdLayout
from sdmx_export.readers import read_back
from sdmx_export.structures import build_structures, dataflow
from sdmx_export.validation import validate_sdmx_file

MONTH = "2023-06"
STRUCTURES = StructureSettings()
# (conviction, person, sex, age, citizenship, national code, ECRIS member state), final MONTH
CONVICTIONS = [
    ("L1", "PL1", "M", 30, "LV", "BK182", None),  # fraud -> ICCS 07
    ("L2", "PL2", "M", 31, "LV", "BK182", None),
    ("L3", "PL3", "M", 33, "LV", "BK182", None),
    ("L4", "PL4", "M", 40, "LV", "BK178-1", None),  # theft -> ICCS 05
    ("L5", "PL5", "F", 22, "LV", "BK178-1", None),
    ("L6", "PL6", "M", 50, "LV", "BK182", "LV"),  # received through ECRIS: not in the table
    ("E1", "PE1", "F", 45, "EE", "BK182", None),
]
AGE_AGGREGATES = {"Y_LT18": ("Y14-17",), "Y_GE18": ("Y18-24", "Y25-34", "Y35-44", "Y45-54",
                                                     "Y55-64", "Y_GE65")}  # fmt: skip


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("partners")
    write_registers(home)
    RawWriter(home).convictions([
        {"conviction_id": cid, "version": 1, "written_at": f"{MONTH}-10 10:00:00",
         "person_key": person, "sex": sex, "age_at_judgment": age, "citizenship": citizenship,
         "final_at": f"{MONTH}-09", "sanction": "fine", "fine_eur": 300,
         "ecris_member_state": ecris, "offences": [(code, False, True)]}
        for cid, person, sex, age, citizenship, code, ecris in CONVICTIONS
    ])  # fmt: skip
    run = run_dbt(home, "build")
    assert run.success, run.failed_nodes()
    return home


@contextlib.contextmanager
def connect(home: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with contextlib.closing(duckdb.connect(str(home / "warehouse.duckdb"))) as con:
        yield con


def package(home: Path, partner: str, month: str, **options: Any):
    with connect(home) as con:
        return deliver_package(con, partner, month, home / "outbox", settings=STRUCTURES, **options)


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def query(home: Path, sql: str, *params: Any) -> list[tuple]:
    with connect(home) as con:
        return con.execute(sql, list(params)).fetchall()


# --------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------


def test_partner_configurations_load() -> None:
    partners = load_partners(STRUCTURES)
    assert set(partners) == {"LV", "EE"}
    lv, ee = partners["LV"], partners["EE"]
    assert lv.names == {"lv": "Iekšlietu ministrija",
                        "en": "Ministry of the Interior of the Republic of Latvia"}  # fmt: skip
    assert ee.names["et"] == "Justiitsministeerium"
    assert [t.dataflow_id for t in lv.tables] == [
        "LV_RECORDED_OFFENCES", "LV_CUSTOMS_VIOLATIONS_LT_LV", "LV_PERSONS_CONVICTED_LV_CITIZENS"
    ]  # fmt: skip
    assert lv.sources == ("recorded_offences", "customs_violations",
                          "persons_convicted_by_citizenship")  # fmt: skip
    assert dict(lv.tables[2].filters) == {"citizenship": ("LV",), "via_ecris": (False,)}
    assert all(t.disclosure_control for p in partners.values() for t in p.tables
               if t.source == "persons_convicted_by_citizenship")  # fmt: skip
    assert "customs_violations" not in ee.sources  # no common border with Lithuania


def lv_config() -> str:
    return (CONFIG_DIR / "LV.yml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("source: customs_violations", "source: customs_border",
         "tables[1].source: 'customs_border' is not a mart"),
        ("      - column: nuts3", "      - column: county",
         "tables[0].breakdowns[1].column: marts.recorded_offences has no column 'county'"),
        ("      - column: procedure", "      - column: customs_post",
         "marts.customs_violations has no column 'customs_post'"),
        ("formats: [csv, sdmx-csv]\n    disclosure_control: false\n\n  - id: customs",
         "formats: [csv, xlsx]\n    disclosure_control: false\n\n  - id: customs",
         "tables[0].formats[1]: 'xlsx' is not a format (known: csv, sdmx-csv, sdmx-ml)"),
        ("    measure: violations\n", "", "tables[1].measure: missing"),
        ("label_language: en", "label_language: lv",
         "label_language: 'lv' is not a language with labels (available: lt, en)"),
        ("adapter: outbox", "adapter: sftp", "delivery.adapter: 'sftp' is not an available"),
        ("citizenship: LV", "citizenship: ZZ", "tables[2].filters.citizenship: 'ZZ' not among"),
        ("        levels: [1]\n        total: true", "        levels: [1, 2]\n        total: true",
         "tables[2].breakdowns[0]: disclosure control needs an additive breakdown"),
        ("        levels: [1, 2]", "        levels: [2]",
         "tables[0].breakdowns[0]: levels must run from the section down"),
        ("    disclosure_control: true", "    disclosure_control: maybe",
         "tables[2].disclosure_control: must be true or false"),
        ("    disclosure_control: true", "    disclosure_control: false",
         "tables[2].disclosure_control: must be true: the table counts persons"),
        ("partner: LV", "partner: LV\nrecipient: someone", "recipient: unknown key"),
        ("country: LV", "country: LT", "country: LT is the sending country itself"),
        ("tables:", "tables: [\n", "not valid YAML"),
    ],
)  # fmt: skip
def test_bad_configuration_is_refused_naming_file_and_key(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    text = lv_config()
    assert old in text
    (tmp_path / "LV.yml").write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(PartnerConfigError) as raised:
        load_partner("LV", STRUCTURES, tmp_path)
    message = str(raised.value)
    assert str(tmp_path / "LV.yml") in message
    assert expected in message, message


def test_every_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    text = lv_config().replace("label_language: en", "label_language: fr")
    text = text.replace("formats: [csv, sdmx-ml]", "formats: [pdf]")
    (tmp_path / "LV.yml").write_text(text, encoding="utf-8")
    with pytest.raises(PartnerConfigError) as raised:
        load_partner("LV", STRUCTURES, tmp_path)
    assert [p.split(":")[0] for p in raised.value.problems] == [
        "label_language", "tables[2].formats[0]"
    ]  # fmt: skip
    with pytest.raises(PartnerConfigError, match=r"no configuration for partner 'PL'"):
        load_partner("PL", STRUCTURES, tmp_path)


# --------------------------------------------------------------------------------------
# A package: contents, manifest, marts, gate, disclosure control, labels
# --------------------------------------------------------------------------------------


def test_package_members_match_manifest_and_marts(home: Path) -> None:
    outcome = package(home, "LV", MONTH)
    path = Path(outcome.destination)
    assert outcome.created and outcome.number == 1
    assert path == home / "outbox" / "LV" / f"LT-LV_{MONTH}_package-001.zip"
    assert outcome.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    content = members(path)
    assert list(content) == [
        "recorded_offences.csv", "recorded_offences.sdmx.csv",
        "customs_violations_lt_lv.csv", "customs_violations_lt_lv.sdmx.csv",
        "persons_convicted_lv_citizens.csv", "persons_convicted_lv_citizens.xml",
        "structure.xml", "manifest.json",
    ]  # fmt: skip
    manifest = json.loads(content["manifest.json"])
    assert manifest == outcome.manifest
    assert manifest["package"]["id"] == f"LT-LV_{MONTH}_package-001"
    assert manifest["package"]["supersedes"] is None
    files = {f["name"]: f for f in manifest["files"]}
    assert set(files) == set(content) - {"manifest.json"}
    for name, data in content.items():
        if name != "manifest.json":
            assert files[name]["sha256"] == hashlib.sha256(data).hexdigest(), name
            assert files[name]["size_bytes"] == len(data), name
    with zipfile.ZipFile(path) as archive:
        times = {info.date_time for info in archive.infolist()}
    created = datetime.fromisoformat(manifest["package"]["created_at"])
    # every member dated created_at (zip times have a resolution of two seconds)
    assert times == {created.replace(second=created.second // 2 * 2).timetuple()[:6]}

    # Releases and the delivery log.
    assert manifest["releases"] == [
        f"LV_RECORDED_OFFENCES-{MONTH}-v1", f"LV_CUSTOMS_VIOLATIONS_LT_LV-{MONTH}-v1",
        f"LV_PERSONS_CONVICTED_LV_CITIZENS-{MONTH}-v1",
    ]  # fmt: skip
    recorded = query(home, "select release_id, dataset, reference_period, vintage, status "
                     "from releases.releases where reference_period = ? and dataset like 'LV_%' "
                     "order by release_id", MONTH)  # fmt: skip
    assert [r[0] for r in recorded] == sorted(manifest["releases"])
    assert {r[2:] for r in recorded} == {(MONTH, 1, "provisional")}
    log = query(home, "select package_number, file_name, sha256, size_bytes, destination, "
                "adapter, release_ids from releases.partner_deliveries where partner = 'LV' "
                "and month = ?", MONTH)  # fmt: skip
    assert log == [(1, path.name, outcome.sha256, path.stat().st_size, str(path), "outbox",
                    manifest["releases"])]  # fmt: skip

    # Row counts: the tables against the marts.
    tables = {t["id"]: t for t in manifest["tables"]}
    for name, file in files.items():
        if name.endswith(".csv") and not name.endswith(".sdmx.csv"):
            assert len(csv_rows(content[name])) == file["rows"] == tables[file["table"]]["rows"]
    offences = {(r["iccs_code"], r["nuts3"]): int(r["offences"])
                for r in csv_rows(content["recorded_offences.csv"])}  # fmt: skip
    by_level = query(home, """
        select 'ICCS' || substr(iccs_code, 1, 2), nuts3, sum(offences)
        from marts.recorded_offences where ref_month = ? and iccs_code <> 'UNMAPPED' group by all
        union all
        select 'ICCS' || substr(iccs_code, 1, 4), nuts3, sum(offences)
        from marts.recorded_offences
        where ref_month = ? and iccs_code <> 'UNMAPPED' and length(iccs_code) >= 4 group by all
        """, f"{MONTH}-01", f"{MONTH}-01")  # fmt: skip
    assert offences == {(code, nuts3): total for code, nuts3, total in by_level}
    assert offences  # the month has offences
    assert tables["customs_violations_lt_lv"]["rows"] == 0  # none on that border in June

    # SDMX members pass the gate against the partner's structures and hold the CSV's numbers.
    structures = partner_structures(load_partner("LV", STRUCTURES), STRUCTURES)
    extracted = home / "extracted"
    extracted.mkdir()
    for name, data in content.items():
        (extracted / name).write_bytes(data)
    for name in ("recorded_offences.sdmx.csv", "customs_violations_lt_lv.sdmx.csv",
                 "persons_convicted_lv_citizens.xml", "structure.xml"):  # fmt: skip
        assert validate_sdmx_file(extracted / name, structures) == [], name
    back = read_back(extracted / "recorded_offences.sdmx.csv")
    assert {(r["ICCS"], r["GEO"]): r["OBS_VALUE"] for r in back.iter_rows(named=True)} == offences
    assert set(back["TIME_PERIOD"]) == {MONTH} and set(back["FREQ"]) == {"M"}
    shutil.rmtree(extracted)


def true_persons(home: Path, iccs: str, sex: str, age: str) -> int:
    """Persons convicted who are LV citizens in MONTH in one cell, from the mart."""
    conditions = ["citizenship = 'LV'", "not via_ecris", "ref_month = ?"]
    if iccs != "TOTAL":
        conditions.append(f"substr(iccs_code, 1, 2) = '{iccs.removeprefix('ICCS')}'")
    if sex != "T":
        conditions.append(f"sex = '{sex}'")
    if age != "TOTAL":
        groups = AGE_AGGREGATES.get(age, (age,))
        conditions.append(f"age_group in ({', '.join(repr(g) for g in groups)})")
    return query(home, "select coalesce(sum(persons), 0) from "
                 f"marts.persons_convicted_by_citizenship where {' and '.join(conditions)}",
                 f"{MONTH}-01")[0][0]  # fmt: skip


def test_disclosure_control_suppresses_small_cells(home: Path) -> None:
    outcome = package(home, "LV", MONTH)  # package 1 of the month, made above or now
    content = members(Path(outcome.destination))
    rows = csv_rows(content["persons_convicted_lv_citizens.csv"])
    cells = {(r["iccs_code"], r["sex"], r["age_group"]): r for r in rows}
    # 5 persons (L6, an ECRIS conviction, is left out): too few to keep the total when one
    # woman must stay within an interval of 3, so the total is suppressed with her.
    assert true_persons(home, "TOTAL", "T", "TOTAL") == 5
    assert cells[("TOTAL", "T", "TOTAL")]["conf_status"] == "C"
    statuses = {r["conf_status"] for r in rows}
    assert statuses <= {"F", "C"}  # one flag: primary and secondary cells look alike
    audit = next(
        t["disclosure_audit"]
        for t in json.loads(content["manifest.json"])["tables"]
        if t["id"] == "persons_convicted_lv_citizens"
    )
    audited = {c["series_key"]: c for c in audit["suppressed_cells"]}
    assert audit["threshold"] == 3
    for (iccs, sex, age), row in cells.items():
        truth = true_persons(home, iccs, sex, age)
        assert truth > 0, (iccs, sex, age)  # only cells with persons appear
        if row["conf_status"] == "F":
            assert int(row["persons"]) == truth >= 3, (iccs, sex, age)
            continue
        assert row["persons"] == "", (iccs, sex, age)
        cell = audited[f"M.{iccs}.{sex}.{age}"]
        assert cell["primary"] == (truth < 3), (iccs, sex, age, cell)
        span = 3 if cell["primary"] else 1
        assert cell["upper"] is None or cell["upper"] - cell["lower"] >= span, cell
    assert len(audited) == sum(r["conf_status"] == "C" for r in rows)
    # Every cell below the threshold is there, suppressed: e.g. the one woman.
    assert cells[("TOTAL", "F", "TOTAL")]["conf_status"] == "C"
    # The SDMX-ML file carries the same flags and no value for suppressed cells.
    (home / "persons.xml").write_bytes(content["persons_convicted_lv_citizens.xml"])
    back = read_back(home / "persons.xml")
    assert {(r["ICCS"], r["SEX"], r["AGE"]): (r["OBS_VALUE"], r["CONF_STATUS"])
            for r in back.iter_rows(named=True)} == {
        key: (float(r["persons"]) if r["persons"] else None, r["conf_status"])
        for key, r in cells.items()
    }  # fmt: skip
    labels = {(r["sex"], r["sex_label"]) for r in rows}
    assert labels == {("T", "Total"), ("M", "Males"), ("F", "Females")}


def test_csv_labels_in_the_configured_language(home: Path, tmp_path: Path) -> None:
    """A partner whose labels are Lithuanian: the project's LT labels, and English (listed in
    the manifest) where the reference data has no Lithuanian label (ICCS)."""
    text = lv_config().replace("partner: LV", "partner: PL").replace("country: LV", "country: PL")
    text = text.replace("label_language: en", "label_language: lt")
    text = text.replace("citizenship: LV", "citizenship: EE")
    (tmp_path / "PL.yml").write_text(text, encoding="utf-8")
    with connect(home) as con:
        outcome = deliver_package(
            con, "PL", MONTH, home / "outbox", settings=STRUCTURES, config_dir=tmp_path
        )
    content = members(Path(outcome.destination))
    assert Path(outcome.destination).name == f"LT-PL_{MONTH}_package-001.zip"
    persons = csv_rows(content["persons_convicted_lv_citizens.csv"])
    assert {(r["sex"], r["sex_label"]) for r in persons} == {("T", "Total"), ("F", "Moterys")}
    assert {(r["age_group"], r["age_group_label"]) for r in persons} == {
        ("TOTAL", "Iš viso"), ("Y_GE18", "18 ir vyresni"), ("Y45-54", "45–54")
    }  # fmt: skip
    offences = csv_rows(content["recorded_offences.csv"])
    assert {r["nuts3_label"] for r in offences} == {"Vilniaus apskritis"}
    assert {r["iccs_code_label"] for r in offences} == {"Acts against property only",
                                                        "Burglary"}  # fmt: skip
    files = {f["name"]: f for f in json.loads(content["manifest.json"])["files"]}
    assert files["recorded_offences.csv"]["label_language"] == "lt"
    assert files["recorded_offences.csv"]["labels_in_english_instead"] == {
        "iccs_code": ["ICCS05", "ICCS0501"]
    }
    assert files["persons_convicted_lv_citizens.csv"]["labels_in_english_instead"] == {
        "iccs_code": ["ICCS07"],
        "sex": ["T"],
    }


# --------------------------------------------------------------------------------------
# Revisions, no change, refusals
# --------------------------------------------------------------------------------------


def test_revision_is_package_two_beside_package_one(home: Path) -> None:
    month = "2024-02"  # E17, a theft in Vilnius
    first = package(home, "LV", month)
    assert first.created and first.number == 1
    first_path = Path(first.destination)
    first_bytes = first_path.read_bytes()

    again = package(home, "LV", month)
    assert not again.created and again.number == 1 and again.destination == str(first_path)
    assert sorted(p.name for p in first_path.parent.glob(f"*_{month}_*")) == [first_path.name]

    # The register reclassifies the theft as fraud; the marts are rebuilt.
    RawWriter(home).incidents([{
        "event_id": "E17", "version": 2, "written_at": "2024-03-15 10:00:00",
        "municipality": "Vilniaus m. sav.", "offence_code": "BK182",
        "pretrial_started_at": "2024-02-09 10:00:00", "status": "pretrial_started",
    }])  # fmt: skip
    run = run_dbt(home, "build", "--select", "+recorded_offences")
    assert run.success, run.failed_nodes()

    second = package(home, "LV", month)
    assert second.created and second.number == 2
    second_path = Path(second.destination)
    assert second_path.name == f"LT-LV_{month}_package-002.zip"
    assert sorted(p.name for p in first_path.parent.glob(f"*_{month}_*")) == [
        first_path.name, second_path.name
    ]  # fmt: skip
    assert first_path.read_bytes() == first_bytes  # package 1 untouched
    assert second.manifest is not None
    assert second.manifest["package"]["supersedes"] == f"LT-LV_{month}_package-001"
    assert {t["id"]: t["changed_since_previous_package"] for t in second.manifest["tables"]} == {
        "recorded_offences": True, "customs_violations_lt_lv": False,
        "persons_convicted_lv_citizens": False,
    }  # fmt: skip
    assert query(home, "select package_number, supersedes from releases.partner_deliveries "
                 "where partner = 'LV' and month = ? order by 1", month) == [
        (1, None), (2, f"LT-LV_{month}_package-001")
    ]  # fmt: skip
    with connect(home) as con:
        changes = revisions(con, "LV_RECORDED_OFFENCES", month, 2)
    assert changes.select("series_key", "previous_value", "new_value").rows() == [
        ("M.ICCS05.LT011", 1.0, None), ("M.ICCS0502.LT011", 1.0, None),
        ("M.ICCS07.LT011", None, 1.0), ("M.ICCS0701.LT011", None, 1.0),
    ]  # fmt: skip

    third = package(home, "LV", month)
    assert not third.created and third.number == 2
    assert len(list(first_path.parent.glob(f"*_{month}_*"))) == 2


def test_failed_delivery_leaves_no_record(home: Path) -> None:
    month = "2024-01"
    blocking = home / "outbox" / "LV" / f"LT-LV_{month}_package-001.zip"
    blocking.parent.mkdir(parents=True, exist_ok=True)
    blocking.write_bytes(b"not ours")
    with pytest.raises(DeliveryError, match="exists already: a delivered package is never"):
        package(home, "LV", month)
    assert blocking.read_bytes() == b"not ours"
    assert query(home, "select count(*) from releases.releases where reference_period = ?",
                 month) == [(0,)]  # fmt: skip
    assert query(home, "select count(*) from releases.partner_deliveries where month = ?",
                 month) == [(0,)]  # fmt: skip
    blocking.unlink()
    outcome = package(home, "LV", month)
    assert outcome.created and outcome.number == 1
    customs = csv_rows(members(Path(outcome.destination))["customs_violations_lt_lv.csv"])
    assert {(r["violation_type"], r["procedure"], r["violations"]) for r in customs} == {
        ("fuel", "administrative", "1"), ("fuel", "TOTAL", "1"),
        ("TOTAL", "administrative", "1"), ("TOTAL", "TOTAL", "1"),
    }  # fmt: skip


def test_bad_months_are_refused(home: Path) -> None:
    with pytest.raises(PackageError, match="month must look like YYYY-MM, not '2023-6'"):
        package(home, "LV", "2023-6")
    with pytest.raises(PackageError, match="no register extract of 2031-01 has been loaded"):
        package(home, "LV", "2031-01")
    with pytest.raises(PartnerConfigError, match="no configuration for partner 'FI'"):
        package(home, "FI", MONTH)


def test_extracts_command(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRIMESTAT_HOME", str(home))
    runner = CliRunner()
    result = runner.invoke(main, ["extracts", "--partner", "EE", "--month", MONTH])
    assert result.exit_code == 0, result.output
    path = home / "outbox" / "EE" / f"LT-EE_{MONTH}_package-001.zip"
    assert f"package 1 for EE {MONTH}: {path}" in result.output
    assert f"EE_PERSONS_CONVICTED_EE_CITIZENS-{MONTH}-v1: " in result.output
    assert f"manifest: manifest.json in {path}" in result.output
    result = runner.invoke(main, ["extracts", "--partner", "EE", "--month", MONTH])
    assert result.exit_code == 0, result.output
    assert f"EE {MONTH}: unchanged since package 1" in result.output
    result = runner.invoke(main, ["extracts", "--partner", "EE", "--month", "June"])
    assert result.exit_code == 1
    assert "--month must look like YYYY-MM" in result.output
    result = runner.invoke(main, ["extracts", "--partner", "FI", "--month", MONTH])
    assert result.exit_code == 2 and "'FI' is not one of 'EE', 'LV'" in result.output


# --------------------------------------------------------------------------------------
# The Dagster asset
# --------------------------------------------------------------------------------------


def latvian(conviction_id: str, day: str, serial: int) -> dict[str, Any]:
    return CONVICTION | {
        "conviction_id": conviction_id, "written_at": f"{day}T12:00:00",
        "person_code": personal_code("M", "1990-05-17", serial), "citizenship": "LV",
        "judgment_at": day, "final_at": day, "status": "final",
    }  # fmt: skip


def test_asset_delivers_packages_and_is_refused_by_the_gate(crimestat_home: Path) -> None:
    from orchestration.definitions import defs
    from orchestration.runs import dagster_instance, materialize_selection

    landing = crimestat_home / "landing"
    land_three_months(landing)
    write_incidents(landing, "2022-02-14", [INCIDENT | {
        "event_id": "E-theft", "written_at": "2022-02-14T10:00:00",
        "registered_at": "2022-02-14T09:00:00", "occurred_from": "2022-02-13T22:00:00",
        "status": "pretrial_started", "pretrial_started_at": "2022-02-14T09:30:00",
    }])  # fmt: skip
    write_convictions(landing, "2022-03-10", [latvian(f"C-LV-{i}", "2022-03-10", 200 + i)
                                              for i in range(4)])  # fmt: skip
    settings = load_settings()

    outcomes = materialize_selection(defs(), settings, '+key:"extracts/lv"', None)

    assert all(o.success for o in outcomes), [o.problems for o in outcomes]
    outbox = settings.outbox_dir / "LV"
    assert sorted(p.name for p in outbox.iterdir()) == [
        f"LT-LV_{month}_package-001.zip" for month in ("2022-01", "2022-02", "2022-03")
    ]
    instance = dagster_instance(settings)
    key = dg.AssetKey(["extracts", "lv"])
    assert instance.get_materialized_partitions(key) == {"2022-01", "2022-02", "2022-03"}
    event = instance.get_latest_materialization_event(key)
    assert event is not None
    metadata = event.asset_materialization.metadata
    assert metadata["packages"].value == {
        month: f"LT-LV_{month}_package-001" for month in ("2022-01", "2022-02", "2022-03")
    }
    march = members(outbox / "LT-LV_2022-03_package-001.zip")
    persons = csv_rows(march["persons_convicted_lv_citizens.csv"])
    assert {(r["iccs_code"], r["sex"], r["age_group"], r["persons"]) for r in persons} >= {
        ("TOTAL", "T", "TOTAL", "4"), ("ICCS05", "M", "Y25-34", "4")
    }  # fmt: skip

    # A conviction version of February delivered again in March with another content fails
    # a blocking check on raw/convictions; the month's package is then refused by the gate,
    # naming the check.
    resent = CONVICTION | {"conviction_id": "C-2022-02-05-0", "written_at": "2022-02-05T12:00:00",
                           "judgment_at": "2022-02-05", "sanction": "imprisonment"}  # fmt: skip
    write_convictions(landing, "2022-03-25", [resent])
    loaded = materialize_selection(defs(), settings, "group:ingestion", "2022-03")
    assert not loaded[-1].success
    refused = materialize_selection(defs(), settings, 'key:"extracts/lv"', "2022-03")
    assert [o.success for o in refused] == [False]
    message = " ".join(refused[0].problems)
    assert "extracts/lv not published: blocking checks failed" in message
    assert "on raw/convictions failed" in message
    assert len(list(outbox.iterdir())) == 3


def convict(home: Path, month: str, prefix: str, people: list[tuple[str, str, str, int]]) -> None:
    """One final conviction of the month per (citizenship, sex, national code, age), loaded
    as a convictions file of the month, and the persons marts rebuilt."""
    RawWriter(home).convictions([
        {"conviction_id": f"{prefix}{i}", "version": 1, "written_at": f"{month}-10 10:00:00",
         "person_key": f"P{prefix}{i}", "sex": sex, "age_at_judgment": age,
         "citizenship": citizenship, "final_at": f"{month}-09", "sanction": "fine",
         "fine_eur": 300, "ecris_member_state": None, "offences": [(code, False, True)]}
        for i, (citizenship, sex, code, age) in enumerate(people)
    ])  # fmt: skip
    run = run_dbt(home, "build", "--select", "+persons_convicted_by_citizenship +persons_convicted")
    assert run.success, run.failed_nodes()


def test_a_second_package_of_a_month_cannot_be_differenced_from_the_first(home: Path) -> None:
    """Package 1 of a month suppresses its small cells; a late conviction of the same month
    makes package 2. Protected alone, package 2 could publish a cell package 1 hid (or hide
    others), and the two together would give it away; protected with package 1 (whose
    suppressed true values stay in the warehouse, never in a package), every cell package 1
    hid and that still counts someone stays hidden, and both audits hold."""
    month = "2023-08"
    groups = [("M", 22, "BK182", 5), ("M", 30, "BK182", 8), ("M", 38, "BK182", 2),
              ("M", 50, "BK182", 6), ("M", 30, "BK178-1", 5), ("M", 40, "BK178-1", 6),
              ("F", 30, "BK178-1", 4), ("F", 40, "BK178-1", 5), ("F", 30, "BK182", 4),
              ("F", 50, "BK182", 4)]  # fmt: skip
    convict(home, month, "D", [("LV", sex, code, age) for sex, age, code, n in groups
                               for _ in range(n)])  # fmt: skip
    first = package(home, "LV", month)

    RawWriter(home).convictions([
        {"conviction_id": "D99", "version": 1, "written_at": f"{month}-20 10:00:00",
         "person_key": "PD99", "sex": "M", "age_at_judgment": 40, "citizenship": "LV",
         "final_at": f"{month}-19", "sanction": "fine", "fine_eur": 300,
         "ecris_member_state": None, "offences": [("BK182", False, True)]}
    ])  # fmt: skip
    run = run_dbt(home, "build", "--select", "+persons_convicted_by_citizenship +persons_convicted")
    assert run.success, run.failed_nodes()
    second = package(home, "LV", month)
    assert second.created and second.number == first.number + 1

    def table(outcome) -> dict[tuple, dict[str, str]]:
        rows = csv_rows(members(Path(outcome.destination))["persons_convicted_lv_citizens.csv"])
        return {(r["iccs_code"], r["sex"], r["age_group"]): r for r in rows}

    before, after = table(first), table(second)
    hidden_before = {key for key, row in before.items() if row["conf_status"] == "C"}
    # Two men of 35-44 convicted of fraud, a primary cell; the late one makes them three,
    # which a package protected on its own would publish, telling anyone package 1's 2.
    assert ("ICCS07", "M", "Y35-44") in hidden_before
    assert after[("ICCS07", "M", "Y35-44")]["conf_status"] == "C"
    for key in hidden_before:
        if key in after:  # still counts someone
            assert after[key]["conf_status"] == "C", key
    # The true values of package 1's suppressed cells are kept, and only in the warehouse.
    kept = query(home, "select count(*) from releases.confidential_values v join "
                 "releases.releases r using (release_id) where r.reference_period = ? and "
                 "r.vintage = ? and r.dataset like 'LV_PERSONS%'", month, first.number)  # fmt: skip
    assert kept == [(len(hidden_before),)]
    for outcome in (first, second):
        audit = next(t["disclosure_audit"] for t in outcome.manifest["tables"]
                     if t["id"] == "persons_convicted_lv_citizens")  # fmt: skip
        for cell in audit["suppressed_cells"]:
            span = 3 if cell["primary"] else 1
            assert cell["upper"] is None or cell["upper"] - cell["lower"] >= span, cell


def test_the_year_is_protected_with_the_partners_months(home: Path) -> None:
    """In May 2019 two Latvian and one Estonian woman (of 25-34, for theft) are convicted, each
    package hides its small count of women. The year's CRIM_JUST counts them among the women of
    other EU citizenships: 3. Published, it would tell anyone the Latvian package's hidden women
    are at most 2 (3 less the Estonian one, at least 1); protected with both packages linked,
    the year hides that cell, which it publishes when protected alone."""
    month, year = "2019-05", 2019
    people = ([("LV", "M", "BK182", 40)] * 6 + [("LV", "F", "BK178-1", 30)] * 2
              + [("EE", "M", "BK182", 40)] * 5 + [("EE", "F", "BK178-1", 30)]
              + [("LT", "M", "BK182", 40)] * 20 + [("LT", "F", "BK178-1", 30)] * 10)  # fmt: skip
    convict(home, month, "Y", people)
    for partner in ("LV", "EE"):
        outcome = package(home, partner, month)
        table = f"persons_convicted_{partner.lower()}_citizens.csv"
        rows = csv_rows(members(Path(outcome.destination))[table])
        women = next(r for r in rows if (r["iccs_code"], r["sex"], r["age_group"])
                     == ("TOTAL", "F", "TOTAL"))  # fmt: skip
        assert women["conf_status"] == "C", partner

    cell = (pl.col("ICCS") == "TOTAL") & (pl.col("SEX") == "F") & (pl.col("AGE") == "TOTAL")
    cell &= pl.col("CITIZEN") == "EU27_2020_FOR"
    with connect(home) as con:
        mart = con.sql("select * from marts.persons_convicted where ref_year = ?",
                       params=[year]).pl()  # fmt: skip
        alone = crim_just_observations(mart, STRUCTURES).filter(cell)
        assert alone.select("OBS_VALUE", "CONF_STATUS").row(0) == (3, "F")
        release = produce_release(con, home / "exports", "CRIM_JUST", year, settings=STRUCTURES)
        delivered = observations_from_cells(
            stored_cells(con, release.release_id),
            DsdLayout.of(dataflow(build_structures(STRUCTURES), "CRIM_JUST")),
        )
    assert delivered.filter(cell)["CONF_STATUS"].item() != "F"
