"""Loading landing files into the registers' own tables (`crimestat generate --to-db`), so the
whole product can run against a live register database.

The files are read by the registers' own readers and cleaned by their contracts' text
clean-up (blank fields, decimal commas), then each month goes in with COPY into a staging
table and an upsert by key, in one transaction per table and month: loading the same files
twice leaves the same rows. Lines a typed database cannot hold are skipped and counted by
reason; they are defects of file extracts only (a line cut short or undecodable, a value
that is not of its column's type, a missing key, the same key twice). Every other defect
(unknown codes, impossible dates, missing mandatory fields, bad check digits) is stored as
is, for the pull to quarantine it.

A seizure line's `written_at` is the time of its violation's earliest version in the same
monthly file, else the start of that file's month; a line delivered again in a later month
keeps its earliest time.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import psycopg
from tqdm import tqdm

from core.contracts import REGISTERS
from core.settings import Settings
from ingestion.database.connection import register_database
from ingestion.database.pull import month_bounds
from ingestion.database.tables import SOURCE_TABLES_BY_REGISTER, SourceColumn, SourceTable
from ingestion.judging import Contract
from ingestion.landing import landed_months
from ingestion.loading import read_partition_files
from ingestion.registers import convictions, customs, incidents
from ingestion.validation import TIMESTAMP_FORMAT, Field, blank_to_null

INT32_RANGE = (-(2**31), 2**31 - 1)
CONTRACTS: dict[str, Callable[[Settings], Contract]] = {
    "incidents": incidents.contract,
    "convictions": convictions.contract,
    "customs_violations": customs.violations_contract,
    "customs_seizures": lambda _: customs.seizures_contract(),
}
# Why a line of a file never became a row of the database (reader rules map to these).
SKIP_REASONS = {
    "broken_encoding": "broken_encoding",
    "truncated_row": "truncated_row",
    "malformed_value": "unsplittable_line",  # wrong number of fields, not a JSON object
}


@dataclass
class DatabaseLoadSummary:
    """Per source table the rows upserted (a seizure line delivered again in a later month
    counts again) and the rows the table then holds; lines skipped per register and reason;
    files that could not be read at all."""

    schema: str
    rows_upserted: dict[str, int] = field(default_factory=dict)
    rows_in_tables: dict[str, int] = field(default_factory=dict)
    lines_skipped: dict[str, dict[str, int]] = field(default_factory=dict)
    unreadable_files: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def create_register_tables(con: psycopg.Connection, schema: str) -> None:
    """The schema and every register table, when missing."""
    with con.transaction():
        con.execute(f"create schema if not exists {schema}")
        for tables in SOURCE_TABLES_BY_REGISTER.values():
            for table in tables:
                for statement in table.ddl(schema):
                    con.execute(statement)


def _unparseable(column: SourceColumn, field_: Field) -> pl.Expr:
    """Values the column's type cannot take (PostgreSQL would refuse the whole COPY)."""
    text = pl.col(column.name)
    present = text.is_not_null()
    match column.family:
        case "text":
            return pl.lit(False)
        case "json":
            return present & text.map_elements(_not_json, return_dtype=pl.Boolean)
        case "numeric":
            precision, scale = (int(n) for n in re.findall(r"\d+", column.sql_type))
            pattern = rf"^-?[0-9]{{1,{precision - scale}}}(\.[0-9]+)?$"
            return present & ~text.str.contains(pattern)
        case "integer":
            in_range = field_.typed().is_between(*INT32_RANGE)
            return (field_.is_malformed() | (present & ~in_range)).fill_null(True)
        case _:
            return field_.is_malformed().fill_null(True)


def _not_json(text: str) -> bool:
    try:
        json.loads(text)
    except json.JSONDecodeError:
        return True
    return False


def storable_rows(
    table: SourceTable, records: pl.DataFrame, settings: Settings, skipped: Counter[str]
) -> pl.DataFrame:
    """The table's contract columns as clean text, for rows the typed table can hold; the
    others are counted in `skipped` by reason."""
    contract = CONTRACTS[table.name](settings)
    text = contract.normalise(blank_to_null(records, contract.fields))
    fields = contract.by_name
    required = [name for name in (*table.key, "written_at") if name in table.column_names]
    missing = pl.any_horizontal(pl.col(name).is_null() for name in required)
    unparseable = pl.any_horizontal(_unparseable(col, fields[col.name]) for col in table.columns)
    judged = text.with_columns(
        pl.when(missing)
        .then(pl.lit("missing_key"))
        .when(unparseable)
        .then(pl.lit("unparseable_value"))
        .alias("_skip")
    )
    judged = judged.with_columns(
        pl.when(pl.col("_skip").is_null() & ~pl.struct(table.key).is_first_distinct())
        .then(pl.lit("duplicate_key"))
        .otherwise(pl.col("_skip"))
        .alias("_skip")
    )
    skipped.update(judged["_skip"].drop_nulls().to_list())
    return judged.filter(pl.col("_skip").is_null()).select(table.column_names)


