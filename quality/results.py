"""What a suite run found, and where it is kept: one row per expectation outcome in
`quality.check_results`, every run kept (the dashboards' quality page and the Dagster checks
read from there; Data Docs render the same runs)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from quality.definitions import CRITICAL, WARNING, Severity

RESULTS_TABLE = "quality.check_results"
RESULTS_DDL = f"""
create table if not exists {RESULTS_TABLE} (
    run_id varchar not null,
    checked_at timestamp not null,
    suite varchar not null,
    asset_key varchar not null,
    batch varchar not null,
    expectation varchar not null,
    target varchar not null,
    severity varchar not null,
    success boolean not null,
    unexpected_count bigint,
    failing_values varchar not null,
    observed varchar not null
)
"""


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation on one batch. `failing_values` is a short sample: the failing rows'
    keys with the offending value (or the values themselves); `unexpected_count` is None
    when the expectation could not be evaluated (then `observed` holds the error)."""

    expectation: str
    target: str
    severity: Severity
    success: bool
    unexpected_count: int | None
    failing_values: list[Any]
    observed: Any
    batch: str


@dataclass(frozen=True)
class SuiteResult:
    """A suite run on one connection. success_critical False = block publication."""

    suite: str
    asset_key: tuple[str, ...]
    partitions: tuple[str, ...] | None
    success_critical: bool
    success_warning: bool
    outcomes: list[ExpectationOutcome]
    started_at: datetime
    seconds: float
    # The GX validation results behind the outcomes, for Data Docs.
    validations: list[Any] = field(default_factory=list, repr=False, compare=False)

    def failed(self, severity: Severity | None = None) -> list[ExpectationOutcome]:
        return [
            o
            for o in self.outcomes
            if not o.success and (severity is None or o.severity == severity)
        ]

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable summary (e.g. asset check metadata)."""
        return {
            "suite": self.suite,
            "asset_key": list(self.asset_key),
            "partitions": list(self.partitions) if self.partitions is not None else None,
            "success_critical": self.success_critical,
            "success_warning": self.success_warning,
            "expectations": len(self.outcomes),
            "failed": [asdict(o) for o in self.failed()],
            "seconds": round(self.seconds, 3),
        }


def suite_result(
    *,
    suite: str,
    asset_key: tuple[str, ...],
    partitions: Sequence[str] | None,
    outcomes: list[ExpectationOutcome],
    started_at: datetime,
    seconds: float,
    validations: list[Any],
) -> SuiteResult:
    def all_passed(severity: Severity) -> bool:
        return all(o.success for o in outcomes if o.severity == severity)

    return SuiteResult(
        suite=suite,
        asset_key=asset_key,
        partitions=tuple(partitions) if partitions is not None else None,
        success_critical=all_passed(CRITICAL),
        success_warning=all_passed(WARNING),
        outcomes=outcomes,
        started_at=started_at,
        seconds=seconds,
        validations=validations,
    )


def jsonable(value: Any) -> Any:
    """Values from pandas, numpy and GX as plain JSON types (NaN and NaT as null)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.isoformat()
    return str(value)


def store_results(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    results: Sequence[SuiteResult],
    checked_at: datetime,
) -> None:
    """Append the outcomes of a run; storing the same run and suite again replaces them (a
    retried Dagster step does not count twice)."""
    rows = [
        (
            run_id,
            checked_at,
            result.suite,
            "/".join(result.asset_key),
            o.batch,
            o.expectation,
            o.target,
            o.severity,
            o.success,
            o.unexpected_count,
            json.dumps(jsonable(o.failing_values), ensure_ascii=False),
            json.dumps(jsonable(o.observed), ensure_ascii=False),
        )
        for result in results
        for o in result.outcomes
    ]
    con.execute("create schema if not exists quality")
    con.execute(RESULTS_DDL)
    con.execute("begin transaction")
    try:
        con.execute(
            f"delete from {RESULTS_TABLE} where run_id = ? and suite in (select unnest(?))",
            [run_id, [r.suite for r in results]],
        )
        if rows:
            con.executemany(f"insert into {RESULTS_TABLE} values ({', '.join('?' * 12)})", rows)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
