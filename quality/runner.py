"""Running a suite: DuckDB selects or computes each check's frames, GX validates them.

Raw rows are validated in batches of consecutive month partitions of at most
MAX_BATCH_ROWS rows, holding only the columns the expectations read: memory stays bounded
whatever the size of the warehouse, and GX is called a few times, not once per partition.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import duckdb
import pandas as pd

from core.contracts import MONTH_PATTERN
from core.settings import Settings
from quality.definitions import CRITICAL, Check, RowsCheck, Suite
from quality.references import References, load_references
from quality.results import ExpectationOutcome, SuiteResult, suite_result
from quality.suites import SUITES
from quality.validation import gx_frame, outcomes, validate

MAX_BATCH_ROWS = 1_000_000


def run_suite(
    con: duckdb.DuckDBPyConnection,
    suite_name: str,
    *,
    partitions: Sequence[str] | None = None,
    context: Any = None,
    settings: Settings,
    now: datetime | None = None,
    max_batch_rows: int = MAX_BATCH_ROWS,
) -> SuiteResult:
    """Validate one suite on the warehouse behind `con`.

    partitions: month keys 'YYYY-MM' of raw._partition (raw suites only; None = all).
    context: anything with a `.log` logger (a Dagster context) to report progress to.
    settings: the deployment's (where the reference seeds are, the country's bounds).
    now: what "today" is (default: the current local time, as the registers write local
    time).
    """
    suite = _suite(suite_name, partitions)
    references = load_references(settings, now or datetime.now())
    started_at, clock = datetime.now(), time.perf_counter()
    found: list[ExpectationOutcome] = []
    validations: list[tuple[str, Any]] = []
    for check in suite.checks:
        try:
            for batch, frame in _frames(con, suite, check, references, partitions, max_batch_rows):
                # fresh expectation objects per batch: a GX suite owns the ones it holds
                validation = validate(
                    frame,
                    suite=suite.name,
                    asset=check.name,
                    expectations=check.expectations(references),
                )
                validations.append((batch, validation))
                found += outcomes(validation, frame, check=check.name, keys=check.keys, batch=batch)
                _log(context, f"{suite.name}: {batch}: {len(frame)} rows validated")
        except duckdb.Error as error:
            found.append(_query_failure(check, error))
            _log(context, f"{suite.name}: {check.name}: query failed: {error}")
    return suite_result(
        suite=suite.name,
        asset_key=suite.asset_key,
        partitions=partitions,
        outcomes=found,
        started_at=started_at,
        seconds=time.perf_counter() - clock,
        validations=validations,
    )


def _suite(name: str, partitions: Sequence[str] | None) -> Suite:
    if name not in SUITES:
        raise KeyError(f"unknown suite {name!r}; suites: {', '.join(SUITES)}")
    suite = SUITES[name]
    if partitions is not None:
        if not suite.partitioned:
            raise ValueError(f"suite {name} checks whole marts: partitions do not apply")
        malformed = [p for p in partitions if not MONTH_PATTERN.match(p)]
        if malformed:
            raise ValueError(f"partitions must look like YYYY-MM, got {malformed}")
    return suite


def _frames(
    con: duckdb.DuckDBPyConnection,
    suite: Suite,
    check: Check,
    references: References,
    partitions: Sequence[str] | None,
    max_batch_rows: int,
) -> Iterator[tuple[str, pd.DataFrame]]:
    if isinstance(check, RowsCheck):
        yield from _row_batches(con, check, references, partitions, max_batch_rows)
        return
    frame = check.query(con, references, partitions if suite.partitioned else None)
    scope = (
        (" " + _span(partitions) if partitions else " all partitions") if suite.partitioned else ""
    )
    yield f"{check.name}{scope}", gx_frame(frame, check.keys)


def _row_batches(
    con: duckdb.DuckDBPyConnection,
    check: RowsCheck,
    references: References,
    partitions: Sequence[str] | None,
    max_batch_rows: int,
) -> Iterator[tuple[str, pd.DataFrame]]:
    table = check.table.qualified
    scope = "true" if partitions is None else "_partition in (select unnest($partitions))"
    params = {} if partitions is None else {"partitions": list(partitions)}
    counts = con.sql(
        f"select _partition, count(*) from {table} where {scope} group by 1 order by 1",
        params=params or None,
    ).fetchall()
    columns = _columns(con, check, references)
    derived = [f"{expression} as {name}" for name, expression in check.derived]
    select = ", ".join([*columns, *derived])
    for batch in plan_batches(counts, max_batch_rows):
        rows = con.sql(
            f"select {select} from {table} where _partition in (select unnest($partitions))",
            params={"partitions": batch},
        )
        # converted in one expression: the polars frame is not kept alive during validation
        yield f"{check.name} {_span(batch)}", gx_frame(rows.pl(), check.keys)


def plan_batches(counts: Sequence[tuple[str, int]], max_rows: int) -> list[list[str]]:
    """Consecutive partitions grouped while their rows fit in max_rows (a bigger partition
    forms a batch of its own)."""
    batches: list[list[str]] = []
    rows = 0
    for partition, n in sorted(counts):
        if batches and rows + n <= max_rows:
            batches[-1].append(partition)
            rows += n
        else:
            batches.append([partition])
            rows = n
    return batches


def _columns(con: duckdb.DuckDBPyConnection, check: RowsCheck, references: References):
    """The table's columns that the keys and expectations read, in table order (a missing
    column is left out: the schema check reports it, its expectations fail on it)."""
    needed = set(check.keys)
    for expectation in check.expectations(references):
        kwargs = expectation.configuration.kwargs
        needed.update(
            kwargs.get(name) for name in ("column", "column_A", "column_B") if kwargs.get(name)
        )
        needed.update(kwargs.get("column_list") or ())
        needed.update(_condition_columns(expectation.row_condition))
    schema_name, table_name = check.table.qualified.split(".")
    present = con.execute(
        "select column_name from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema_name, table_name],
    ).fetchall()
    return [name for (name,) in present if name in needed]


def _condition_columns(condition: Any) -> set[str]:
    if condition is None or isinstance(condition, str):
        return set()
    if hasattr(condition, "conditions"):
        return set().union(*(_condition_columns(c) for c in condition.conditions))
    return {condition.column.name}


def _span(partitions: Sequence[str]) -> str:
    first, last = min(partitions), max(partitions)
    return first if first == last else f"{first}..{last}"


def _query_failure(check: Check, error: duckdb.Error) -> ExpectationOutcome:
    """A frame that cannot be computed (a missing table, a changed column) fails its check:
    the asset check then records a blocking failure instead of no evaluation at all."""
    return ExpectationOutcome(
        expectation="check_query_runs",
        target=check.name,
        severity=CRITICAL,
        success=False,
        unexpected_count=None,
        failing_values=[],
        observed={"error": str(error).splitlines()[0]},
        batch=check.name,
    )


def _log(context: Any, message: str) -> None:
    log = getattr(context, "log", None)
    if log is not None:
        log.info(message)
