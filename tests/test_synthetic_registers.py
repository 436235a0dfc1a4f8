"""The synthetic registers (SPEC 3.5): deterministic, calibrated on Eurostat, written in the
contracts' formats, and carrying exactly the planted defects that the summary reports.

The files are checked by a small validator of the contracts written here, independent of the
generator, so the tests do not take the generator's word for what it wrote.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from core.contracts import (
    BORDER_SECTIONS,
    CHANNELS,
    CONVICTION_FIELDS,
    CONVICTION_OFFENCE_FIELDS,
    CONVICTION_STATUSES,
    CONVICTION_VERSIONS,
    CUSTOMS_SEIZURE_COLUMNS,
    CUSTOMS_SEIZURES,
    CUSTOMS_VIOLATION_COLUMNS,
    CUSTOMS_VIOLATION_VERSIONS,
    EVENT_KINDS,
    GOODS_CATEGORIES,
    INCIDENT_COLUMNS,
    INCIDENT_STATUSES,
    INCIDENT_VERSIONS,
    PROCEDURES,
    SANCTIONS,
    SEIZURE_UNITS,
    SEXES,
    VEHICLE_TYPES,
    VIOLATION_TYPES,
    RawTable,
    personal_code_check_digit,
)
from core.settings import PROJECT_ROOT
from synthetic import GenerationSummary, generate_registers

REFERENCE = PROJECT_ROOT / "dbt_project" / "seeds" / "reference"
EUROSTAT_TSV = PROJECT_ROOT / "synthetic" / "calibration" / "eurostat_crim_off_cat_baltics.tsv"
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
LITHUANIAN_LETTERS = re.compile("[ąčęėįšųūžĄČĘĖĮŠŲŪŽ]")


def _reference(name: str) -> pl.DataFrame:
    return pl.read_csv(REFERENCE / name, infer_schema=False)


MUNICIPALITIES = set(_reference("municipalities.csv")["municipality_name"])
COUNTRIES = _reference("countries.csv")
CITIZENSHIPS = set(COUNTRIES["alpha2"]) | {"XX"}
EU_MEMBERS = set(COUNTRIES.filter(pl.col("eu27_2020") == "true")["alpha2"])


# --- a small validator of the extract contracts -------------------------------------------


def _mandatory(
    table: RawTable, extract_fields: tuple[str, ...], extra: tuple[str, ...] = ()
) -> set[str]:
    not_null = {name for name, sql in table.columns if "not null" in sql}
    return (not_null & set(extract_fields)) | set(extra)


@dataclass(frozen=True)
class Extract:
    """What the contract says about one kind of landing file."""

    register: str
    pattern: str
    columns: tuple[str, ...]
    encoding: str
    json_lines: bool
    key: tuple[str, str]
    mandatory: set[str]
    code_lists: dict[str, set[str]]

    def files(self, landing: Path) -> list[Path]:
        return sorted(landing.glob(self.pattern))


EXTRACTS = {
    "incidents": Extract(
        "incidents", "incidents/*/incidents_*.csv.gz", INCIDENT_COLUMNS, "utf-8", False,
        ("event_id", "version"), _mandatory(INCIDENT_VERSIONS, INCIDENT_COLUMNS),
        {"municipality": MUNICIPALITIES, "status": set(INCIDENT_STATUSES),
         "channel": set(CHANNELS), "event_kind": set(EVENT_KINDS)},
    ),
    "convictions": Extract(
        "convictions", "convictions/*/convictions_*.jsonl.gz", CONVICTION_FIELDS, "utf-8", True,
        ("conviction_id", "version"),
        _mandatory(CONVICTION_VERSIONS, CONVICTION_FIELDS, ("person_code", "birth_date")),
        {"sex": set(SEXES), "status": set(CONVICTION_STATUSES), "sanction": set(SANCTIONS),
         "citizenship": CITIZENSHIPS, "ecris_member_state": EU_MEMBERS - {"LT"}},
    ),
    "violations": Extract(
        "customs", "customs/*/violations_*.csv", CUSTOMS_VIOLATION_COLUMNS, "cp1257", False,
        ("violation_id", "version"),
        _mandatory(CUSTOMS_VIOLATION_VERSIONS, CUSTOMS_VIOLATION_COLUMNS),
        {"border_section": set(BORDER_SECTIONS), "violation_type": set(VIOLATION_TYPES),
         "procedure": set(PROCEDURES), "vehicle_type": set(VEHICLE_TYPES),
         "offender_citizenship": CITIZENSHIPS},
    ),
    "seizures": Extract(
        "customs", "customs/*/seizures_*.csv", CUSTOMS_SEIZURE_COLUMNS, "cp1257", False,
        ("violation_id", "line_no"), _mandatory(CUSTOMS_SEIZURES, CUSTOMS_SEIZURE_COLUMNS),
        {"goods_category": set(GOODS_CATEGORIES), "unit": set(SEIZURE_UNITS)},
    ),
}  # fmt: skip

# Date orders that always hold in a register: (earlier, later) field pairs.
DATE_ORDERS = {
    "incidents": (("occurred_from", "registered_at"), ("registered_at", "written_at"),
                  ("occurred_from", "occurred_to"), ("registered_at", "pretrial_started_at"),
                  ("pretrial_started_at", "written_at"), ("decision_at", "written_at")),
    "convictions": (("birth_date", "judgment_at"), ("judgment_at", "written_at"),
                    ("judgment_at", "final_at"), ("final_at", "written_at")),
    "violations": (("detected_at", "written_at"),),
    "seizures": (),
}  # fmt: skip


def _impossible_date(kind: str, row: dict) -> bool:
    dates = {
        k: v for k, v in row.items() if isinstance(v, str) and (DATE.match(v) or TIMESTAMP.match(v))
    }
    if any(value < "1900" for value in dates.values()):
        return True
    for earlier, later in DATE_ORDERS[kind]:
        if earlier in dates and later in dates:
            width = min(len(dates[earlier]), len(dates[later]))
            if dates[earlier][:width] > dates[later][:width] or (
                (earlier, later) == ("birth_date", "judgment_at") and dates[earlier] >= dates[later]
            ):
                return True
    return False


def person_code_agrees(code: str, birth_date: str, sex: str) -> bool:
    """11 digits: century-and-sex digit, YYMMDD of the birth date, serial, check digit."""
    century_digit = {("19", "M"): "3", ("19", "F"): "4", ("20", "M"): "5", ("20", "F"): "6"}
    return (
        len(code) == 11
        and code.isdigit()
        and code[0] == century_digit.get((birth_date[:2], sex))
        and code[1:7] == birth_date[2:4] + birth_date[5:7] + birth_date[8:10]
        and int(code[10]) == personal_code_check_digit(code[:10])
    )


def _row_rules(kind: str, extract: Extract, text: str) -> tuple[set[str], dict | None]:
    """The rules a decodable line breaks, and the row it holds (None when unreadable)."""
    if extract.json_lines:
        try:
            row = json.loads(text)
        except json.JSONDecodeError:
            return {"truncated_row"}, None
    else:
        fields = text.split(";")
        if len(fields) < len(extract.columns):
            return {"truncated_row"}, None
        row = {c: v or None for c, v in zip(extract.columns, fields, strict=True)}
    rules = set()
    if any(row.get(field) is None for field in extract.mandatory):
        rules.add("missing_field")
    if any(
        row.get(f) is not None and row[f] not in codes for f, codes in extract.code_lists.items()
    ):
        rules.add("unknown_code")
    if _impossible_date(kind, row):
        rules.add("impossible_date")
    code = row.get("person_code")
    if code and len(code) == 11 and int(code[10]) != personal_code_check_digit(code[:10]):
        rules.add("bad_check_digit")
    return rules, row


@dataclass
class Inspection:
    """Rules broken per register, and the clean rows read, per kind."""

    rules: dict[str, Counter]
    clean_rows: dict[str, list[dict]]


def inspect_landing(landing: Path, skip: set[str] = frozenset()) -> Inspection:
    """Validate every line of every landing file (but the `skip`ped ones) against the
    contracts; each defective line must break exactly one rule."""
    rules: dict[str, Counter] = {
        "incidents": Counter(),
        "convictions": Counter(),
        "customs": Counter(),
    }
    clean: dict[str, list[dict]] = {kind: [] for kind in EXTRACTS}
    for kind, extract in EXTRACTS.items():
        seen_by_partition: dict[str, set] = {}
        for path in extract.files(landing):
            relative = path.relative_to(landing).as_posix()
            if relative in skip:
                continue
            raw = path.read_bytes()
            raw = gzip.decompress(raw) if path.suffix == ".gz" else raw
            lines = raw.split(b"\n")
            terminated = lines[-1] == b""
            lines = lines[:-1] if terminated else lines
            if not extract.json_lines:
                assert lines[0].decode(extract.encoding) == ";".join(extract.columns), relative
                lines = lines[1:]
            seen = seen_by_partition.setdefault(path.parent.name, set())
            for number, line in enumerate(lines, start=1):
                try:
                    text = line.decode(extract.encoding)
                except UnicodeDecodeError:
                    rules[extract.register]["broken_encoding"] += 1
                    continue
                broken, row = _row_rules(kind, extract, text)
                if "truncated_row" in broken:
                    assert number == len(lines) and not terminated, f"{relative}:{number}"
                key = None if row is None else tuple(row.get(k) for k in extract.key)
                if key is not None and None not in key:
                    if key in seen:
                        broken.add("duplicate")
                    seen.add(key)
                assert len(broken) <= 1, f"{relative}:{number} breaks {broken}: {text}"
                rules[extract.register].update(broken)
                if not broken:
                    clean[kind].append(row)
    return Inspection(rules, clean)


def file_hashes(landing: Path) -> dict[str, str]:
    return {
        p.relative_to(landing).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(landing.rglob("*"))
        if p.is_file()
    }


# --- fixtures: generations shared by the tests of this module ------------------------------


@pytest.fixture(scope="module")
def year_2022(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationSummary]:
    """Lithuania's real volume for 2022, with the default defect rate."""
    landing = tmp_path_factory.mktemp("year_2022")
    return landing, generate_registers(landing, start="2022-01", months=12, scale=1.0, seed=42)


