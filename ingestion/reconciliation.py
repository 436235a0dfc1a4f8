"""Nothing lost: per landing file, rows read = rows loaded + rows quarantined.

Counted from the tables themselves (distinct file lines in the raw tables and in quarantine),
not from the loader's own bookkeeping, so a loader bug that drops or doubles rows shows here.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import polars as pl

from core.contracts import RAW_TABLES_BY_REGISTER


def unreconciled_files(
    con: duckdb.DuckDBPyConnection, register: str, partitions: Sequence[str]
) -> pl.DataFrame:
    """Files of these partitions whose counts do not add up (empty frame = all reconcile)."""
    lines = " union ".join(
        f"select _file, _line from {t.qualified} where _partition in (select unnest($partitions))"
        for t in RAW_TABLES_BY_REGISTER[register]
    )
    return con.sql(
        f"""
        with loaded_lines as ({lines}),
        loaded as (select _file, count(*) as lines from loaded_lines group by _file),
        quarantined as (
            select _file, count(distinct _line) as lines from raw.quarantine
            where register = $register and _partition in (select unnest($partitions))
            group by _file
        ),
        both_places as (
            select q._file, count(*) as lines
            from (select distinct _file, _line from raw.quarantine
                  where register = $register
                    and _partition in (select unnest($partitions))) as q
            join loaded_lines as l using (_file, _line)
            group by q._file
        )
        select f._file, f.rows_read,
               coalesce(l.lines, 0) as rows_loaded,
               coalesce(q.lines, 0) as rows_quarantined,
               coalesce(b.lines, 0) as rows_in_both,
               f.rows_loaded as recorded_loaded,
               f.rows_quarantined as recorded_quarantined
        from raw.file_loads as f
        left join loaded as l using (_file)
        left join quarantined as q using (_file)
        left join both_places as b using (_file)
        where f.register = $register and f._partition in (select unnest($partitions))
          and (f.rows_read != coalesce(l.lines, 0) + coalesce(q.lines, 0)
               or coalesce(b.lines, 0) > 0
               or f.rows_loaded != coalesce(l.lines, 0)
               or f.rows_quarantined != coalesce(q.lines, 0))
        order by f._file
        """,
        params={"register": register, "partitions": list(partitions)},
    ).pl()
