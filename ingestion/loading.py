"""Loading one register's month partition into the raw schema: per file, never forgetting.

Two sources deliver a partition's records: landing files (here) and a register's own
database (ingestion/database). Both hand `PartitionRecords` to `prepare_partition`, so
validation, pseudonymisation, quarantine and accounting are one code path, and both write
through `apply_batches`.

A batch (a landing file, or one pull of a database table) is loaded once per content: its
name (`_file`) and the SHA-256 of the bytes actually parsed. Loading a month again skips the
batches already loaded with the same content, adds new ones, replaces exactly the rows of a
batch re-delivered under its name with other content (the old load goes to
`raw.file_load_history`), and never touches rows of batches that are no longer delivered:
a landing file moved away keeps its versions. Versions leave only through `forget_files`
(`crimestat forget`), which names the files and is logged.

A version (record key) already loaded from another batch of the month is a duplicate: new
batches are judged against the warehouse inside the writing transaction, so loading files
one by one gives what loading the month at once gives, when files arrive in name order.

Everything a month writes is one transaction: loading twice equals loading once, and a run
killed half-way leaves the previous state (DuckDB rolls the transaction back). Files that
cannot be read are left out whole (their earlier content, if any, stays), the readable ones
are loaded, and the partition then fails with a message naming each unreadable file.
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

from core.contracts import (
    FILE_LOAD_HISTORY,
    FILE_LOADS,
    LOAD_SEQ,
    QUARANTINE,
    RAW_TABLES_BY_REGISTER,
    RawTable,
)
from core.files import sha256_of
from core.settings import Settings
from core.warehouse import ensure_raw_schema, transaction
from ingestion.errors import InsertError, PartitionLoadError, UnreadableFile
from ingestion.key_check import check_pseudonymisation_key
from ingestion.landing import landing_label
from ingestion.records import QUARANTINE_COLUMNS, FileRecords
from ingestion.registers import REGISTER_MODULES

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


# Record keys of the raw tables that hold versions: a key already in the partition (from
# another batch) makes an incoming row a duplicate. Rows of the other tables of the register
# at the same file line (a conviction's offences) go with their version.
DUPLICATE_KEYS: dict[str, tuple[str, ...]] = {
    "incident_versions": ("event_id", "version"),
    "conviction_versions": ("conviction_id", "version"),
    "customs_violation_versions": ("violation_id", "version"),
    "customs_seizures": ("violation_id", "line_no"),
}
LINES_SCHEMA = {"_file": pl.String, "_line": pl.Int64}


def read_partition_files(
    register: str,
    partition: str,
    landing_dir: Path,
    settings: Settings,
    loaded: frozenset[tuple[str, str]] = frozenset(),
) -> PartitionRecords:
    """The month's landing files, read and hashed while streamed; files whose (name,
    SHA-256) is in `loaded` are not read again (the writer checks again, in its transaction)."""
    module = REGISTER_MODULES[register]
    readable: list[FileRecords] = []
    checksums: dict[str, str] = {}
    failures: list[UnreadableFile] = []
    for path in module.partition_files(landing_dir, partition):
        label = landing_label(path, landing_dir)
        if loaded and (label, sha256_of(path)) in loaded:
            continue
        try:
            records = module.read_file(path, label, settings)
        except UnreadableFile as failure:
            failures.append(failure)
            continue
        readable.append(records)
        # The hash of the bytes parsed, not of the file as it is after parsing.
        checksums[label] = records.sha256 or sha256_of(path)
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
        else pl.DataFrame(schema=QUARANTINE_COLUMNS)
    )
    # Nothing of a person past the door: the one masking, for files and databases alike.
    quarantine = module.masked_quarantine(quarantine)
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
    ).with_columns(pl.lit(datetime.now()).alias("loaded_at"))
    return _accounted(PreparedPartition(tables, quarantine, files))


def _accounted(prepared: PreparedPartition) -> PreparedPartition:
    """rows_loaded and rows_quarantined of each batch, from the frames themselves."""
    frames = [t.select("_file", "_line") for t in prepared.tables.values() if t.height]
    loaded_lines = (
        pl.concat(frames, how="vertical_relaxed").unique()
        if frames
        else pl.DataFrame(schema=LINES_SCHEMA)
    )
    files = prepared.files.with_columns(
        _count_per_file(loaded_lines, "rows_loaded"),
        _count_per_file(prepared.quarantine, "rows_quarantined"),
    ).select(*(name for name in FILE_LOADS.column_names if name != LOAD_SEQ))
    return PreparedPartition(prepared.tables, prepared.quarantine, files)


def _count_per_file(frame: pl.DataFrame, name: str) -> pl.Expr:
    counts = dict(frame.group_by("_file").len().iter_rows()) if frame.height else {}
    return pl.col("_file").replace_strict(counts, default=0, return_dtype=pl.Int64).alias(name)


def loaded_files(con: duckdb.DuckDBPyConnection, register: str, partition: str) -> dict[str, str]:
    """Batch name -> SHA-256 of what the partition holds now."""
    return dict(
        con.execute(
            f"select _file, sha256 from {FILE_LOADS.qualified} "
            "where register = ? and _partition = ?",
            [register, partition],
        ).fetchall()
    )


def apply_batches(
    con: duckdb.DuckDBPyConnection, register: str, partition: str, prepared: PreparedPartition
) -> PreparedPartition:
    """Write the prepared batches into the partition (inside the caller's transaction) and
    return what was written: a batch already loaded with the same SHA-256 is skipped, one
    loaded under its name with another SHA-256 replaces exactly that batch's rows, and rows
    of batches not in `prepared` stay as they are."""
    current = loaded_files(con, register, partition)
    incoming = dict(prepared.files.select("_file", "sha256").iter_rows())
    unchanged = {name for name, sha in incoming.items() if current.get(name) == sha}
    replaced: dict[str, str | None] = {
        name: sha for name, sha in incoming.items() if name in current and name not in unchanged
    }
    retire_files(con, register, partition, replaced, how="replaced")
    prepared = _without_files(prepared, unchanged)
    prepared = _judged_against_warehouse(con, register, partition, prepared)
    insert_partition(con, register, partition, prepared)
    return prepared


def retire_files(
    con: duckdb.DuckDBPyConnection,
    register: str,
    partition: str,
    files: dict[str, str | None],
    *,
    how: str,
) -> dict[str, int]:
    """Remove the rows of these batches (name -> SHA-256 of the content replacing it, None
    when forgotten) from the raw tables and quarantine, and move their `raw.file_loads` row
    to `raw.file_load_history`; rows removed per table. Inside the caller's transaction."""
    removed: dict[str, int] = {}
    if not files:
        return removed
    now = datetime.now()
    columns = ", ".join(FILE_LOADS.column_names)
    for name, new_sha in files.items():
        where = "register = ? and _partition = ? and _file = ?"
        params = [register, partition, name]
        con.execute(
            f"insert into {FILE_LOAD_HISTORY.qualified} "
            f"({columns}, superseded_at, superseded_how, superseded_by_sha256) "
            f"select {columns}, ?, ?, ? from {FILE_LOADS.qualified} where {where}",
            [now, how, new_sha, *params],
        )
        con.execute(f"delete from {FILE_LOADS.qualified} where {where}", params)
        for table in RAW_TABLES_BY_REGISTER[register]:
            (gone,) = con.execute(
                f"delete from {table.qualified} where _partition = ? and _file = ?",
                [partition, name],
            ).fetchone()
            removed[table.name] = removed.get(table.name, 0) + gone
        (gone,) = con.execute(
            f"delete from {QUARANTINE.qualified} where {where}", params
        ).fetchone()
        removed[QUARANTINE.name] = removed.get(QUARANTINE.name, 0) + gone
    return removed


def _without_files(prepared: PreparedPartition, files: set[str]) -> PreparedPartition:
    if not files:
        return prepared
    keep = ~pl.col("_file").is_in(list(files))
    return PreparedPartition(
        {name: t.filter(keep) if t.height else t for name, t in prepared.tables.items()},
        prepared.quarantine.filter(keep),
        prepared.files.filter(keep),
    )


def _judged_against_warehouse(
    con: duckdb.DuckDBPyConnection, register: str, partition: str, prepared: PreparedPartition
) -> PreparedPartition:
    """Valid rows whose version (record key) the partition already holds from another batch
    become quarantine rows `duplicate`, naming where the version was first seen; rows of the
    same file lines in the register's other tables go with them."""
    module = REGISTER_MODULES[register]
    found: list[pl.DataFrame] = []
    for table in RAW_TABLES_BY_REGISTER[register]:
        key = DUPLICATE_KEYS.get(table.name)
        frame = prepared.tables.get(table.name)
        if key is None or frame is None or not frame.height:
            continue
        names = ", ".join(key)
        existing = con.sql(
            f"select {names}, _file as _first_file, _line as _first from {table.qualified} "
            f"where _partition = $partition qualify row_number() over (partition by {names} "
            "order by _file, _line) = 1",
            params={"partition": partition},
        ).pl()
        if not existing.height:
            continue
        existing = existing.cast({k: frame.schema[k] for k in key} | {"_first": pl.Int64})
        label = "(" + ", ".join(key) + ")"
        found.append(
            frame.join(existing, on=list(key), how="inner").select(
                "_file",
                pl.col("_line").cast(pl.Int64),
                pl.lit(label).alias("field"),
                pl.lit("duplicate").alias("rule"),
                pl.concat_str(
                    pl.lit(f"duplicate of {label} first seen in "),
                    pl.col("_first_file"),
                    pl.lit(" line "),
                    pl.col("_first").cast(pl.String),
                ).alias("reason"),
                pl.col("_text").alias("record"),
            )
        )
    if not found or not any(f.height for f in found):
        return prepared
    duplicates = pl.concat(found).unique(["_file", "_line"], keep="first", maintain_order=True)
    lines = duplicates.select("_file", "_line")
    tables = {
        name: t.join(lines, on=["_file", "_line"], how="anti") if t.height else t
        for name, t in prepared.tables.items()
    }
    quarantine = pl.concat(
        [prepared.quarantine, module.masked_quarantine(duplicates.cast(QUARANTINE_COLUMNS))],
        how="diagonal_relaxed",
    )
    return _accounted(PreparedPartition(tables, quarantine, prepared.files))


def insert_partition(
    con: duckdb.DuckDBPyConnection, register: str, partition: str, prepared: PreparedPartition
) -> None:
    """Add the prepared rows to the partition (inside the caller's transaction)."""
    for table in RAW_TABLES_BY_REGISTER[register]:
        frame = prepared.tables.get(table.name)
        if frame is not None and frame.height:
            _insert(con, table, frame.with_columns(pl.lit(partition).alias("_partition")))
    if prepared.quarantine.height:
        _insert(
            con,
            QUARANTINE,
            prepared.quarantine.with_columns(
                pl.lit(register).alias("register"), pl.lit(partition).alias("_partition")
            ),
        )
    if prepared.files.height:
        _insert(con, FILE_LOADS, numbered_loads(con, prepared.files))


def numbered_loads(con: duckdb.DuckDBPyConnection, files: pl.DataFrame) -> pl.DataFrame:
    """The batches with the next load numbers (`load_seq`), after every number given so far,
    current or retired: a number is never given twice, so a model that took in the loads up
    to N has seen every load it will ever see numbered N or lower (one writer at a time)."""
    [(last,)] = con.execute(
        f"select coalesce(max({LOAD_SEQ}), 0) from (select {LOAD_SEQ} from "
        f"{FILE_LOADS.qualified} union all select {LOAD_SEQ} from {FILE_LOAD_HISTORY.qualified})"
    ).fetchall()
    return files.with_columns(
        pl.int_range(last + 1, last + 1 + files.height, dtype=pl.Int64).alias(LOAD_SEQ)
    )


def write_partition(
    con: duckdb.DuckDBPyConnection, register: str, partition: str, prepared: PreparedPartition
) -> PreparedPartition:
    """Apply the month's batches in one transaction (idempotent, crash-safe); what was
    written."""
    ensure_raw_schema(con)
    with transaction(con):
        return apply_batches(con, register, partition, prepared)


def _insert(con: duckdb.DuckDBPyConnection, table: RawTable, frame: pl.DataFrame) -> None:
    """Insert the frame; a value the table cannot hold raises `InsertError` naming the file,
    line and field. Nothing else is called on the connection after a failed insert: the
    caller's transaction rolls back first."""
    names = ", ".join(table.column_names)
    con.register("incoming", frame.select(table.column_names).to_arrow())
    try:
        con.execute(f"insert into {table.qualified} ({names}) select {names} from incoming")
    except duckdb.Error as exc:
        raise InsertError(table.qualified, _offending_value(table, frame), exc) from exc
    con.unregister("incoming")


def _offending_value(table: RawTable, frame: pl.DataFrame) -> str:
    """Where the first value that does not fit its column is (file, line, field, value), by
    checking the frame against the column types; a general description when none is found."""
    for name, sql_type in table.columns:
        if name not in frame.columns:
            continue
        column = pl.col(name)
        kind = sql_type.split()[0]
        problems = []
        if "not null" in sql_type:
            problems.append((column.is_null(), "is empty but the column is NOT NULL"))
        if kind == "integer":
            problems.append(
                (~column.cast(pl.Int64, strict=False).is_between(-(2**31), 2**31 - 1),
                 "does not fit INTEGER (32 bits)")
            )  # fmt: skip
        elif kind.startswith("decimal("):
            precision, scale = (int(p) for p in kind[8:-1].split(","))
            limit = 10.0 ** (precision - scale)
            problems.append(
                (column.cast(pl.Float64, strict=False).abs() >= limit,
                 f"does not fit {kind.upper()} (below {limit:,.0f} in absolute value)")
            )  # fmt: skip
        for broken, problem in problems:
            hits = frame.filter(broken.fill_null(False))
            if hits.height:
                row = hits.row(0, named=True)
                file = row.get("_file", "?")
                line = row.get("_line", "?")
                return f"{file} line {line} field {name}: value {row[name]!r} {problem}"
    files = sorted(set(frame["_file"])) if "_file" in frame.columns else []
    return f"file(s) {', '.join(files[:5])}: no single offending value found"


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
    register: str, partition: str, settings: Settings, loaded: frozenset[tuple[str, str]]
) -> tuple[PreparedPartition, list[UnreadableFile]]:
    """A month of landing files read and judged, not yet written (runs in a worker)."""
    records = read_partition_files(register, partition, settings.landing_dir, settings, loaded)
    return prepare_partition(register, partition, records, settings), records.failures