@pytest.fixture(scope="module")
def summer(tmp_path_factory: pytest.TempPathFactory) -> tuple[Inspection, GenerationSummary]:
    """A quarter at a third of the volume with the default defect rate, validated line by line."""
    landing = tmp_path_factory.mktemp("summer")
    summary = generate_registers(landing, start="2022-06", months=3, scale=0.3, seed=1)
    return inspect_landing(landing), summary


@pytest.fixture(scope="module")
def defective(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationSummary]:
    """Many defects and a few broken files."""
    landing = tmp_path_factory.mktemp("defective")
    summary = generate_registers(
        landing, start="2023-10", months=4, scale=0.3, seed=7, defect_rate=0.05, broken_files=7
    )
    return landing, summary


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Inspection:
    """Half a year without defects, for the shape of version histories."""
    landing = tmp_path_factory.mktemp("clean")
    summary = generate_registers(landing, months=6, scale=0.2, seed=3, defect_rate=0.0)
    assert not any(n for rules in summary.defects.values() for n in rules.values())
    return inspect_landing(landing)


# --- determinism ---------------------------------------------------------------------------


def test_same_arguments_give_byte_identical_files(tmp_path: Path) -> None:
    arguments = {
        "start": "2021-12",
        "months": 2,
        "scale": 0.03,
        "defect_rate": 0.02,
        "broken_files": 3,
    }
    first = generate_registers(tmp_path / "a", seed=11, **arguments)
    second = generate_registers(tmp_path / "b", seed=11, **arguments)
    hashes = file_hashes(tmp_path / "a")
    assert len(hashes) == 31 + 31 + 31 + 31 + 4  # daily incidents and convictions, customs
    assert hashes == file_hashes(tmp_path / "b")
    assert first.to_dict() == second.to_dict()
    generate_registers(tmp_path / "c", seed=12, **arguments)
    other = file_hashes(tmp_path / "c")
    assert set(other) == set(hashes)
    assert sum(other[p] != hashes[p] for p in hashes) > len(hashes) // 2


