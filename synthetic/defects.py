"""The defects real extracts have, planted so that ingestion quarantines exactly those rows.

Each affected row gets exactly one defect, named like the quarantine rule that must catch it
(contracts.QUARANTINE_RULES; malformed_value only comes from real extracts). A duplicate is an
exact copy of a clean row placed right after it; the copy is the defect. Value defects are
made on the written values of a row, line defects (undecodable bytes, a cut last line) on the
written line. Only the few affected rows are handled one by one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

import numpy as np
import polars as pl

from core.contracts import QUARANTINE_RULES, SEXES
from synthetic.convictions import personal_codes
from synthetic.files import FileKind
from synthetic.formatting import (
    DATE_FORMAT,
    TIMESTAMP_FORMAT,
    csv_fields,
    csv_line,
    csv_ready,
    json_lines,
    json_ready,
)

PLANTED_RULES = tuple(rule for rule in QUARANTINE_RULES if rule != "malformed_value")
_NOT_APPLICABLE = {
    "incidents": {"bad_check_digit"},
    "convictions": set(),
    "violations": {"bad_check_digit"},
    "seizures": {"bad_check_digit", "impossible_date"},  # a seizure line has no dates
}
RULES_BY_KIND = {
    kind: tuple(rule for rule in PLANTED_RULES if rule not in skipped)
    for kind, skipped in _NOT_APPLICABLE.items()
}
# Rules whose defect is made on the line text rather than on a value.
LINE_RULES = ("broken_encoding", "truncated_row")

# Values outside the code lists, looking like what operators really type.
UNKNOWN_CODES = {
    "incidents": {
        "municipality": ("Rygos m. sav.", "Vilnius", "Nežinoma sav."),
        "status": ("suspended", "archived"),
    },
    "convictions": {
        "sanction": ("probation", "house_arrest"),
        "citizenship": ("QQ", "YU"),
    },
    "violations": {
        "border_section": ("LT-EE", "LT-UA"),
        "procedure": ("civil",),
        "vehicle_type": ("bicycle",),
        "offender_citizenship": ("QQ",),
    },
    "seizures": {"goods_category": ("fish", "timber"), "unit": ("t", "pack")},
}
MANDATORY_FIELDS_LEFT_EMPTY = {
    "incidents": ("event_id", "municipality", "status", "agency_code", "registered_at"),
    "convictions": ("conviction_id", "person_code", "status", "sanction", "court_code"),
    "violations": ("violation_id", "customs_post", "border_section", "violation_type", "procedure"),
    "seizures": ("violation_id", "cn_code", "goods_category", "unit"),
}
# The text field a broken byte goes into, and the byte: 0xFF is never valid UTF-8, 0x81 is
# undefined in Windows-1257. Incident municipalities get their Windows-1257 bytes instead,
# the classic damage of a UTF-8 extract.
BROKEN_FIELD = {"incidents": "municipality", "convictions": "court_code",
                "violations": "customs_post", "seizures": "goods_category"}  # fmt: skip
INVALID_BYTE = {"utf-8": 0xFF, "cp1257": 0x81}

Row = dict[str, Any]


@dataclass(frozen=True)
class DefectPlan:
    """Row positions (in the month's sorted rows) that get each rule's defect."""

    rows: dict[str, np.ndarray]

    @classmethod
    def none(cls, kind: str) -> DefectPlan:
        return cls({rule: np.array([], dtype=np.int64) for rule in RULES_BY_KIND[kind]})


def _eligible(kind: FileKind, rule: str, rows: pl.DataFrame) -> np.ndarray:
    if kind.name == "incidents" and rule == "broken_encoding":
        return rows["municipality"].str.contains(r"[^\x00-\x7F]").fill_null(False).to_numpy()
    return np.ones(rows.height, dtype=bool)


def plan_defects(
    kind: FileKind,
    rows: pl.DataFrame,
    file_bounds: np.ndarray,
    protected: np.ndarray,
    rate: float,
    rng: np.random.Generator,
) -> DefectPlan:
    """Pick disjoint rows for each rule: `rate` of the rows in all, spread evenly over rules.

    `protected` rows stay clean (except as the source of a duplicate) because other rows
    depend on them; a cut row is the last line of its file, at most one per file.
    """
    n = rows.height
    rules = RULES_BY_KIND[kind.name]
    total = rng.binomial(n, rate) if n else 0
    quota = dict(zip(rules, rng.multinomial(total, [1 / len(rules)] * len(rules)), strict=True))
    taken = np.zeros(n, dtype=bool)
    last_rows = file_bounds[1:][file_bounds[1:] > file_bounds[:-1]] - 1
    candidates = last_rows[~protected[last_rows]]
    cut = rng.choice(candidates, min(quota["truncated_row"], len(candidates)), replace=False)
    taken[cut] = True
    chosen_rows = {"truncated_row": np.sort(cut)}
    for rule in rules:
        if rule == "truncated_row":
            continue
        open_rows = ~taken & _eligible(kind, rule, rows)
        if rule != "duplicate":
            open_rows &= ~protected
        candidates = np.flatnonzero(open_rows)
        chosen = rng.choice(candidates, min(quota[rule], len(candidates)), replace=False)
        taken[chosen] = True
        chosen_rows[rule] = np.sort(chosen)
    return DefectPlan(chosen_rows)


def _in_1899(text: str) -> str:
    """The same date or time in 1899 (29 February did not exist then)."""
    shifted = "1899" + text[4:]
    return shifted.replace("1899-02-29", "1899-02-28")


def _later(text: str, hours: int) -> str:
    return (datetime.fromisoformat(text) + timedelta(hours=hours)).strftime(TIMESTAMP_FORMAT)


def _impossible_incident(row: Row, rng: np.random.Generator) -> Row:
    if rng.random() < 0.5:  # happened after it was registered
        later = _later(row["registered_at"], int(rng.integers(1, 73)))
        return {"occurred_from": later, "occurred_to": None}
    return {"registered_at": _in_1899(row["registered_at"])}


def _impossible_conviction(row: Row, rng: np.random.Generator) -> Row:
    if rng.random() < 0.5:  # born after the judgment; the personal code agrees with it
        judgment = date.fromisoformat(row["judgment_at"])
        born = judgment + timedelta(days=int(rng.integers(1, 366)))
        day = np.array([(born - date(1970, 1, 1)).days])
        sex = np.array([SEXES.index(row["sex"])])
        code = personal_codes(day, sex, np.array([int(row["person_code"][7:10])]))[0]
        return {"birth_date": born.strftime(DATE_FORMAT), "person_code": code}
    return {"judgment_at": _in_1899(row["judgment_at"])}


def _impossible_violation(row: Row, rng: np.random.Generator) -> Row:
    if rng.random() < 0.5:  # detected after it was written
        return {"detected_at": _later(row["written_at"], int(rng.integers(1, 241)))}
    return {"detected_at": _in_1899(row["detected_at"])}


def _bad_check_digit(row: Row, rng: np.random.Generator) -> Row:
    code = row["person_code"]
    return {"person_code": code[:10] + str((int(code[10]) + int(rng.integers(1, 10))) % 10)}


def _pick(rng: np.random.Generator, values: tuple[str, ...]) -> str:
    return values[int(rng.integers(0, len(values)))]


def _unknown_code(kind: str) -> Callable[[Row, np.random.Generator], Row]:
    lists = UNKNOWN_CODES[kind]

    def make(row: Row, rng: np.random.Generator) -> Row:
        column = _pick(rng, tuple(lists))
        return {column: _pick(rng, lists[column])}

    return make


def _missing_field(kind: str) -> Callable[[Row, np.random.Generator], Row]:
    return lambda row, rng: {_pick(rng, MANDATORY_FIELDS_LEFT_EMPTY[kind]): None}


def _value_defect(kind: str, rule: str) -> Callable[[Row, np.random.Generator], Row]:
    if rule == "unknown_code":
        return _unknown_code(kind)
    if rule == "missing_field":
        return _missing_field(kind)
    if rule == "bad_check_digit":
        return _bad_check_digit
    return {
        "incidents": _impossible_incident,
        "convictions": _impossible_conviction,
        "violations": _impossible_violation,
    }[kind]


def _replace_field(kind: FileKind, line: str, column: str, change: Callable[[str], str]) -> str:
    if kind.json_lines:
        key = f'"{column}":"'
        start = line.index(key) + len(key)
        end = line.index('"', start)
        return line[:start] + change(line[start:end]) + line[end:]
    fields = line.split(";")
    position = kind.columns.index(column)
    fields[position] = change(fields[position])
    return ";".join(fields)


def _undecodable(kind: FileKind, value: str) -> str:
    if kind.name == "incidents":
        return value.encode("cp1257").decode("utf-8", "surrogateescape")
    middle = len(value) // 2
    return value[:middle] + chr(0xDC00 + INVALID_BYTE[kind.encoding]) + value[middle:]


def _cut(kind: FileKind, line: str, rng: np.random.Generator) -> str:
    """The line broken off mid-way, as when a transfer stops: fewer fields than the header,
    or an unterminated JSON object."""
    if kind.json_lines:
        return line[: int(rng.integers(len(line) // 4, 3 * len(line) // 4))]
    fields = line.split(";")
    kept = int(rng.integers(1, len(fields) - 1))
    return ";".join(fields[:kept]) + ";" + fields[kept][: len(fields[kept]) // 2]


def _written_lines(
    kind: FileKind,
    rows: pl.DataFrame,
    make: Callable[[Row, np.random.Generator], Row] | None,
    rng: np.random.Generator,
) -> list[str]:
    """The rows' lines as the extract writes them, after `make` changed their values."""
    if kind.json_lines:
        ready = json_ready(rows, kind)
        if make is not None:
            changed = [row | make(row, rng) for row in ready.to_dicts()]
            ready = pl.DataFrame(changed, schema=ready.schema, orient="row")
        return json_lines(ready).to_list()
    fields = csv_fields(csv_ready(rows, kind), kind)
    if make is not None:
        fields = [row | make(row, rng) for row in fields]
    return [csv_line(row, kind) for row in fields]


def defective_lines(
    kind: FileKind, rows: pl.DataFrame, plan: DefectPlan, rng: np.random.Generator
) -> dict[int, str]:
    """The written line of every row the plan affects, with its defect, by position.

    Damaged lines may hold lone surrogates (raw bytes), which only Python strings can carry;
    a duplicated row's line is the row followed by its copy.
    """
    lines: dict[int, str] = {}
    for rule, positions in plan.rows.items():
        if not len(positions):
            continue
        value_rule = rule not in LINE_RULES and rule != "duplicate"
        make = _value_defect(kind.name, rule) if value_rule else None
        texts = _written_lines(kind, rows[positions], make, rng)
        for position, text in zip(positions.tolist(), texts, strict=True):
            if rule == "broken_encoding":
                field = BROKEN_FIELD[kind.name]
                text = _replace_field(kind, text, field, partial(_undecodable, kind))
            elif rule == "truncated_row":
                text = _cut(kind, text, rng)
            elif rule == "duplicate":
                text = f"{text}\n{text}"
            lines[position] = text
    return lines
