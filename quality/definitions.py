"""What a suite is: the asset it guards and its checks, each a frame with its expectations.

Two kinds of check, because of how the work is split (see README.md): DuckDB selects or
computes a frame, GX validates it as a pandas batch.
  - RowsCheck: the raw rows of one table, in batches of consecutive month partitions;
  - FrameCheck: a frame computed by SQL (the mart itself, a reconciliation, the duplicated
    keys ...), small whatever the size of the warehouse.
Expectations are built per run from the reference data (code lists, today's date), so a
check is declared once as a function of `References`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import duckdb
import polars as pl
from great_expectations.expectations import Expectation

from core.contracts import RawTable
from quality.references import References

Severity = Literal["critical", "warning"]
CRITICAL: Severity = "critical"  # blocking: publication downstream stops (Dagster ERROR)
WARNING: Severity = "warning"  # shown, not blocking (Dagster WARN)

ExpectationFactory = Callable[[References], list[Expectation]]
# A check frame: the connection, the run's references and the month partitions in scope
# (None = all; only raw suites are scoped) -> the frame GX validates.
FrameQuery = Callable[[duckdb.DuckDBPyConnection, References, Sequence[str] | None], pl.DataFrame]


@dataclass(frozen=True)
class RowsCheck:
    """The raw rows of one table, validated batch by batch of month partitions.

    `derived` columns are computed by DuckDB in the same select (e.g. the first broken date
    order rule of a row), so GX checks one column instead of re-implementing a rule per row.
    """

    table: RawTable
    keys: tuple[str, ...]  # identify a failing row in the report
    expectations: ExpectationFactory
    derived: tuple[tuple[str, str], ...] = ()  # (column name, SQL expression)

    @property
    def name(self) -> str:
        return self.table.qualified

    @property
    def description(self) -> str:
        return f"the register contract on every row of {self.table.qualified}"


@dataclass(frozen=True)
class FrameCheck:
    """A frame computed by SQL, validated whole."""

    name: str
    description: str
    keys: tuple[str, ...]  # identify a failing row in the report
    query: FrameQuery
    expectations: ExpectationFactory


Check = RowsCheck | FrameCheck


@dataclass(frozen=True)
class Suite:
    """The expectations guarding one Dagster asset (`asset_key` is its key path)."""

    name: str
    asset_key: tuple[str, ...]
    description: str
    checks: tuple[Check, ...]
    partitioned: bool = False  # raw suites: validated per month partition