def test_a_month_does_not_depend_on_the_length_of_the_span(tmp_path: Path) -> None:
    generate_registers(tmp_path / "one", start="2022-05", months=1, scale=0.05, seed=5)
    generate_registers(tmp_path / "two", start="2022-05", months=2, scale=0.05, seed=5)
    one, two = file_hashes(tmp_path / "one"), file_hashes(tmp_path / "two")
    assert one == {path: digest for path, digest in two.items() if "/2022-05/" in path}


def test_summary_is_json_serialisable(defective: tuple[Path, GenerationSummary]) -> None:
    _, summary = defective
    data = json.loads(json.dumps(summary.to_dict()))
    assert data["files_written"]["customs"] == 8
    assert {b["kind"] for b in data["broken_files"]} == {
        "truncated_gzip", "wrong_encoding", "missing_column",
    }  # fmt: skip


# --- calibration on Eurostat ---------------------------------------------------------------


def eurostat_2022(geo: str = "LT") -> dict[str, int]:
    """ICCS category -> recorded offences in 2022, read from the Eurostat bulk TSV."""
    lines = EUROSTAT_TSV.read_text(encoding="utf-8").splitlines()
    year = [cell.strip() for cell in lines[0].split("\t")].index("2022")
    figures = {}
    for line in lines[1:]:
        cells = line.split("\t")
        freq, iccs, unit, row_geo = cells[0].split(",")
        if (freq, unit, row_geo) == ("A", "NR", geo) and cells[year].strip() != ":":
            figures[iccs] = int(cells[year].strip())
    return figures


