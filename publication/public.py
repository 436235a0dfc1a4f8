"""Persons convicted on the dashboards: released figures only (SPEC 7, 10).

The convictions page shows one-way breakdowns of persons convicted per year. Each is a slice
of a release of person counts, taken cell by cell as released:

- from CRIM_JUST (Eurostat: persons convicted by the country's own courts), by sex, age group,
  citizenship group and ICCS section, each with the other dimensions at their totals;
- from EJ_XB_CONV (Eurojust: persons convicted of serious cross-border crime), by crime area
  for convictions at home (ECRIS=DOM) and received through ECRIS, and by citizenship for
  those received through ECRIS, the other dimension at its total.

Why not from the live mart: this module once protected each one-way table of
`marts.persons_convicted` on its own at every snapshot. The same persons are published in
those releases, suppressed there jointly over the whole cube; tables suppressed apart can be
combined with the release (or with each other) to recompute a hidden cell, and every snapshot
was a new vintage of live provisional figures that could be differenced against the previous
one. Taken from the releases, every figure was already published, with the disclosure status
the release gave it, audited together with every other cell and every earlier vintage of the
year by the release step (publication.releases, core.disclosure): no new publication
arises, and a snapshot adds no vintage of its own. The sanction breakdown is in no release,
so it is never public (the internal face shows it from the mart).

Two tables:

- `serving.persons_convicted_breakdowns` (internal snapshot only): the breakdown rows of
  every vintage of every year, with the true value (CRIM_JUST and EJ_XB_CONV carry true
  values to Eurostat and Eurojust) and CONF_STATUS as released (F, C or D), the release id,
  dataset, vintage and embargo;
- `public.persons_convicted_breakdowns`: per year and dataset only the latest vintage whose
  embargo has passed when the snapshot is published, a value for free cells only and the one
  flag C for every other cell (never C vs D). The internal snapshot holds it for the
  public-mode preview; the public snapshot (publication.public_snapshot) derives it again from
  the internal snapshot's serving table, at its own time of publication (`public_rows`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import polars as pl

from core.disclosure import FREE, PUBLIC_SUPPRESSED
from core.settings import StructureSettings
from core.vocabulary import DATAFLOWS_OF_PERSONS, DOMESTIC, ECRIS, TOTAL
from publication.stored_cells import observations_from_cells, stored_cells
from sdmx_export import codelists
from sdmx_export.layout import DsdLayout
from sdmx_export.structures import build_structures, dataflow

CRIM_JUST, EJ_XB_CONV = DATAFLOWS_OF_PERSONS
SERVING_TABLE = "serving.persons_convicted_breakdowns"
PUBLIC_TABLE = "public.persons_convicted_breakdowns"
SCHEMA = {
    "ref_year": pl.Int64, "origin": pl.String, "breakdown": pl.String, "code": pl.String,
    "position": pl.Int64, "persons": pl.Int64, "conf_status": pl.String,
    "release_id": pl.String, "dataset": pl.String, "vintage": pl.Int64,
    "embargo_until": pl.Datetime("us"),
}  # fmt: skip


@dataclass(frozen=True)
class Breakdown:
    """A one-way table of a release: the codes of `dimension` (TOTAL first), every other
    series dimension fixed at its total (or its one value, as the dataset writes it)."""

    name: str
    dataset: str
    origin: str
    dimension: str
    codes: tuple[str, ...]
    fixed: tuple[tuple[str, str], ...]


def _codes(spec: codelists.CodeListSpec) -> tuple[str, ...]:
    return tuple(code.id for code in spec.codes)


def breakdowns(sections: tuple[str, ...], country: str) -> tuple[Breakdown, ...]:
    """The breakdowns of the convictions page; `sections` are CL_ICCS's level-1 codes
    (UNMAPPED is never published in CRIM_JUST), `country` the GEO of the releases."""
    # As publication.datasets writes the two dataflows: one FREQ, LEG_STAT, UNIT and GEO.
    crim_just = {"FREQ": "A", "LEG_STAT": "PER_CNV", "ICCS": TOTAL, "SEX": "T", "AGE": TOTAL,
                 "CITIZEN": TOTAL, "UNIT": "NR", "GEO": country}  # fmt: skip
    ej_xb_conv = {"FREQ": "A", "XB_CRIME": TOTAL, "CITIZEN": TOTAL, "UNIT": "NR", "GEO": country}

    def of(name: str, dataset: str, origin: str, dimension: str, codes: tuple[str, ...]):
        totals = crim_just if dataset == CRIM_JUST else {**ej_xb_conv, "ECRIS": origin}
        fixed = tuple((d, code) for d, code in totals.items() if d != dimension)
        return Breakdown(name, dataset, origin, dimension, codes, fixed)

    return (
        of("sex", CRIM_JUST, DOMESTIC, "SEX", _codes(codelists.SEX)),
        of("age_group", CRIM_JUST, DOMESTIC, "AGE", _codes(codelists.AGE)),
        of("citizen_group", CRIM_JUST, DOMESTIC, "CITIZEN", _codes(codelists.CITIZEN)),
        of("iccs_section", CRIM_JUST, DOMESTIC, "ICCS", (TOTAL, *sections)),
        of("crime_area", EJ_XB_CONV, DOMESTIC, "XB_CRIME", _codes(codelists.XB_CRIME)),
        of("citizen_group", EJ_XB_CONV, ECRIS, "CITIZEN", _codes(codelists.CITIZEN)),
        of("crime_area", EJ_XB_CONV, ECRIS, "XB_CRIME", _codes(codelists.XB_CRIME)),
    )


def write_breakdown_tables(
    con: duckdb.DuckDBPyConnection,
    published_at: datetime,
    settings: StructureSettings | None = None,
) -> list[str]:
    """Both breakdown tables, from the snapshot's own copies of the release tables;
    `published_at` (naive UTC) decides which embargoes have passed for the public one."""
    settings = settings or StructureSettings()
    sections = tuple(
        code
        for (code,) in con.execute(
            "select eurostat_code from reference.iccs_codes where level = 1 order by code"
        ).fetchall()
    )
    rows = released_rows(con, breakdowns(sections, settings.country), settings)
    con.register("released_breakdowns", rows)
    try:
        con.execute("create schema if not exists serving")
        con.execute(
            f"create table {SERVING_TABLE} as select * from released_breakdowns order by all"
        )
    finally:
        con.unregister("released_breakdowns")
    con.execute("create schema if not exists public")
    con.execute(f"create table {PUBLIC_TABLE} as {public_rows(SERVING_TABLE)}", [published_at])
    return [SERVING_TABLE, PUBLIC_TABLE]


def released_rows(
    con: duckdb.DuckDBPyConnection,
    tables: tuple[Breakdown, ...],
    settings: StructureSettings,
) -> pl.DataFrame:
    """The rows of every breakdown in every recorded release of its dataset (none when the
    warehouse has released nothing yet), each cell as released."""
    present = {
        f"{schema}.{name}"
        for schema, name in con.execute(
            "select schema_name, table_name from duckdb_tables()"
        ).fetchall()
    }
    if not {"releases.releases", "releases.release_cells"} <= present:
        return pl.DataFrame(schema=SCHEMA)
    datasets = sorted({b.dataset for b in tables})
    structures = build_structures(settings)
    layouts = {d: DsdLayout.of(dataflow(structures, d)) for d in datasets}
    releases = con.execute(
        "select release_id, dataset, reference_period, vintage, embargo_until "
        f"from releases.releases where dataset in ({', '.join('?' for _ in datasets)}) "
        "order by all",
        datasets,
    ).fetchall()
    parts = []
    for release_id, dataset, period, vintage, embargo_until in releases:
        layout = layouts[dataset]
        cells = observations_from_cells(stored_cells(con, release_id), layout).filter(
            pl.col(layout.time_dimension.id) == period
        )
        for breakdown in (b for b in tables if b.dataset == dataset):
            slice_ = cells.filter(
                *(pl.col(dimension) == code for dimension, code in breakdown.fixed),
                pl.col(breakdown.dimension).is_in(breakdown.codes),
            )
            positions = {code: index for index, code in enumerate(breakdown.codes)}
            parts.append(
                slice_.select(
                    pl.lit(int(period), pl.Int64).alias("ref_year"),
                    pl.lit(breakdown.origin).alias("origin"),
                    pl.lit(breakdown.name).alias("breakdown"),
                    pl.col(breakdown.dimension).alias("code"),
                    pl.col(breakdown.dimension)
                    .replace_strict(positions, return_dtype=pl.Int64)
                    .alias("position"),
                    pl.col("OBS_VALUE").cast(pl.Int64).alias("persons"),
                    pl.col("CONF_STATUS").alias("conf_status"),
                    pl.lit(release_id).alias("release_id"),
                    pl.lit(dataset).alias("dataset"),
                    pl.lit(vintage, pl.Int64).alias("vintage"),
                    pl.lit(embargo_until, pl.Datetime("us")).alias("embargo_until"),
                )
            )
    return pl.concat(parts).cast(SCHEMA) if parts else pl.DataFrame(schema=SCHEMA)


def public_rows(source_table: str) -> str:
    """The query (one parameter: the time of publication, naive UTC) of the public rows made
    from `source_table`, a serving table of every vintage: per year and dataset the latest
    vintage whose embargo has passed, a value for free cells only, every other cell flagged C
    (a cell without a flag too)."""
    return (
        "select ref_year, origin, breakdown, code, position, "
        f"case when conf_status = '{FREE}' then persons end as persons, "
        f"case when conf_status = '{FREE}' then '{FREE}' else '{PUBLIC_SUPPRESSED}' end "
        "as conf_status, release_id, dataset, vintage, embargo_until "
        f"from {source_table} where embargo_until is null or embargo_until <= ?::timestamp "
        "qualify vintage = max(vintage) over (partition by ref_year, dataset) order by all"
    )
