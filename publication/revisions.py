"""Revisions: every cell of a release beside the same cell in the previous vintage of its
dataset and reference period (SPEC 7, 8). One definition for the release registry
(publication.releases.revisions) and the serving snapshots, whose table of it the
dashboards' releases page shows.

The previous vintage of a release is the highest vintage below its own of the same dataset
and reference period; cells match on series key and time period. Each row says whether the
cell was revised: added, removed, or its value changed (a null value, a cell published
without one, counts as a value). A release without an earlier vintage has no rows.

The query reads the release tables of one schema, so each snapshot computes it from its own
copies: the public snapshot from its public cells only (the value of a cell that is not free
is absent there, so whether a hidden value changed is never told).
"""

from __future__ import annotations

import duckdb

REVISIONS_TABLE = "serving.release_revisions"


def revisions_query(schema: str) -> str:
    """The revisions of every release of `schema`'s releases and release_cells: release_id,
    previous_release_id, series_key, time_period, previous_value, new_value, difference,
    revised."""
    return f"""
        with vintages as (
            select
                release_id,
                lag(release_id) over (
                    partition by dataset, reference_period order by vintage
                ) as previous_release_id
            from {schema}.releases
        ),
        pairs as (
            select release_id, previous_release_id
            from vintages
            where previous_release_id is not null
        ),
        new_cells as (
            select pairs.release_id, pairs.previous_release_id, cells.series_key,
                cells.time_period, cells.obs_value
            from pairs
            join {schema}.release_cells as cells on cells.release_id = pairs.release_id
        ),
        previous_cells as (
            select pairs.release_id, pairs.previous_release_id, cells.series_key,
                cells.time_period, cells.obs_value
            from pairs
            join {schema}.release_cells as cells on cells.release_id = pairs.previous_release_id
        )
        select
            coalesce(new_cells.release_id, previous_cells.release_id) as release_id,
            coalesce(new_cells.previous_release_id, previous_cells.previous_release_id)
                as previous_release_id,
            coalesce(new_cells.series_key, previous_cells.series_key) as series_key,
            coalesce(new_cells.time_period, previous_cells.time_period) as time_period,
            previous_cells.obs_value as previous_value,
            new_cells.obs_value as new_value,
            new_cells.obs_value - previous_cells.obs_value as difference,
            new_cells.series_key is null
                or previous_cells.series_key is null
                or new_cells.obs_value is distinct from previous_cells.obs_value as revised
        from new_cells
        full join previous_cells
            on new_cells.release_id = previous_cells.release_id
            and new_cells.series_key = previous_cells.series_key
            and new_cells.time_period = previous_cells.time_period
    """


def write_revisions_table(con: duckdb.DuckDBPyConnection, schema: str = "releases") -> list[str]:
    """REVISIONS_TABLE made from `schema`'s release tables in `con` (a snapshot being
    written); nothing when it has no releases or no cells."""
    present = {
        name
        for (name,) in con.execute(
            "select table_name from duckdb_tables() "
            "where database_name = current_database() and schema_name = ?",
            [schema],
        ).fetchall()
    }
    if not {"releases", "release_cells"} <= present:
        return []
    con.execute(f"create schema if not exists {REVISIONS_TABLE.split('.', 1)[0]}")
    con.execute(f"create table {REVISIONS_TABLE} as {revisions_query(schema)} order by all")
    return [REVISIONS_TABLE]