def recorded_offences_2022(landing: Path) -> pl.DataFrame:
    """Lithuanian counting rule: criminal events by the year their pre-trial investigation
    started, latest version, not annulled, classified by ICCS (attempted murder as 0102)."""
    frames = [
        pl.read_csv(
            gzip.decompress(path.read_bytes()), separator=";", infer_schema=False,
            encoding="utf8-lossy", truncate_ragged_lines=True,
        )
        for path in EXTRACTS["incidents"].files(landing)
    ]  # fmt: skip
    table = _reference("offence_code_iccs.csv")
    latest = (
        pl.concat(frames)
        .filter(pl.col("event_id").is_not_null() & (pl.col("event_kind") == "criminal"))
        .with_columns(pl.col("version").cast(pl.Int32, strict=False))
        .sort("event_id", "version")
        .group_by("event_id")
        .last()
    )
    return (
        latest.filter(
            (pl.col("status") != "annulled") & pl.col("pretrial_started_at").str.starts_with("2022")
        )
        .join(table, left_on="offence_code", right_on="national_code", how="left")
        .with_columns(
            iccs=pl.when(pl.col("attempt") == "true")
            .then(pl.col("iccs_code_attempt"))
            .otherwise(pl.col("iccs_code"))
        )
    )


CALIBRATED_CATEGORIES = {
    "ICCS0502": "theft", "ICCS0501": "burglary", "ICCS0401": "robbery", "ICCS0701": "fraud",
    "ICCS0601": "drugs", "ICCS0101": "intentional homicide", "ICCS020111": "serious assault",
}  # fmt: skip


def test_recorded_offences_match_eurostat_2022(year_2022: tuple[Path, GenerationSummary]) -> None:
    landing, _ = year_2022
    recorded = recorded_offences_2022(landing)
    targets = eurostat_2022()
    for category, name in CALIBRATED_CATEGORIES.items():
        count = recorded.filter(
            pl.col("iccs").str.starts_with(category.removeprefix("ICCS"))
        ).height
        target = targets[category]
        assert abs(count - target) <= 0.15 * target, f"{name}: {count} recorded, Eurostat {target}"
    assert 35_000 <= recorded.height <= 42_000


