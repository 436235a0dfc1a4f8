"""Where each pull stopped: `raw.source_watermarks`, per register, source table and month.

Read before a pull and compared again inside the transaction that writes the pulled rows, so
a watermark only ever moves together with the rows it covers, and two pulls of the same
month that overlap cannot both append the same rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import duckdb

from core.contracts import SOURCE_WATERMARKS


def partition_watermarks(
    con: duckdb.DuckDBPyConnection, register: str, partition: str
) -> dict[str, datetime]:
    """Source table -> watermark (an aware instant); empty when the month was never pulled."""
    return dict(
        con.execute(
            f"select source_table, watermark from {SOURCE_WATERMARKS.qualified} "
            "where register = ? and _partition = ?",
            [register, partition],
        ).fetchall()
    )


def move_watermarks(
    con: duckdb.DuckDBPyConnection,
    register: str,
    partition: str,
    moved: Mapping[str, tuple[datetime, int]],
) -> None:
    """Set source table -> (watermark, rows of the batch) inside the caller's transaction."""
    pulled_at = datetime.now()
    for source_table, (watermark, _) in moved.items():
        if watermark.tzinfo is None:
            raise ValueError(f"watermark of {source_table} must be an instant, not local time")
    for source_table, (watermark, rows) in moved.items():
        con.execute(
            f"delete from {SOURCE_WATERMARKS.qualified} "
            "where register = ? and source_table = ? and _partition = ?",
            [register, source_table, partition],
        )
        con.execute(
            f"insert into {SOURCE_WATERMARKS.qualified} "
            "(register, source_table, _partition, watermark, rows, pulled_at) "
            "values (?, ?, ?, ?, ?, ?)",
            [register, source_table, partition, watermark, rows, pulled_at],
        )
