"""Pulling a register's month partition from its database, incrementally on `written_at`.

A pull of month M reads, per source table, the rows delivered in [M, M+1) after the table's
watermark for M, in one REPEATABLE READ read-only transaction (one snapshot for all tables
of the register), streamed with COPY ... TO STDOUT as CSV text straight into polars. The
rows are already in the landing files' text form (tables.py renders them), so they go
through the one loader of ingestion/loading.py: same validation, pseudonymisation and
quarantine as a file.

The rows are appended to the partition, never replacing it: a batch is loaded like a
landing file (ingestion/loading.apply_batches), so earlier pulls of the month, and rows once
loaded from files, stay; a version already in the month is quarantined as a duplicate; a
batch pulled again under its name with other content replaces only that batch's rows. Rows,
quarantine, the `raw.file_loads` row of each batch and the moved watermarks commit in ONE
DuckDB transaction: a pull killed before the commit leaves everything, watermark included,
as it was, and run again it loses and doubles nothing. A pull that finds no new rows writes
nothing.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl
import psycopg

from core.settings import Settings
from core.warehouse import ensure_raw_schema, transaction
from ingestion.database.connection import check_source_tables, masked_url, register_database
from ingestion.database.tables import SOURCE_TABLES_BY_REGISTER, SourceTable
from ingestion.database.watermarks import move_watermarks, partition_watermarks
from ingestion.errors import SourceDatabaseError
from ingestion.key_check import check_pseudonymisation_key
from ingestion.loading import (
    PartitionRecords,
    PartitionReport,
    apply_batches,
    partition_report,
    prepare_partition,
)
from ingestion.records import FileRecords, rejected_lines
from ingestion.registers import customs

MONTH_FORMAT = "%Y-%m"


@dataclass(frozen=True)
class PulledBatch:
    """The rows one pull read from one source table, as records for the loader."""

    table: SourceTable
    records: FileRecords
    checksum: str  # sha256 of the batch's rendered text, as COPY delivered it
    watermark: datetime | None  # latest delivery instant (UTC) in the batch; None: no rows


def month_bounds(partition: str) -> tuple[datetime, datetime]:
    start = datetime.strptime(partition, MONTH_FORMAT)
    end = start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    return start, end


def batch_label(table: SourceTable, partition: str, after: datetime, until: datetime) -> str:
    """Lineage `_file` of a pulled row: source table, month and the watermarks the batch
    spans (deterministic for the same batch)."""
    return f"db:{table.name}/{partition}/{after.isoformat()}..{until.isoformat()}"


def _copied(con: psycopg.Connection, query: str, params: dict[str, object]) -> bytes:
    buffer = io.BytesIO()
    statement = f"copy ({query}) to stdout (format csv)"
    with con.cursor() as cursor, cursor.copy(statement, params) as copy:
        for chunk in copy:
            buffer.write(chunk)
    return buffer.getvalue()


def read_batch(
    con: psycopg.Connection, table: SourceTable, schema: str, partition: str, after: datetime | None
) -> PulledBatch:
    """The table's rows of the month delivered after `after` (None: all of the month)."""
    start, end = month_bounds(partition)
    data = _copied(con, table.delivery_query(schema), {"start": start, "end": end, "after": after})
    names = [*table.column_names, *(["_text"] if table.json_records else []), "_delivered_at"]
    frame = pl.read_csv(io.BytesIO(data), has_header=False, schema=dict.fromkeys(names, pl.String))
    watermark = (
        datetime.fromisoformat(frame["_delivered_at"][-1]).replace(tzinfo=UTC)
        if frame.height
        else None
    )
    label = batch_label(table, partition, after or start, watermark or start)
    text = (
        pl.col("_text")
        if table.json_records
        else pl.concat_str([pl.col(c).fill_null("") for c in table.column_names], separator=";")
    )
    rows = frame.select(
        pl.lit(label).alias("_file"),
        pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias("_line"),
        text.alias("_text"),
        *table.column_names,
    )
    checksum = hashlib.sha256(data).hexdigest()
    records = FileRecords(label, rows, rejected_lines(label, []), checksum)
    if table.record_kind is not None:
        records = customs.tagged(records, table.record_kind)
    return PulledBatch(table, records, checksum, watermark)


def read_source_batches(
    register: str, partition: str, watermarks: dict[str, datetime], settings: Settings
) -> list[PulledBatch]:
    """Every source table of the register, read in one snapshot."""
    url = settings.database_url(register)
    if url is None:
        raise SourceDatabaseError(f"no database URL is set for the {register} register")
    schema = settings.register_db_schema
    tables = SOURCE_TABLES_BY_REGISTER[register]
    description = f"the {register} register database"
    with register_database(url, description, settings.country.timezone) as con:
        check_source_tables(con, schema, tables, f"{description} {masked_url(url)}")
        con.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        con.read_only = True
        with con.transaction():
            return [
                read_batch(con, table, schema, partition, watermarks.get(table.name))
                for table in tables
            ]


def pull_partition(register: str, partition: str, settings: Settings) -> PartitionReport:
    """Append the month's new rows of the register's database to the raw schema."""
    with settings.warehouse() as con:
        check_pseudonymisation_key(con, settings.pseudonymisation_key)  # before any write
        ensure_raw_schema(con)
        before = partition_watermarks(con, register, partition)
    batches = [b for b in read_source_batches(register, partition, before, settings) if b.watermark]
    records = PartitionRecords(
        [b.records for b in batches], {b.records.label: b.checksum for b in batches}
    )
    prepared = prepare_partition(register, partition, records, settings)
    if batches:
        with (
            settings.warehouse() as con,
            transaction(con),
        ):
            if partition_watermarks(con, register, partition) != before:
                raise SourceDatabaseError(
                    f"{register} {partition}: another pull moved the watermark while this one "
                    "read; nothing was written, run it again"
                )
            prepared = apply_batches(con, register, partition, prepared)
            move_watermarks(
                con,
                register,
                partition,
                {b.table.name: (b.watermark, b.records.rows_read) for b in batches},
            )
    return partition_report(register, partition, prepared, [])


def database_months(settings: Settings) -> list[str]:
    """Months holding versions in the registers' databases (those with a URL), oldest first:
    what `crimestat materialize` covers when no landing files tell it."""
    months: set[str] = set()
    schema = settings.register_db_schema
    for register, url in settings.register_database_urls.items():
        description = f"the {register} register database"
        with register_database(url, description, settings.country.timezone) as con:
            for table in SOURCE_TABLES_BY_REGISTER[register]:
                if table.delivered_with is not None:
                    continue  # delivered in the months of the table it goes with
                first, last = con.execute(
                    f"select min(written_at), max(written_at) from {table.qualified(schema)}"
                ).fetchone()
                if first is not None:
                    months.update(_months_between(first, last))
    return sorted(months)


def _months_between(first: datetime, last: datetime) -> list[str]:
    months, month = [], first.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    while month <= last:
        months.append(month.strftime(MONTH_FORMAT))
        month = month_bounds(months[-1])[1]
    return months
