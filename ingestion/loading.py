"""Loading one register's month partition into the raw schema, all or nothing per file.

Two sources deliver a partition's records: landing files (here) and a register's own
database (ingestion/database). Both hand `PartitionRecords` to `prepare_partition`, so
validation, pseudonymisation, quarantine and accounting are one code path.

From landing files, everything of a partition is replaced in one transaction: loading twice
equals loading once, and a run killed half-way leaves the previous state (DuckDB rolls the
transaction back). Files that cannot be read are left out whole, the readable ones are
loaded, and the partition then fails with a message naming each unreadable file.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import duckdb
import polars as pl

from crimestat.settings import Settings
from ingestion.contracts import (
    FILE_LOADS,
    QUARANTINE,
    RAW_TABLES_BY_REGISTER,
    SOURCE_WATERMARKS,
)
from ingestion.errors import PartitionLoadError, UnreadableFile
from ingestion.key_check import check_pseudonymisation_key
from ingestion.landing import file_sha256, landing_label
from ingestion.records import FileRecords
from ingestion.registers import REGISTER_MODULES
from ingestion.warehouse import ensure_raw_schema, transaction

T = TypeVar("T")


@dataclass
class PartitionReport:
    """What a partition load did, per file and per quarantine rule."""

    register: str
    partition: str
    files: pl.DataFrame  # FILE_LOADS columns
    quarantined_by_rule: dict[str, int]
    rows_by_table: dict[str, int]
    failures: list[UnreadableFile] = field(default_factory=list)

    def raise_for_unreadable_files(self) -> None:
        if self.failures:
            raise PartitionLoadError(self.register, self.partition, self.failures)

    @property
    def rows_read(self) -> int:
        return int(self.files["rows_read"].sum())

    @property
    def rows_loaded(self) -> int:
        return int(self.files["rows_loaded"].sum())

    @property
    def rows_quarantined(self) -> int:
        return int(self.files["rows_quarantined"].sum())


@dataclass(frozen=True)
class PartitionRecords:
    """A month's records as one source delivered them, before any judging.

    A batch is a landing file or one pull of a register database's table; each has its
    checksum. `failures` are batches that could not be read at all.
    """

    batches: list[FileRecords]
    checksums: dict[str, str]
    failures: list[UnreadableFile] = field(default_factory=list)


@dataclass(frozen=True)
class PreparedPartition:
    """Raw table frames, quarantine and per-batch accounting of a partition, not yet written."""

    tables: dict[str, pl.DataFrame]
    quarantine: pl.DataFrame
    files: pl.DataFrame  # FILE_LOADS columns


def read_partition_files(
    register: str, partition: str, landing_dir: Path, settings: Settings
) -> PartitionRecords:
    module = REGISTER_MODULES[register]
    readable: list[FileRecords] = []
    checksums: dict[str, str] = {}
    failures: list[UnreadableFile] = []
    for path in module.partition_files(landing_dir, partition):
        label = landing_label(path, landing_dir)
        try:
            records = module.read_file(path, label, settings)
        except UnreadableFile as failure:
            failures.append(failure)
            continue
        readable.append(records)
        checksums[label] = file_sha256(path)
    return PartitionRecords(readable, checksums, failures)


def prepare_partition(
    register: str, partition: str, records: PartitionRecords, settings: Settings
) -> PreparedPartition:
    """Judge, pseudonymise and account for the records: the same for every source."""
    module = REGISTER_MODULES[register]
    readable = records.batches
    rows = pl.concat([r.rows for r in readable], how="diagonal") if readable else None
    if rows is None or rows.is_empty():
        tables = {t.name: pl.DataFrame() for t in RAW_TABLES_BY_REGISTER[register]}
        judged_quarantine = pl.DataFrame()
    else:
        tables, judged_quarantine = module.raw_tables(rows, settings)
    quarantine = (
        pl.concat([r.rejected for r in readable] + [judged_quarantine], how="diagonal_relaxed")
        if readable
        else pl.DataFrame(schema={"_file": pl.String, "_line": pl.Int64})
    )
    # Nothing of a person past the door: the one masking, for files and databases alike.
    quarantine = module.masked_quarantine(quarantine)
    loaded_lines = (
        pl.concat(
            [t.select("_file", "_line") for t in tables.values() if t.height], how="vertical"
        ).unique()
        if any(t.height for t in tables.values())
        else pl.DataFrame(schema={"_file": pl.String, "_line": pl.Int64})
    )
    files = pl.DataFrame(
        {
            "register": [register] * len(readable),
            "_partition": [partition] * len(readable),
            "_file": [r.label for r in readable],
            "sha256": [records.checksums[r.label] for r in readable],
            "rows_read": [r.rows_read for r in readable],
        },
        schema={
            "register": pl.String,
            "_partition": pl.String,
            "_file": pl.String,
            "sha256": pl.String,
            "rows_read": pl.Int64,
        },
    ).with_columns(
        _count_per_file(loaded_lines, "rows_loaded"),
        _count_per_file(quarantine, "rows_quarantined"),
        pl.lit(datetime.now()).alias("loaded_at"),
    )
    return PreparedPartition(tables, quarantine, files)


def _count_per_file(frame: pl.DataFrame, name: str) -> pl.Expr:
    counts = dict(frame.group_by("_file").len().iter_rows()) if frame.height else {}
    return pl.col("_file").replace_strict(counts, default=0, return_dtype=pl.Int64).alias(name)


def delete_partition(con: duckdb.DuckDBPyConnection, register: str, partition: str) -> None:
    """Everything the partition holds, its accounting and its pull watermarks included."""
    for table in RAW_TABLES_BY_REGISTER[register]:
        con.execute(f"delete from {table.qualified} where _partition = ?", [partition])
    for table in (QUARANTINE, FILE_LOADS, SOURCE_WATERMARKS):
        con.execute(
            f"delete from {table.qualified} where register = ? and _partition = ?",
            [register, partition],
        )


def insert_partition(
    con: duckdb.DuckDBPyConnection, register: str, partition: str, prepared: PreparedPartition
) -> None:
    """Add the prepared rows to the partition (inside the caller's transaction)."""
    for table in RAW_TABLES_BY_REGISTER[register]:
        frame = prepared.tables.get(table.name)
        if frame is not None and frame.height:
            _insert(
                con,
                table.qualified,
                table.column_names,
                frame.with_columns(pl.lit(partition).alias("_partition")),
            )
    if prepared.quarantine.height:
        _insert(
            con,
            QUARANTINE.qualified,
            QUARANTINE.column_names,
            prepared.quarantine.with_columns(
                pl.lit(register).alias("register"), pl.lit(partition).alias("_partition")
            ),
        )
    if prepared.files.height:
        _insert(con, FILE_LOADS.qualified, FILE_LOADS.column_names, prepared.files)


def write_partition(
    con: duckdb.DuckDBPyConnection, register: str, partition: str, prepared: PreparedPartition
) -> None:
    """Replace the partition in one transaction (idempotent, crash-safe)."""
    ensure_raw_schema(con)
    with transaction(con):
        delete_partition(con, register, partition)
        insert_partition(con, register, partition, prepared)


def _insert(
    con: duckdb.DuckDBPyConnection, qualified: str, columns: tuple[str, ...], frame: pl.DataFrame
) -> None:
    names = ", ".join(columns)
    con.register("incoming", frame.select(columns).to_arrow())
    try:
        con.execute(f"insert into {qualified} ({names}) select {names} from incoming")
    finally:
        con.unregister("incoming")


def partition_report(
    register: str, partition: str, prepared: PreparedPartition, failures: list[UnreadableFile]
) -> PartitionReport:
    quarantine = prepared.quarantine
    return PartitionReport(
        register=register,
        partition=partition,
        files=prepared.files,
        quarantined_by_rule=dict(quarantine.group_by("rule").len().iter_rows())
        if quarantine.height
        else {},
        rows_by_table={name: frame.height for name, frame in prepared.tables.items()},
        failures=failures,
    )


def read_and_prepare(
    register: str, partition: str, settings: Settings
) -> tuple[PreparedPartition, list[UnreadableFile]]:
    """A month of landing files read and judged, not yet written (runs in a worker)."""
    records = read_partition_files(register, partition, settings.landing_dir, settings)
    return prepare_partition(register, partition, records, settings), records.failures


def load_partitions(
    register: str, partitions: Sequence[str], settings: Settings
) -> Iterator[PartitionReport]:
    """Load months from landing files, in order, each in its own transaction; unreadable
    files are listed in the reports, not loaded.

    Reading and judging a month is CPU-bound Python and polars work, so with several months
    it runs in `settings.ingestion_workers` worker processes, while this process writes the
    prepared months in order over one connection (DuckDB admits one writer). At most one
    month per worker plus one waits in memory, whatever the number of months.
    """
    workers = min(settings.ingestion_workers, len(partitions))
    with contextlib.ExitStack() as stack:
        con = stack.enter_context(settings.warehouse())
        check_pseudonymisation_key(con, settings.pseudonymisation_key)  # before any write
        if workers > 1:
            pool = stack.enter_context(
                ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
            )
            prepare = functools.partial(pool.submit, read_and_prepare)
        else:
            prepare = functools.partial(_done, read_and_prepare)
        waiting = iter(partitions)
        queue = deque(
            (partition, prepare(register, partition, settings))
            for partition in itertools.islice(waiting, workers + 1)
        )
        while queue:
            partition, future = queue.popleft()
            prepared, failures = future.result()
            for following in itertools.islice(waiting, 1):
                queue.append((following, prepare(register, following, settings)))
            write_partition(con, register, partition, prepared)
            yield partition_report(register, partition, prepared, failures)


def load_partition(register: str, partition: str, settings: Settings) -> PartitionReport:
    """Load one month from landing files (see load_partitions)."""
    return next(load_partitions(register, [partition], settings))


def _done(function: Callable[..., T], *args: object) -> Future[T]:
    """`function(*args)` run here and now, as a future (no worker for a single month)."""
    future: Future[T] = Future()
    future.set_result(function(*args))
    return future
