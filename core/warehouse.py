"""The DuckDB warehouse file: connections that wait their turn, and the raw schema.

DuckDB admits one writing process per file. Steps of a Dagster run (or a second run), dbt
included, that need the file wait for the lock (CRIMESTAT_LOCK_WAIT_SECONDS) instead of failing
at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from core.contracts import (
    ALL_RAW_TABLES,
    FILE_LOAD_HISTORY,
    FILE_LOADS,
    LOAD_SEQ,
    REGISTERS_TIMEZONE,
)

T = TypeVar("T")

# How long a connection waits for the warehouse's lock by default (the setting
# CRIMESTAT_LOCK_WAIT_SECONDS overrides it): a nightly run's longest step.
LOCK_WAIT_SECONDS = 600.0


@contextmanager
def warehouse_connection(
    path: Path,
    *,
    read_only: bool = False,
    wait_seconds: float = LOCK_WAIT_SECONDS,
    memory_limit: str | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """`memory_limit` (the deployment's setting, e.g. '1GB') bounds DuckDB's buffers, which
    spill to disk beyond it; None keeps DuckDB's default of 80% of the machine's memory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = connect_waiting(str(path), wait_seconds=wait_seconds, read_only=read_only)
    try:
        if memory_limit:
            # Set, not passed as connect config: DuckDB refuses a second connection of the
            # same process to the same file with a different config.
            con.execute(f"set memory_limit = '{memory_limit}'")
        yield con
    finally:
        con.close()


def connect_waiting(
    path: str,
    *,
    wait_seconds: float = LOCK_WAIT_SECONDS,
    connect: Callable[..., duckdb.DuckDBPyConnection] = duckdb.connect,
    **options: Any,
) -> duckdb.DuckDBPyConnection:
    """`connect(path, **options)`, waiting while another process holds the file's lock; dbt's
    connections wait through the same loop (core.dbt_lock_wait)."""
    return wait_for_lock(lambda: connect(path, **options), wait_seconds)


def attach_waiting(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    catalog: str,
    *,
    wait_seconds: float = LOCK_WAIT_SECONDS,
) -> None:
    """ATTACH the warehouse file READ_ONLY as `catalog`, waiting while a writer holds it."""
    wait_for_lock(
        lambda: con.execute(f"attach '{path}' as \"{catalog}\" (read_only)"), wait_seconds
    )


def wait_for_lock(attempt: Callable[[], T], wait_seconds: float) -> T:
    """`attempt()`, retried with back-off while another process holds a DuckDB file's lock,
    for up to `wait_seconds` (the setting CRIMESTAT_LOCK_WAIT_SECONDS)."""
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    while True:
        try:
            return attempt()
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(min(delay, max(0.0, deadline - time.monotonic()) + 0.01))
            delay = min(delay * 2, 2.0)


def relation_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    """Whether the database `con` opened (not one attached to it) has this table or view."""
    return bool(
        con.execute(
            "select count(*) from information_schema.tables "
            "where table_catalog = current_database() and table_schema = ? and table_name = ?",
            [schema, name],
        ).fetchone()[0]
    )


@dataclass(frozen=True)
class Column:
    data_type: str
    nullable: bool


def column(con: duckdb.DuckDBPyConnection, schema: str, table: str, name: str) -> Column | None:
    """The column as the database `con` opened has it, None when the table or column is not
    there: what the upgrades of older warehouses ask before they change anything."""
    found = con.execute(
        "select data_type, is_nullable from information_schema.columns where table_catalog = "
        "current_database() and table_schema = ? and table_name = ? and column_name = ?",
        [schema, table, name],
    ).fetchall()
    return Column(found[0][0], found[0][1] == "YES") if found else None


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """All or nothing: a failure (or a kill) before the commit leaves the previous state."""
    con.execute("begin transaction")
    try:
        yield
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists raw")
    for table in ALL_RAW_TABLES:
        con.execute(table.ddl())
    _watermarks_as_instants(con)
    _loads_numbered(con)


def _watermarks_as_instants(con: duckdb.DuckDBPyConnection) -> None:
    """Warehouses made before watermarks were instants kept them as the registers' local
    wall-clock time: read them as such, once."""
    found = column(con, "raw", "source_watermarks", "watermark")
    if found and found.data_type == "TIMESTAMP":
        zone = REGISTERS_TIMEZONE
        con.execute(
            "alter table raw.source_watermarks alter watermark set data type timestamptz "
            f"using timezone('{zone}', watermark)"
        )


def _loads_numbered(con: duckdb.DuckDBPyConnection) -> None:
    """Warehouses made before loads were numbered (`load_seq`): number their loads, retired
    and current, in the order they were loaded, once. Their staging tables predate the
    number too, so the next dbt build rebuilds them whole (`--full-refresh`). The column
    becomes NOT NULL after the numbers are committed (DuckDB does not take both in one
    transaction), and again on the next start should a crash fall between the two."""
    found = column(con, "raw", FILE_LOADS.name, LOAD_SEQ)
    if found and not found.nullable:
        return
    tables = (FILE_LOAD_HISTORY.qualified, FILE_LOADS.qualified)
    if not found:
        with transaction(con):
            for table in tables:  # the history may be new, made with the column
                con.execute(f"alter table {table} add column if not exists {LOAD_SEQ} bigint")
            con.execute(
                "create temporary table load_numbers as select register, _partition, _file, "
                "loaded_at, row_number() over (order by loaded_at, register, _partition, _file) "
                f"as {LOAD_SEQ} from (select register, _partition, _file, loaded_at from "
                f"{tables[0]} union all select register, _partition, _file, loaded_at from "
                f"{tables[1]})"
            )
            for table in tables:
                con.execute(
                    f"update {table} set {LOAD_SEQ} = n.{LOAD_SEQ} from load_numbers as n "
                    f"where {table}.register = n.register and {table}._partition = n._partition "
                    f"and {table}._file = n._file and {table}.loaded_at = n.loaded_at"
                )
            con.execute("drop table load_numbers")
    for table in tables:
        con.execute(f"alter table {table} alter column {LOAD_SEQ} set not null")
