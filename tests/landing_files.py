"""Writers of hand-made landing files for tests, in each register's delivery format."""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from pathlib import Path

from core import contracts as c


def write_incidents(landing: Path, day: str, rows: Sequence[dict[str, str]]) -> Path:
    """rows: dicts of column -> text; missing columns are empty."""
    lines = [";".join(c.INCIDENT_COLUMNS)]
    lines += [";".join(row.get(col, "") for col in c.INCIDENT_COLUMNS) for row in rows]
    path = landing / "incidents" / day[:7] / f"incidents_{day}.csv.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode("utf-8"), mtime=0))
    return path


def write_convictions(landing: Path, day: str, records: Sequence[dict | str]) -> Path:
    """records: dicts (dumped as JSON) or raw line text."""
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    path = landing / "convictions" / day[:7] / f"convictions_{day}.jsonl.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode("utf-8"), mtime=0))
    return path


def write_customs(
    landing: Path, month: str, violations: Sequence[dict[str, str]],
    seizures: Sequence[dict[str, str]], encoding: str = "cp1257",
) -> tuple[Path, Path]:  # fmt: skip
    folder = landing / "customs" / month
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, columns, rows in (
        ("violations", c.CUSTOMS_VIOLATION_COLUMNS, violations),
        ("seizures", c.CUSTOMS_SEIZURE_COLUMNS, seizures),
    ):
        lines = [";".join(columns)] + [";".join(r.get(col, "") for col in columns) for r in rows]
        path = folder / f"{name}_{month}.csv"
        path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
        paths.append(path)
    return paths[0], paths[1]


def personal_code(sex: str, birth_date: str, serial: int = 123) -> str:
    """A valid Lithuanian personal code for a birth date YYYY-MM-DD."""
    century = int(birth_date[:2])
    first = {(19, "M"): 3, (19, "F"): 4, (20, "M"): 5, (20, "F"): 6}[(century, sex)]
    ten = f"{first}{birth_date[2:4]}{birth_date[5:7]}{birth_date[8:10]}{serial:03d}"
    return ten + str(c.personal_code_check_digit(ten))


INCIDENT = {
    "event_id": "E-1", "version": "1", "written_at": "2022-03-02T10:00:00",
    "registered_at": "2022-03-02T09:00:00", "occurred_from": "2022-03-01T22:00:00",
    "agency_code": "POL-011", "channel": "112", "call_112_id": "C-77", "event_kind": "criminal",
    "offence_code": "BK178-1", "attempt": "false", "municipality": "Vilniaus m. sav.",
    "lat": "54.68", "lon": "25.28", "victims": "1", "damage_eur": "350.00",
    "status": "registered",
}  # fmt: skip

CONVICTION = {
    "conviction_id": "C-1", "version": 1, "written_at": "2022-03-02T12:00:00",
    "person_code": personal_code("M", "1990-05-17"), "birth_date": "1990-05-17", "sex": "M",
    "citizenship": "LT", "court_code": "VAT", "judgment_at": "2022-03-01", "final_at": None,
    "status": "pending",
    "offences": [{"offence_code": "BK178-1", "attempt": False, "is_main": True}],
    "sanction": "fine", "sentence_months": None, "fine_eur": 500.0, "ecris_member_state": None,
}  # fmt: skip

VIOLATION = {
    "violation_id": "V-1", "version": "1", "written_at": "2022-03-05T10:00:00",
    "detected_at": "2022-03-04T23:10:00", "unit_code": "MGR-2", "task_id": "T-9",
    "customs_post": "Medininkų KP", "border_section": "LT-BY", "lat": "54,53", "lon": "25,64",
    "violation_type": "cigarettes", "procedure": "administrative",
    "offender_citizenship": "BY", "vehicle_type": "truck",
}  # fmt: skip

SEIZURE = {
    "violation_id": "V-1", "line_no": "1", "cn_code": "24022090",
    "goods_category": "cigarettes", "quantity": "10000", "unit": "sticks", "value_eur": "2500,50",
}  # fmt: skip

MONTHS = ("2022-01", "2022-02", "2022-03")


def land_three_months(landing: Path) -> None:
    """Two daily files per month for the daily registers, one customs pair per month."""
    for month in MONTHS:
        for day in ("05", "20"):
            n = f"{month}-{day}"
            write_incidents(landing, n, [
                INCIDENT | {"event_id": f"E-{n}-{i}", "written_at": f"{n}T10:00:00",
                            "registered_at": f"{n}T09:00:00", "occurred_from": f"{n}T01:00:00"}
                for i in range(5)
            ])  # fmt: skip
            write_convictions(landing, n, [
                CONVICTION | {"conviction_id": f"C-{n}-{i}", "written_at": f"{n}T12:00:00",
                              "judgment_at": f"{n}"}
                for i in range(3)
            ])  # fmt: skip
        write_customs(
            landing, month,
            [VIOLATION | {"violation_id": f"V-{month}", "written_at": f"{month}-10T10:00:00",
                          "detected_at": f"{month}-09T10:00:00"}],
            [SEIZURE | {"violation_id": f"V-{month}"}],
        )  # fmt: skip
