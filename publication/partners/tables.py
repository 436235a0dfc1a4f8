"""An agreed table for one month: observations made from its mart, and the labelled CSV.

Observations (one column per DSD dimension, OBS_VALUE, OBS_STATUS, CONF_STATUS) are what the
SDMX writers take and what the release cells record. The mart's rows of the month that the
filters keep are summed into every code they count under (roll-ups: sections, totals); only
cells with a count appear (an absent cell is 0, as in the marts).

Disclosure control (when agreed): the person counts go through core.disclosure with
the additive relations the breakdowns carry (primary below the threshold, secondary so no
suppressed value can be recomputed from the totals beside it); the values of confidential
cells are then removed and every suppressed cell flagged C alone, as for a public output.
Zero cells are never suppressed, so leaving them out reveals nothing. The observations keep
the audit of each suppressed cell (disclosure.AUDIT_COLUMNS) for the manifest.

Labels: the CSV carries next to each code its label in the partner's language: the
project's code labels (core.code_labels, Lithuanian and English), then the breakdown's own
(ICCS names, NUTS names); a code with no label in that language gets its English name, and
the fallback is reported (the package manifest lists it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from core.code_labels import CODE_LABELS
from core.csv_safety import neutralise
from core.disclosure import (
    AUDIT_COLUMNS,
    FREE,
    IS_PRIMARY,
    LOWER,
    STATUS,
    UPPER,
    Link,
    ProtectionError,
    Publication,
    protect,
    public_values,
)
from core.settings import StructureSettings
from publication.datasets import roll_up
from publication.partners.breakdowns import (
    BREAKDOWNS,
    ENGLISH,
    BreakdownKind,
    every_cell,
    table_dimensions,
)
from publication.partners.catalogue import MONTH_COLUMN
from publication.partners.config import AgreedTable
from publication.partners.structures import FREQUENCY
from publication.population import link_codes
from publication.releases import ReleaseError

VALUE = "value"
# Called with dimensions= and earlier= (how many earlier packages): the other publications of
# the same persons and the links to them (publication.population.linked_publications).
LinkedTables = Callable[..., tuple[list[Publication], list[Link]]]
# The true value of a suppressed cell, kept beside the public observations for the warehouse
# (releases.confidential_values), so the next package of the month is protected with it.
CONFIDENTIAL_VALUE = "CONFIDENTIAL_VALUE"
PERIOD_COLUMN = "ref_month"
CONF_COLUMN = "conf_status"


@dataclass(frozen=True)
class LabelledTable:
    """The CSV frame of a table and the codes (by column) that fell back to English."""

    frame: pl.DataFrame
    fallbacks: dict[str, list[str]]


def first_day(month: str) -> date:
    return date(int(month[:4]), int(month[5:7]), 1)


def mart_rows(con: duckdb.DuckDBPyConnection, source: str, month: str) -> pl.DataFrame:
    """The rows of marts.`source` for the month (source is a mart name checked by config)."""
    try:
        return con.sql(
            f"select * from marts.{source} where {MONTH_COLUMN} = ?", params=[first_day(month)]
        ).pl()
    except duckdb.CatalogException:
        raise ReleaseError(f"marts.{source} does not exist: build the marts first") from None


def table_observations(
    mart: pl.DataFrame,
    table: AgreedTable,
    month: str,
    settings: StructureSettings,
    *,
    obs_status: str = "P",
    published: Sequence[pl.DataFrame] = (),
    linked: LinkedTables | None = None,
) -> pl.DataFrame:
    """The observations of `table` for `month` from its mart's rows of the month.
    `published`: the table's earlier packages of the month as delivered, true values of
    suppressed cells filled in (DSD columns, OBS_VALUE, CONF_STATUS): protected together,
    so two packages of one month cannot be differenced. `linked`: given the table's
    dimensions and how many earlier packages there are, everything else published of the
    same persons and the links to it (`publication.population.linked_publications`)."""
    pairs = [(b, BREAKDOWNS[b.column]) for b in table.breakdowns]
    where = f"{table.id} {month}: marts.{table.source}"
    if not mart.schema[table.measure].is_integer():
        raise ReleaseError(f"{where}: {table.measure} is {mart.schema[table.measure]}, not a count")
    kept = mart
    for column, values in table.filters:
        try:
            kept = kept.filter(pl.col(column).is_in(list(values)))
        except pl.exceptions.PolarsError as error:
            raise ReleaseError(f"{where}: filter on {column} {list(values)}: {error}") from None
    counts = kept.select(*(b.column for b in table.breakdowns), pl.col(table.measure).alias(VALUE))
    try:
        rolled = roll_up(
            counts,
            {b.column: kind.roll_up(settings, b) for b, kind in pairs},
            by=(),
            value=VALUE,
        )
    except ValueError as error:
        raise ReleaseError(f"{where}: {error}") from None
    rolled = rolled.rename({b.column: kind.concept for b, kind in pairs})
    if table.disclosure_control and rolled.height:
        concepts = [kind.concept for _, kind in pairs]
        earlier = [
            frame.select(*concepts, pl.col("OBS_VALUE").cast(pl.Int64).alias(VALUE), STATUS)
            for frame in published
        ]
        named = link_codes(table, settings)
        codes = {
            c: tuple(sorted(set(rolled[c]).union(*(set(f[c]) for f in earlier), named.get(c, ()))))
            for c in concepts
        }
        dimensions = table_dimensions(table.breakdowns, codes, settings)
        try:
            others, links = (
                linked(dimensions=dimensions, earlier=len(earlier)) if linked else ([], [])
            )
            protected = protect(
                rolled,
                dimensions,
                value=VALUE,
                requirement=settings.disclosure,
                published=[every_cell(frame, codes, VALUE) for frame in earlier],
                linked=others,
                links=links,
            )
        except ProtectionError as error:
            raise ReleaseError(f"{where}: disclosure control refuses it", [str(error)]) from None
        except ValueError as error:  # a table published before that today's cannot place
            raise ReleaseError(
                f"{where}: disclosure control cannot be done", [str(error)]
            ) from None
        rolled = (
            public_values(protected, value=VALUE)
            .with_columns(
                pl.when(pl.col(STATUS) != FREE).then(protected[VALUE]).alias(CONFIDENTIAL_VALUE)
            )
            .filter((pl.col(VALUE) != 0) | pl.col(VALUE).is_null())
        )
    else:
        rolled = rolled.filter(pl.col(VALUE) != 0).with_columns(
            pl.lit(FREE).alias(STATUS),
            pl.lit(None, pl.Float64).alias(LOWER),
            pl.lit(None, pl.Float64).alias(UPPER),
            pl.lit(None, pl.Boolean).alias(IS_PRIMARY),
            pl.lit(None, pl.Int64).alias(CONFIDENTIAL_VALUE),
        )
    dims = [kind.concept for _, kind in pairs]
    return rolled.select(
        pl.lit(FREQUENCY).alias("FREQ"),
        *dims,
        pl.lit(month).alias("TIME_PERIOD"),
        pl.col(VALUE).cast(pl.Int64).alias("OBS_VALUE"),
        pl.lit(obs_status).alias("OBS_STATUS"),
        pl.col(STATUS).alias("CONF_STATUS"),
        *AUDIT_COLUMNS,
        CONFIDENTIAL_VALUE,
    ).sort(["FREQ", *dims, "TIME_PERIOD"])


def labelled_table(
    observations: pl.DataFrame, table: AgreedTable, language: str, settings: StructureSettings
) -> LabelledTable:
    """The CSV frame: ref_month, per breakdown its code and label, the measure, and
    conf_status when disclosure control applies (suppressed values are empty). People open
    it in a spreadsheet: text cells that would start a formula are neutralised."""
    columns: list[pl.Expr] = [pl.col("TIME_PERIOD").alias(PERIOD_COLUMN)]
    fallbacks: dict[str, list[str]] = {}
    for breakdown in table.breakdowns:
        kind = BREAKDOWNS[breakdown.column]
        codes = sorted(set(observations[kind.concept]))
        labels, fell_back = _labels(kind, settings, language, codes)
        if fell_back:
            fallbacks[breakdown.column] = fell_back
        columns += [
            pl.col(kind.concept).alias(breakdown.column),
            pl.col(kind.concept)
            .replace_strict(labels, return_dtype=pl.String)
            .alias(f"{breakdown.column}_label"),
        ]
    columns.append(pl.col("OBS_VALUE").alias(table.measure))
    if table.disclosure_control:
        columns.append(pl.col("CONF_STATUS").alias(CONF_COLUMN))
    return LabelledTable(neutralise(observations.select(columns)), fallbacks)


def _labels(
    kind: BreakdownKind, settings: StructureSettings, language: str, codes: list[str]
) -> tuple[dict[str, str], list[str]]:
    shared = CODE_LABELS[language]
    own = kind.labels(settings, language)
    english = kind.labels(settings, ENGLISH)
    labels, fell_back = {}, []
    for code in codes:
        label = shared.get(code) or own.get(code)
        if label is None:
            label = CODE_LABELS[ENGLISH].get(code) or english[code]
            fell_back.append(code)
        labels[code] = label
    return labels, fell_back
