"""The cells of releases as the warehouse keeps them (`releases.release_cells`, the true
values of suppressed cells in `releases.confidential_values`), read back as observations.

Below the release registry (`publication.releases`) and the partner packages, so disclosure
control of any new table can read everything published before it (`population`).
"""

from __future__ import annotations

import duckdb
import polars as pl

from sdmx_export.layout import DsdLayout

SCHEMA = "releases"
MEASURE = "OBS_VALUE"


def observations_from_cells(cells: pl.DataFrame, layout: DsdLayout) -> pl.DataFrame:
    """Stored cells back into observations: files are always written from these, so a
    release reproduced later gives the same bytes."""
    series = [d.id for d in layout.series_dimensions]
    split = pl.col("series_key").str.split_exact(".", len(series) - 1)
    frame = cells.select(
        split.struct.rename_fields(series).alias("key"),
        pl.col("time_period").alias(layout.time_dimension.id),
        pl.col("obs_value").alias(MEASURE),
        pl.col("obs_status").alias("OBS_STATUS"),
        pl.col("conf_status").alias("CONF_STATUS"),
    ).unnest("key")
    return frame.sort([d.id for d in layout.dimensions])


def cells_as_protected(con: duckdb.DuckDBPyConnection, release_id: str) -> pl.DataFrame:
    """A release's cells with the true values of those it suppressed (confidential_values):
    what disclosure control of a later release of the same period must be given."""
    return con.sql(
        f"select c.release_id, c.series_key, c.time_period, "
        f"coalesce(c.obs_value, v.obs_value) as obs_value, c.obs_status, c.conf_status "
        f"from {SCHEMA}.release_cells c left join {SCHEMA}.confidential_values v "
        "using (release_id, series_key, time_period) where c.release_id = ? "
        "order by c.series_key, c.time_period",
        params=[release_id],
    ).pl()


def stored_cells(con: duckdb.DuckDBPyConnection, release_id: str) -> pl.DataFrame:
    """The cells recorded for a release (none for an unknown release or an empty table)."""
    return con.sql(
        f"select release_id, series_key, time_period, obs_value, obs_status, conf_status "
        f"from {SCHEMA}.release_cells where release_id = ? order by series_key, time_period",
        params=[release_id],
    ).pl()


def vintages_as_protected(
    con: duckdb.DuckDBPyConnection, dataset: str, period: str, layout: DsdLayout
) -> list[tuple[str, int, pl.DataFrame]]:
    """Every release of `dataset` whose reference period is `period` or within it (a year
    holds its months, '2022-03' is in '2022'), oldest first: (period, vintage, observations
    as delivered with true values). Empty when nothing was released (or no release table)."""
    try:
        rows = con.execute(
            f"select release_id, reference_period, vintage from {SCHEMA}.releases "
            "where dataset = ? and (reference_period = ? or reference_period like ?) "
            "order by reference_period, vintage",
            [dataset, period, f"{period}-%"],
        ).fetchall()
    except duckdb.CatalogException:
        return []
    return [
        (reference, vintage, observations_from_cells(cells_as_protected(con, rid), layout))
        for rid, reference, vintage in rows
    ]
