"""No personal data past the door (SPEC 4, 13): every way a person can slip into a conviction
extract is planted into generated registers, the pipeline runs in real Dagster runs, and then
every text column of the warehouse and the bytes of every file under the home (landing, the
registers' own input, apart) and all that the run printed are searched for what was planted.

The planted values are unlike anything the generator writes (birth dates of 1897-1961 and
2031; codes built on 1961-04-17), so any hit is a leak, not a coincidence.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from core import contracts as c
from core.settings import load_settings

NAME = "Privatauskas"
FULL_NAME = f"Jonas {NAME}"
BIRTH_DATE = "1961-04-17"  # of every planted person unless a variant says otherwise


def _code(ten: str, valid: bool = True) -> str:
    digit = c.personal_code_check_digit(ten)
    return ten + str(digit if valid else (digit + 1) % 10)


# One code per variant (serials 101-119 of persons born 1961-04-17), so a hit names the
# variant that leaked.
CODES = {n: _code(f"361041{n:04d}") for n in range(7101, 7120)}
# variant -> (changes to a clean generated record, or a raw line, and the planted texts that
# must appear nowhere; each digit string is also searched without separators and cut to 10).
SPACED, DASHED = CODES[7101][:10] + " " + CODES[7101][10], CODES[7102][:5] + "-" + CODES[7102][5:]
NBSP, EN_DASH = (
    CODES[7103][:10] + "\u00a0" + CODES[7103][10],
    CODES[7104][:5] + "–" + CODES[7104][5:],
)
TWELVE = CODES[7105] + "7"
NINE = "9" + CODES[7106][1:]
WRONG_CHECK = _code(CODES[7107][:10], valid=False)
VARIANTS: dict[str, dict | str] = {
    "spaced code": {"person_code": SPACED},
    "dashed code": {"person_code": DASHED},
    "no-break-space code": {"person_code": NBSP},
    "en-dash code": {"person_code": EN_DASH},
    "12-digit code": {"person_code": TWELVE},
    "code starting with 9": {"person_code": NINE, "sanction": "probation"},
    "bad check digit": {"person_code": WRONG_CHECK},
    "code as a JSON number": {"person_code": int(CODES[7108]), "sanction": "probation"},
    "code typed into court_code": {"court_code": CODES[7109]},
    "full_name, quarantined": {"full_name": FULL_NAME, "person_code": CODES[7110],
                               "sanction": "probation"},
    "full_name, loaded": {"full_name": FULL_NAME, "person_code": CODES[7111]},
    "born after judgment": {"person_code": CODES[7112], "birth_date": "2031-06-09"},
    "born before 1900": {"person_code": CODES[7113], "birth_date": "1897-03-12"},
    "birth date in a quarantined row": {"person_code": CODES[7114], "birth_date": "1958-09-30",
                                        "sanction": "probation"},
    "birth date not ISO": {"person_code": CODES[7115], "birth_date": "17.04.1961"},
    "not JSON at all": f"{FULL_NAME} {CODES[7116]} 1958-09-30",
    "damaged bytes": {"person_code": CODES[7117], "full_name": FULL_NAME,
                      "court_code": "AT-VLN\udcff"},
}  # fmt: skip
CUT_CODE = CODES[7118]  # the file's last line breaks off after 10 digits of the code
PLANTED_DATES = ("1961-04-17", "2031-06-09", "1897-03-12", "1958-09-30", "17.04.1961")
SEPARATORS = re.compile(r"[ \u00a0\-–]")


def planted_needles() -> dict[str, bytes]:
    """What must be found nowhere: every code as planted, without separators and its first
    ten digits (the eleventh is a check digit), the dates and the name."""
    codes = [*CODES.values(), SPACED, DASHED, NBSP, EN_DASH, TWELVE, NINE, WRONG_CHECK, CUT_CODE]
    needles: dict[str, bytes] = {}
    for code in codes:
        digits = SEPARATORS.sub("", code)
        for text in (code, digits, digits[:10]):
            needles[text] = text.encode()
    for text in (*PLANTED_DATES, NAME):
        needles[text] = text.encode()
    return needles


def _planted_lines(clean: dict) -> list[bytes]:
    lines = []
    for n, change in enumerate(VARIANTS.values(), start=1):
        if isinstance(change, str):
            lines.append(change.encode())
            continue
        record = clean | {"conviction_id": f"PRIV{n:02d}", "birth_date": BIRTH_DATE} | change
        text = json.dumps(record, ensure_ascii=False)
        lines.append(text.encode("utf-8", "surrogateescape"))  # \udcff: the raw byte 0xFF
    cut = clean | {"conviction_id": "PRIV99", "person_code": CUT_CODE, "birth_date": BIRTH_DATE}
    text = json.dumps(cut, ensure_ascii=False)
    lines.append(text[: text.index(CUT_CODE) + 10].encode())
    return lines


def plant(landing: Path) -> Path:
    """Append the planted lines to the first conviction file with records (its first line is a
    clean one to copy); the cut line ends the file."""
    for path in sorted((landing / "convictions").rglob("*.jsonl.gz")):
        lines = gzip.decompress(path.read_bytes()).rstrip(b"\n").split(b"\n")
        if lines[0].startswith(b'{"'):
            break
    clean = json.loads(lines[0])
    path.write_bytes(gzip.compress(b"\n".join(lines + _planted_lines(clean)), mtime=0))
    return path


def _files_outside_landing(home: Path) -> Iterator[tuple[Path, bytes]]:
    landing = home / "landing"
    for path in home.rglob("*"):
        if not path.is_file() or landing in path.parents:
            continue
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        yield path, data


def _text_column_leaks(warehouse: Path, needles: dict[str, bytes]) -> list[str]:
    """Every VARCHAR column of every table and view, separators removed before matching."""
    plain = {SEPARATORS.sub("", text) for text in needles}
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type = 'VARCHAR' and table_catalog = current_database()"
        ).fetchall()
        assert len(columns) > 50
        leaks = []
        for schema, table, column in columns:
            values = con.execute(f'select distinct "{column}" from "{schema}"."{table}"').fetchall()
            for (value,) in values:
                text = SEPARATORS.sub("", value or "")
                leaks += [f"{schema}.{table}.{column}: {n}" for n in plain if n in text]
        return leaks
    finally:
        con.close()


def _conviction_id(record: str) -> str | None:
    try:
        return json.loads(record).get("conviction_id")
    except (json.JSONDecodeError, AttributeError):
        return None


def _quarantined_ids(warehouse: Path) -> tuple[set[str], list[str], set[str]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        quarantine = con.execute(
            "select record, reason from raw.quarantine where _file like 'convictions/%'"
        ).fetchall()
        loaded = con.execute(
            "select conviction_id from raw.conviction_versions where conviction_id like 'PRIV%'"
        ).fetchall()
    finally:
        con.close()
    ids = {_conviction_id(record) for record, _ in quarantine}
    return ids, [reason for _, reason in quarantine], {i for (i,) in loaded}


def test_no_planted_personal_value_anywhere_under_the_home(
    crimestat_home: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    from orchestration.definitions import defs
    from orchestration.runs import materialize_selection
    from synthetic import generate_registers

    settings = load_settings()
    generate_registers(
        settings.landing_dir, start="2023-11", months=2, scale=0.02, seed=5, defect_rate=0.01
    )
    plant(settings.landing_dir)

    outcomes = materialize_selection(defs(), settings, None, None)

    assert all(o.success for o in outcomes), [o.problems for o in outcomes]
    needles = planted_needles()
    assert not _text_column_leaks(settings.warehouse_path, needles)
    scanned, file_leaks = set(), []
    for path, data in _files_outside_landing(settings.home):
        scanned.add(path.relative_to(settings.home).parts[0])
        file_leaks += [f"{path}: {text}" for text, needle in needles.items() if needle in data]
    assert not file_leaks
    # Dagster's storage and event logs, GX results and Data Docs, exports, outbox, serving.
    assert scanned >= {"dagster", "quality", "exports", "outbox", "serving", "warehouse.duckdb"}
    printed = capfd.readouterr()
    found = [t for t in needles if t in printed.out or t in printed.err]
    assert not found, f"printed: {found}"
    quarantined, reasons, loaded = _quarantined_ids(settings.warehouse_path)
    numbered = [n for n, change in enumerate(VARIANTS.values(), 1) if isinstance(change, dict)]
    assert loaded == {"PRIV11"}  # the clean record with a full_name: loaded without it
    assert {f"PRIV{n:02d}" for n in numbered if n != 11} | {"PRIV99"} <= quarantined
    assert sum("fields outside the contract dropped: full_name" in r for r in reasons) >= 2