def _json_rows(path: Path) -> list[dict]:
    rows = []
    for line in gzip.decompress(path.read_bytes()).splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:  # a planted broken or cut line
            continue
    return rows


def test_volumes_per_register(year_2022: tuple[Path, GenerationSummary]) -> None:
    landing, summary = year_2022
    assert summary.files_written == {"incidents": 365, "convictions": 365, "customs": 24}
    incidents = pl.concat(
        pl.read_csv(gzip.decompress(p.read_bytes()), separator=";", infer_schema=False,
                    encoding="utf8-lossy", truncate_ragged_lines=True)
        for p in EXTRACTS["incidents"].files(landing)
    )  # fmt: skip
    events = Counter(incidents.filter(pl.col("version") == "1")["event_kind"].to_list())
    assert 38_000 <= events["criminal"] <= 44_000
    assert 200_000 <= events["administrative"] + events["incident"] <= 400_000
    convictions = [r for p in EXTRACTS["convictions"].files(landing) for r in _json_rows(p)]
    decisions = {r["conviction_id"] for r in convictions}
    assert 10_000 <= len(decisions) <= 12_500
    assert 200 <= len({r["conviction_id"] for r in convictions if r["ecris_member_state"]}) <= 400
    persons = Counter(
        {(r["conviction_id"], r["person_code"]) for r in convictions if r["person_code"]}
    )
    repeat = Counter(code for _, code in persons)
    assert sum(1 for n in repeat.values() if n >= 2) > 500  # some are convicted twice a year
    violations = pl.concat(
        pl.read_csv(p.read_bytes().decode("cp1257", errors="replace").encode(), separator=";",
                    infer_schema=False, truncate_ragged_lines=True)
        for p in EXTRACTS["violations"].files(landing)
    )  # fmt: skip
    assert 4_000 <= violations["violation_id"].n_unique() <= 6_000
    assert (
        summary.rows_written["customs"]["seizures"] > summary.rows_written["customs"]["violations"]
    )


def test_defect_rate_is_the_share_of_rows(year_2022: tuple[Path, GenerationSummary]) -> None:
    _, summary = year_2022
    rows = summary.rows_written["incidents"]["incidents"]
    planted = sum(summary.defects["incidents"].values())
    assert 0.0007 * rows <= planted <= 0.0013 * rows


def test_geography_follows_population(summer: tuple[Inspection, GenerationSummary]) -> None:
    rows = [r for r in summer[0].clean_rows["incidents"] if r["version"] == "1"]
    by_municipality = Counter(r["municipality"] for r in rows)
    assert set(by_municipality) == MUNICIPALITIES
    assert by_municipality.most_common(1)[0][0] == "Vilniaus m. sav."
    assert by_municipality["Kauno m. sav."] > 10 * by_municipality["Neringos sav."]
    located = [r for r in rows if r["lat"]]
    assert 0.8 < len(located) / len(rows) < 0.97
    assert all(
        53.85 <= float(r["lat"]) <= 56.5 and 20.9 <= float(r["lon"]) <= 26.9 for r in located
    )


# --- formats -------------------------------------------------------------------------------


