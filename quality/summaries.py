"""Two small tables for the dashboards' data-quality page (SPEC 10): what the ingestion
quarantined, and how fresh each register is.

Freshness follows the thresholds of dbt_project/models/staging/sources.yml: a daily register
should have written something within 2 days (warning after) and 7 days (error after), the
monthly customs export within 40 and 70 days. Age is measured on written_at, the time the
register wrote the record, not on when the file happened to be loaded.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import polars as pl

from core.contracts import (
    CONVICTION_VERSIONS,
    CUSTOMS_VIOLATION_VERSIONS,
    FILE_LOADS,
    INCIDENT_VERSIONS,
    QUARANTINE,
    RawTable,
)

# register -> (table whose written_at tells the age, warn after days, error after days)
FRESHNESS: dict[str, tuple[RawTable, int, int]] = {
    "incidents": (INCIDENT_VERSIONS, 2, 7),
    "convictions": (CONVICTION_VERSIONS, 2, 7),
    "customs": (CUSTOMS_VIOLATION_VERSIONS, 40, 70),
}
QUARANTINE_SCHEMA = {
    "register": pl.String,
    "rule": pl.String,
    "field": pl.String,
    "rows": pl.Int64,
    "files": pl.Int64,
}


def _row(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> tuple:
    """The one row of a query, the result consumed (duckdb 2 keeps a result half-read by
    fetchone() open and refuses other work on the connection until it is finished)."""
    return con.execute(sql, params or []).fetchall()[0]


def _exists(con: duckdb.DuckDBPyConnection, table: RawTable) -> bool:
    schema_name, table_name = table.qualified.split(".")
    return bool(
        _row(
            con,
            "select count(*) from information_schema.tables "
            "where table_schema = ? and table_name = ?",
            [schema_name, table_name],
        )[0]
    )


def quarantine_summary(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Quarantined rows per register, rule and field, with how many files they came from."""
    if not _exists(con, QUARANTINE):
        return pl.DataFrame(schema=QUARANTINE_SCHEMA)
    return (
        con.sql(
            f"""
        select register, rule, field, count(*) as rows, count(distinct _file) as files
        from {QUARANTINE.qualified}
        group by all
        order by register, rows desc, rule, field
        """
        )
        .pl()
        .cast(QUARANTINE_SCHEMA)
    )


def register_freshness(con: duckdb.DuckDBPyConnection, now: datetime) -> pl.DataFrame:
    """Per register: last record written, last file loaded, last partition, age in days and
    status (fresh / stale / missing) with its severity (None / warning / error)."""
    loads = _exists(con, FILE_LOADS)
    rows = []
    for register, (table, warn_after, error_after) in FRESHNESS.items():
        written = (
            _row(con, f"select max(written_at) from {table.qualified}")[0]
            if _exists(con, table)
            else None
        )
        loaded, partition = (
            _row(
                con,
                f"select max(loaded_at), max(_partition) from {FILE_LOADS.qualified} "
                "where register = ?",
                [register],
            )
            if loads
            else (None, None)
        )
        age = None if written is None else round((now - written).total_seconds() / 86400, 2)
        if age is None:
            status, severity = "missing", "error"
        elif age > error_after:
            status, severity = "stale", "error"
        elif age > warn_after:
            status, severity = "stale", "warning"
        else:
            status, severity = "fresh", None
        rows.append(
            {
                "register": register,
                "last_written_at": written,
                "last_loaded_at": loaded,
                "last_partition": partition,
                "age_days": age,
                "status": status,
                "severity": severity,
                "warn_after_days": warn_after,
                "error_after_days": error_after,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "register": pl.String,
            "last_written_at": pl.Datetime("us"),
            "last_loaded_at": pl.Datetime("us"),
            "last_partition": pl.String,
            "age_days": pl.Float64,
            "status": pl.String,
            "severity": pl.String,
            "warn_after_days": pl.Int64,
            "error_after_days": pl.Int64,
        },
    )


def store_summaries(con: duckdb.DuckDBPyConnection, now: datetime) -> None:
    """Replace quality.quarantine_summary and quality.register_freshness (with computed_at)."""
    tables = {
        "quarantine_summary": quarantine_summary(con),
        "register_freshness": register_freshness(con, now),
    }
    con.execute("create schema if not exists quality")
    con.execute("begin transaction")
    try:
        for name, frame in tables.items():
            con.register("summary_frame", frame.with_columns(computed_at=pl.lit(now)).to_arrow())
            try:
                con.execute(
                    f"create or replace table quality.{name} as select * from summary_frame"
                )
            finally:
                con.unregister("summary_frame")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
