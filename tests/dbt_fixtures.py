"""Helpers for the dbt tests: a raw warehouse in a temporary data directory, hand-written rows
inserted into it, and dbt run in process against it.

The rows themselves are always written by hand in the tests; these helpers only fill the
columns a test does not care about (agency, channel, lineage ...) with fixed values, so each
row in a test shows exactly what matters for the rule it checks.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from core.contracts import (
    ALL_RAW_TABLES,
    CONVICTION_OFFENCES,
    CONVICTION_VERSIONS,
    CUSTOMS_SEIZURES,
    CUSTOMS_VIOLATION_VERSIONS,
    INCIDENT_VERSIONS,
    RAW_TABLES_BY_REGISTER,
    RawTable,
)
from ingestion.loading import numbered_loads
from orchestration.dbt_assets import environment as dbt_process_environment

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"

MARTS = (
    "recorded_offences",
    "recorded_offences_annual",
    "solved_offences",
    "persons_convicted",
    "persons_convicted_by_citizenship",
    "customs_violations",
    "customs_seizures",
    "unmapped_offence_codes",
)
MONTHLY_MARTS = (
    "recorded_offences",
    "solved_offences",
    "customs_violations",
    "customs_seizures",
    "persons_convicted_by_citizenship",
)


def warehouse_path(home: Path) -> Path:
    return home / "warehouse.duckdb"


def create_raw_warehouse(home: Path) -> Path:
    """A fresh warehouse file under `home` with schema raw and every raw table, empty."""
    home.mkdir(parents=True, exist_ok=True)
    path = warehouse_path(home)
    with contextlib.closing(duckdb.connect(str(path))) as con:
        con.execute("create schema if not exists raw")
        for table in ALL_RAW_TABLES:
            con.execute(table.ddl())
    return path


class RawWriter:
    """Inserts hand-written register rows, filling the columns a test does not set.

    Lineage follows the landing layout of core/contracts.py: the partition is the month
    of written_at unless given, the file is the day's (incidents, convictions) or the month's
    (customs) extract, and lines are numbered from 2 (line 1 = header) per file.
    """

    def __init__(self, home: Path) -> None:
        self.home = home
        self._next_line: dict[str, int] = defaultdict(lambda: 2)

    def _lineage(self, row: dict[str, Any], register: str, stem: str, ext: str) -> None:
        partition = row.setdefault("_partition", str(row["written_at"])[:7])
        if "_file" not in row:
            period = str(row["written_at"])[:10] if register != "customs" else partition
            row["_file"] = f"{register}/{partition}/{stem}_{period}.{ext}"
        if "_line" not in row:
            row["_line"] = self._next_line[row["_file"]]
            self._next_line[row["_file"]] += 1

    def incidents(self, rows: Sequence[dict[str, Any]]) -> None:
        full_rows = []
        for given in rows:
            row = {
                "agency_code": "POL-001",
                "channel": "in_person",
                "call_112_id": None,
                "event_kind": "criminal",
                "attempt": False,
                "occurred_to": None,
                "lat": None,
                "lon": None,
                "victims": 1,
                "damage_eur": 0,
                "pretrial_started_at": None,
                "decision_at": None,
                **given,
            }
            row.setdefault("registered_at", row["pretrial_started_at"] or row["written_at"])
            row.setdefault("occurred_from", row["registered_at"])
            self._lineage(row, "incidents", "incidents", "csv.gz")
            full_rows.append(row)
        self._insert(INCIDENT_VERSIONS, full_rows)

    def convictions(self, rows: Sequence[dict[str, Any]]) -> None:
        """Conviction versions; each row's `offences` is a list of
        (offence_code, attempt, is_main) and lands in raw.conviction_offences."""
        versions, offences = [], []
        for given in rows:
            row = {
                "sex": "M",
                "citizenship": "LT",
                "court_code": "APYL-01",
                "status": "final",
                "sentence_months": None,
                "fine_eur": None,
                "ecris_member_state": None,
                **given,
            }
            row.setdefault("judgment_at", row.get("final_at") or str(row["written_at"])[:10])
            row.setdefault("birth_year", int(str(row["judgment_at"])[:4]) - row["age_at_judgment"])
            self._lineage(row, "convictions", "convictions", "jsonl.gz")
            for seq, (code, attempt, is_main) in enumerate(row.pop("offences"), start=1):
                offences.append(
                    {
                        "conviction_id": row["conviction_id"],
                        "version": row["version"],
                        "offence_seq": seq,
                        "offence_code": code,
                        "attempt": attempt,
                        "is_main": is_main,
                        "_partition": row["_partition"],
                        "_file": row["_file"],
                        "_line": row["_line"],
                    }
                )
            versions.append(row)
        self._insert(CONVICTION_VERSIONS, versions)
        self._insert(CONVICTION_OFFENCES, offences)

    def customs(self, rows: Sequence[dict[str, Any]]) -> None:
        """Violation versions (with `_partition` = the monthly export); each row's `seizures`
        is a list of (line_no, goods_category, quantity, unit, value_eur) delivered in the
        same month's seizures file."""
        violations, seizures = [], []
        for given in rows:
            row = {
                "unit_code": "MU-01",
                "task_id": None,
                "customs_post": "Medininkai",
                "lat": None,
                "lon": None,
                "offender_citizenship": "LT",
                "vehicle_type": "car",
                **given,
            }
            self._lineage(row, "customs", "violations", "csv")
            seizure_file = f"customs/{row['_partition']}/seizures_{row['_partition']}.csv"
            for line_no, category, quantity, unit, value in row.pop("seizures", ()):
                seizures.append(
                    {
                        "violation_id": row["violation_id"],
                        "line_no": line_no,
                        "cn_code": "24022090",
                        "goods_category": category,
                        "quantity": quantity,
                        "unit": unit,
                        "value_eur": value,
                        "_partition": row["_partition"],
                        "_file": seizure_file,
                        "_line": self._next_line[seizure_file],
                    }
                )
                self._next_line[seizure_file] += 1
            violations.append(row)
        self._insert(CUSTOMS_VIOLATION_VERSIONS, violations)
        self._insert(CUSTOMS_SEIZURES, seizures)

    def _insert(self, table: RawTable, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        names = table.column_names
        for row in rows:
            unknown = set(row) - set(names)
            assert not unknown, f"{table.name}: unknown columns {sorted(unknown)}"
        placeholders = ", ".join("?" for _ in names)
        values = [[row.get(name) for name in names] for row in rows]
        with contextlib.closing(duckdb.connect(str(warehouse_path(self.home)))) as con:
            con.executemany(
                f"insert into {table.qualified} ({', '.join(names)}) values ({placeholders})",
                values,
            )
            _record_loads(con, table, {(row["_partition"], row["_file"]) for row in rows})


def _record_loads(
    con: duckdb.DuckDBPyConnection, table: RawTable, files: set[tuple[str, str]]
) -> None:
    """Every file that rows were written to counts as loaded now, as the ingestion records it
    (a file written to again counts as delivered again: a new load number), so the staging
    models, which read only loaded files, take the rows in."""
    register = next(r for r, tables in RAW_TABLES_BY_REGISTER.items() if table in tables)
    partitions, names = zip(*sorted(files), strict=True)
    files = pl.DataFrame({"register": register, "_partition": partitions, "_file": names})
    loads = numbered_loads(
        con,
        files.with_columns(
            sha256=pl.lit("written by a test"),
            rows_read=0,
            rows_loaded=0,
            rows_quarantined=0,
            loaded_at=pl.lit(dt.datetime.now()),
        ),
    )
    con.register("loads", loads.to_arrow())
    con.execute(
        "delete from raw.file_loads using loads where file_loads.register = loads.register "
        "and file_loads._partition = loads._partition and file_loads._file = loads._file"
    )
    con.execute("insert into raw.file_loads by name select * from loads")
    con.unregister("loads")


@dataclass
class DbtRun:
    """What one dbt invocation did: overall success, each node's status, wall time."""

    success: bool
    seconds: float
    statuses: dict[str, str] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)
    exception: BaseException | None = None

    def failed_nodes(self) -> dict[str, str]:
        return {
            name: status
            for name, status in self.statuses.items()
            if status not in ("pass", "success", "warn")
        }