def with_seizure_times(
    seizures: pl.DataFrame, violations: pl.DataFrame, month: str
) -> pl.DataFrame:
    """Each line gets the earliest version time of its violation in the same month's file,
    else the start of the month."""
    start = month_bounds(month)[0].strftime(TIMESTAMP_FORMAT)
    earliest = violations.group_by("violation_id").agg(
        pl.col("written_at").min().alias("written_at")
    )
    return seizures.join(earliest, on="violation_id", how="left").with_columns(
        pl.col("written_at").fill_null(start)
    )


def _upsert(con: psycopg.Connection, table: SourceTable, schema: str, rows: pl.DataFrame) -> None:
    """COPY into a staging table, then insert or replace by key, in one transaction."""
    columns = [col.name for col in table.table_columns]
    names = ", ".join(columns)
    updates = ", ".join(
        f"{name} = least({table.name}.{name}, excluded.{name})"
        if table.delivered_with is not None and name == "written_at"
        else f"{name} = excluded.{name}"
        for name in columns
        if name not in table.key
    )
    data = rows.select(columns).write_csv(include_header=False, null_value="")
    with con.transaction(), con.cursor() as cursor:
        cursor.execute(
            f"create temp table staging on commit drop as "
            f"select {names} from {table.qualified(schema)} with no data"
        )
        with cursor.copy(f"copy staging ({names}) from stdin (format csv)") as copy:
            copy.write(data.encode("utf-8"))
        cursor.execute(
            f"insert into {table.qualified(schema)} as {table.name} ({names}) "
            f"select {names} from staging on conflict ({', '.join(table.key)}) "
            f"do update set {updates}"
        )


def load_landing_into_database(
    landing_dir: Path,
    url: str,
    settings: Settings,
    registers: Sequence[str] = REGISTERS,
    progress: bool = False,
) -> DatabaseLoadSummary:
    """Every month of the registers' landing files under `landing_dir` into their tables
    (created when missing) in schema `settings.register_db_schema` of the database at `url`."""
    schema = settings.register_db_schema
    summary = DatabaseLoadSummary(schema)
    skipped: dict[str, Counter[str]] = defaultdict(Counter)
    with register_database(url, "the registers' database", settings.country.timezone) as con:
        create_register_tables(con, schema)
        for register in registers:
            months = landed_months(landing_dir, [register])
            for month in tqdm(months, desc=f"{register} into the database", disable=not progress):
                _load_month(con, register, month, landing_dir, settings, summary, skipped[register])
            for table in SOURCE_TABLES_BY_REGISTER[register]:
                [(rows,)] = con.execute(f"select count(*) from {table.qualified(schema)}")
                summary.rows_in_tables[table.name] = rows
    summary.lines_skipped = {register: dict(skipped[register]) for register in registers}
    return summary


def _load_month(
    con: psycopg.Connection,
    register: str,
    month: str,
    landing_dir: Path,
    settings: Settings,
    summary: DatabaseLoadSummary,
    skipped: Counter[str],
) -> None:
    records = read_partition_files(register, month, landing_dir, settings)
    summary.unreadable_files += [str(failure) for failure in records.failures]
    for batch in records.batches:
        skipped.update(SKIP_REASONS[rule] for rule in batch.rejected["rule"].to_list())
    if not records.batches:
        return
    rows = pl.concat([batch.rows for batch in records.batches], how="diagonal")
    stored: dict[str, pl.DataFrame] = {}
    for table in SOURCE_TABLES_BY_REGISTER[register]:
        subset = rows if table.record_kind is None else rows.filter(
            pl.col("_kind") == table.record_kind
        )  # fmt: skip
        if subset.is_empty():
            continue
        clean = storable_rows(table, subset, settings, skipped)
        if table.delivered_with is not None:
            owners = stored.get(
                table.delivered_with,
                pl.DataFrame(schema={"violation_id": pl.String, "written_at": pl.String}),
            )
            clean = with_seizure_times(clean, owners, month)
        stored[table.name] = clean
        _upsert(con, table, settings.register_db_schema, clean)
        summary.rows_upserted[table.name] = summary.rows_upserted.get(table.name, 0) + clean.height