def test_csv_rows_follow_the_contract(summer: tuple[Inspection, GenerationSummary]) -> None:
    rows = summer[0].clean_rows  # headers were checked on the way
    for row in rows["incidents"]:
        assert TIMESTAMP.match(row["written_at"]) and TIMESTAMP.match(row["registered_at"])
        assert row["attempt"] in {"true", "false"}
        assert re.fullmatch(r"(POL|MUN|FRS)-\d{3}", row["agency_code"])
        assert (row["call_112_id"] is not None) == (row["channel"] == "112")
        assert (row["offence_code"] is None) == (row["event_kind"] == "incident")
        assert re.fullmatch(r"\d+\.\d{2}", row["damage_eur"])
    for row in rows["violations"]:
        assert row["lat"] is None or re.fullmatch(r"\d+,\d{5}", row["lat"])
    units = {"cigarettes": "sticks", "alcohol": "l", "fuel": "l", "drugs": "kg", "cash": "eur",
             "weapons": "pcs", "counterfeit": "pcs", "tobacco": "kg", "other": "pcs"}  # fmt: skip
    for row in rows["seizures"]:
        assert units[row["goods_category"]] == row["unit"]
        assert re.fullmatch(r"\d{8}", row["cn_code"]) and re.fullmatch(
            r"\d+,\d{2}", row["value_eur"]
        )


def test_customs_files_are_windows_1257_with_lithuanian_letters(
    year_2022: tuple[Path, GenerationSummary],
) -> None:
    landing, summary = year_2022
    undecodable = 0
    for path in EXTRACTS["violations"].files(landing):
        text = path.read_bytes().decode("cp1257", errors="replace")
        undecodable += text.count("\ufffd")
        assert LITHUANIAN_LETTERS.search(text), path
        with pytest.raises(UnicodeDecodeError):
            path.read_bytes().decode("utf-8")
    assert undecodable <= summary.defects["customs"]["broken_encoding"]
    post = CUSTOMS_VIOLATION_COLUMNS.index("customs_post")
    posts = {
        line.split(";")[post]
        for path in EXTRACTS["violations"].files(landing)
        for line in path.read_bytes().decode("cp1257", errors="replace").splitlines()[1:]
    }
    assert {"Medininkų KP", "Šalčininkų KP", "Kybartų KP", "Klaipėdos jūrų uosto KP"} <= posts


def test_conviction_lines_follow_the_contract(summer: tuple[Inspection, GenerationSummary]) -> None:
    rows = summer[0].clean_rows["convictions"]
    ages = Counter()
    for row in rows:
        assert tuple(row) == CONVICTION_FIELDS
        assert 1 <= len(row["offences"]) <= 3
        assert all(tuple(offence) == CONVICTION_OFFENCE_FIELDS for offence in row["offences"])
        assert sum(offence["is_main"] for offence in row["offences"]) == 1
        assert person_code_agrees(row["person_code"], row["birth_date"], row["sex"])
        assert (row["final_at"] is not None) == (row["status"] == "final")
        months_expected = row["sanction"] in {
            "imprisonment",
            "suspended",
            "restriction_of_liberty",
            "arrest",
        }
        assert (row["sentence_months"] is not None) == months_expected
        assert (row["fine_eur"] is not None) == (row["sanction"] == "fine")
        assert row["ecris_member_state"] is None or row["citizenship"] == "LT"
        age = int(row["judgment_at"][:4]) - int(row["birth_date"][:4])
        ages["14-17" if age < 18 else "18-65" if age <= 65 else "66+"] += 1
    assert ages["18-65"] > 0.85 * len(rows) and ages["14-17"] > 0
    citizenships = Counter(row["citizenship"] for row in rows)
    assert citizenships["LT"] > 0.8 * len(rows)
    assert {"XX", None, "BY", "LV"} <= set(citizenships)


# --- version histories ---------------------------------------------------------------------


def _histories(rows: list[dict], key: str) -> dict[str, list[dict]]:
    histories: dict[str, list[dict]] = {}
    for row in rows:
        histories.setdefault(row[key], []).append(row)
    return {k: sorted(v, key=lambda r: int(r["version"])) for k, v in histories.items()}


def test_versions_count_up_with_strictly_later_writes(clean: Inspection) -> None:
    rows = clean.clean_rows
    for kind, key in (
        ("incidents", "event_id"),
        ("convictions", "conviction_id"),
        ("violations", "violation_id"),
    ):
        for history in _histories(rows[kind], key).values():
            assert [int(r["version"]) for r in history] == list(range(1, len(history) + 1))
            written = [r["written_at"] for r in history]
            assert written == sorted(set(written))