def run_dbt(
    home: Path,
    *args: str,
    dbt_vars: dict[str, Any] | None = None,
    environment: dict[str, str] | None = None,
) -> DbtRun:
    """Run one dbt command in process against the warehouse under `home`, with `environment`
    added to the process environment for the run.

    Target and log paths go under `home`, so a run leaves nothing in the repository.
    """
    from dbt.cli.main import dbtRunner

    command = [
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(home / "dbt_target"),
        "--log-path",
        str(home / "dbt_logs"),
        "--quiet",
    ]
    if dbt_vars:
        command += ["--vars", json.dumps(dbt_vars)]
    started = time.perf_counter()
    with dbt_process_environment(
        {"CRIMESTAT_HOME": str(home), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        | (environment or {})
    ):
        outcome = dbtRunner().invoke(command)
    run = DbtRun(
        success=outcome.success,
        seconds=time.perf_counter() - started,
        exception=outcome.exception,
    )
    for result in getattr(outcome.result, "results", None) or ():
        run.statuses[result.node.name] = str(result.status)
        run.messages[result.node.name] = result.message or ""
    return run


def fetch(home: Path, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """Rows of a query on the warehouse, as dicts."""
    with contextlib.closing(duckdb.connect(str(warehouse_path(home)))) as con:
        cursor = con.execute(sql, list(params))
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def snapshot_marts(home: Path) -> dict[str, list[dict[str, Any]]]:
    """Every mart's rows, in a stable order: what a release would publish."""
    return {mart: fetch(home, f"select * from marts.{mart} order by all") for mart in MARTS}