def load_partitions(
    register: str, partitions: Sequence[str], settings: Settings
) -> Iterator[PartitionReport]:
    """Load months from landing files, in order, each in its own transaction; unreadable
    files are listed in the reports, not loaded.

    Reading and judging a month is CPU-bound Python and polars work, so with several months
    it runs in `settings.ingestion_workers` worker processes, while this process writes the
    prepared months in order over one connection (DuckDB admits one writer). At most one
    month per worker plus one waits in memory, whatever the number of months. Workers are
    told which files the month already holds, so unchanged files are not read again.
    """
    workers = min(settings.ingestion_workers, len(partitions))
    with contextlib.ExitStack() as stack:
        con = stack.enter_context(settings.warehouse())
        check_pseudonymisation_key(con, settings.pseudonymisation_key)  # before any write
        ensure_raw_schema(con)
        if workers > 1:
            pool = stack.enter_context(
                ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
            )
            submit = functools.partial(pool.submit, read_and_prepare)
        else:
            submit = functools.partial(_done, read_and_prepare)

        def prepare(partition: str) -> Future[tuple[PreparedPartition, list[UnreadableFile]]]:
            loaded = frozenset(loaded_files(con, register, partition).items())
            return submit(register, partition, settings, loaded)

        waiting = iter(partitions)
        queue = deque(
            (partition, prepare(partition)) for partition in itertools.islice(waiting, workers + 1)
        )
        while queue:
            partition, future = queue.popleft()
            prepared, failures = future.result()
            for following in itertools.islice(waiting, 1):
                queue.append((following, prepare(following)))
            written = write_partition(con, register, partition, prepared)
            yield partition_report(register, partition, written, failures)


def load_partition(register: str, partition: str, settings: Settings) -> PartitionReport:
    """Load one month from landing files (see load_partitions)."""
    return next(load_partitions(register, [partition], settings))


def forget_files(
    con: duckdb.DuckDBPyConnection, register: str, files: Sequence[str]
) -> dict[str, dict[str, int]]:
    """Remove loaded batches on purpose (`crimestat forget`): per file, the rows removed per
    table. Every file must be loaded now; all or nothing, in one transaction."""
    ensure_raw_schema(con)
    removed: dict[str, dict[str, int]] = {}
    with transaction(con):
        for name in files:
            found = con.execute(
                f"select _partition from {FILE_LOADS.qualified} where register = ? and _file = ?",
                [register, name],
            ).fetchall()
            if not found:
                raise KeyError(f"{register} has no loaded file {name!r} (see raw.file_loads)")
            for (partition,) in found:
                removed[name] = retire_files(
                    con, register, partition, {name: None}, how="forgotten"
                )
    return removed


def _done(function: Callable[..., T], *args: object) -> Future[T]:
    """`function(*args)` run here and now, as a future (no worker for a single month)."""
    future: Future[T] = Future()
    future.set_result(function(*args))
    return future