def test_histories_have_reclassifications_appeals_and_annulments(clean: Inspection) -> None:
    rows = clean.clean_rows
    events = _histories(rows["incidents"], "event_id").values()
    criminal = [h for h in events if h[0]["event_kind"] == "criminal"]
    assert all(h[0]["status"] == "registered" for h in events)
    assert any(
        h[0]["offence_code"] == "BK178-1" and h[-1]["offence_code"] == "BK180" for h in criminal
    )
    assert any(h[-1]["status"] == "annulled" for h in criminal)
    assert {h[-1]["status"] for h in criminal} >= {"solved", "sent_to_court", "closed", "refused"}
    lags = [
        datetime.fromisoformat(h[0]["registered_at"])
        - datetime.fromisoformat(h[0]["occurred_from"])
        for h in criminal
    ]
    late = sum(lag > timedelta(days=14) for lag in lags)
    assert 0.02 * len(lags) < late < 0.15 * len(lags)  # registered weeks or months later
    convictions = _histories(rows["convictions"], "conviction_id").values()
    statuses = [tuple(r["status"] for r in h) for h in convictions]
    assert ("pending", "final") in statuses and ("pending", "amended", "final") in statuses
    assert any(h[-1] == "annulled" for h in statuses)
    persons = Counter(h[0]["person_code"] for h in convictions)
    assert max(persons.values()) >= 2
    violations = _histories(rows["violations"], "violation_id").values()
    assert any(
        h[0]["procedure"] == "administrative" and h[-1]["procedure"] == "criminal"
        for h in violations
    )


# --- defects -------------------------------------------------------------------------------


def test_planted_defects_are_exactly_what_the_files_show(
    defective: tuple[Path, GenerationSummary],
) -> None:
    landing, summary = defective
    broken = {b.path for b in summary.broken_files}
    found = inspect_landing(landing, skip=broken).rules
    for register, planted in summary.defects.items():
        assert found[register] == Counter({rule: n for rule, n in planted.items() if n}), register
    applicable = {
        "incidents": {"duplicate", "unknown_code", "impossible_date", "missing_field",
                      "broken_encoding", "truncated_row"},
        "customs": {"duplicate", "unknown_code", "impossible_date", "missing_field",
                    "broken_encoding", "truncated_row"},
    }  # fmt: skip
    applicable["convictions"] = applicable["incidents"] | {"bad_check_digit"}
    for register, rules in applicable.items():
        assert {rule for rule, n in summary.defects[register].items() if n} == rules, register


def test_broken_files_cannot_be_read(defective: tuple[Path, GenerationSummary]) -> None:
    landing, summary = defective
    kinds = Counter(b.kind for b in summary.broken_files)
    assert len(summary.broken_files) == 7 and set(kinds) == {
        "truncated_gzip", "wrong_encoding", "missing_column",
    }  # fmt: skip
    for broken in summary.broken_files:
        path = landing / broken.path
        extract = next(e for e in EXTRACTS.values() if path.match(e.pattern))
        if broken.kind == "truncated_gzip":
            with pytest.raises((EOFError, OSError)):
                gzip.decompress(path.read_bytes())
        elif broken.kind == "wrong_encoding" and extract.encoding == "cp1257":
            text = path.read_bytes().decode("utf-8")  # UTF-8 where Windows-1257 is expected
            assert LITHUANIAN_LETTERS.search(text)
        elif broken.kind == "wrong_encoding":
            lines = gzip.decompress(path.read_bytes()).split(b"\n")[1:-1]
            undecodable = 0
            for line in lines:
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError:
                    undecodable += 1
            assert undecodable > 0.05 * len(lines)
        else:
            raw = path.read_bytes()
            header = (gzip.decompress(raw) if path.suffix == ".gz" else raw).split(b"\n")[0]
            columns = header.decode(extract.encoding).split(";")
            assert set(extract.columns) - set(columns) & extract.mandatory
