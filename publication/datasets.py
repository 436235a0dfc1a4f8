"""Observations of each dataflow, made from the marts (polars DataFrames with the marts'
columns), ready for the writers: one column per dimension, OBS_VALUE, OBS_STATUS,
CONF_STATUS, sorted by key.

- CRIM_OFF_CAT from recorded_offences_annual: the ICCS codes of CL_ICCS, for the country and
  its NUTS 3 regions, as numbers (NR) and rates (P_HTHAB). Combinations the mart lacks are
  zero offences (the mart has no zero rows); a rate the mart could not compute (no
  population) is left out. Offence counts are not counts of persons, so all are free (F).
- CRIM_JUST from persons_convicted: convictions by the country's own courts (ECRIS
  convictions are counted apart, in EJ_XB_CONV), rolled up to CL_ICCS (a main offence counts
  under its own code if published, every published ancestor and TOTAL; UNMAPPED only under
  TOTAL), SEX with T, AGE with Y_LT18, Y_GE18 and TOTAL, CITIZEN with TOTAL.
- EJ_XB_CONV from persons_convicted: persons whose main offence is in a crime area
  (crime_areas), by citizenship and origin (DOM: own courts, ECRIS: received through ECRIS),
  each with TOTAL. A person counted both at home and through ECRIS in a year (the mart
  counts per via_ecris) counts in both, and twice in the ECRIS TOTAL.

Person counts go through disclosure control per year (`settings.disclosure`), audited
together with the earlier published vintages of the same year (`published`: their cells as
delivered, true values and flags) and with every vintage of the other dataflow of persons
(`linked`, `links`: `population`); `public=True` removes the values of suppressed
cells and flags them all C, otherwise (Eurostat, Eurojust) true values travel with C/D. The
exact ICCS relation is TOTAL = the sections + UNMAPPED (UNMAPPED is never published: an
unknown to the intruder, left out of the file); a section is more than its published sub-
codes, so each published code is at least the sum of its published children: partial
relations, which the audit gives the intruder as inequalities. The observations keep the
audit's interval of every suppressed cell (disclosure.AUDIT_COLUMNS) for the release
manifest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import polars as pl

from core.crime_areas import area_by_iccs
from core.disclosure import (
    AUDIT_COLUMNS,
    IS_PRIMARY,
    LOWER,
    UPPER,
    Dimension,
    Link,
    Publication,
    Relation,
    protect,
    public_values,
)
from core.reference import iccs_codes
from core.settings import StructureSettings
from core.vocabulary import PERSONS, UNMAPPED
from publication.linked_tables import CRIM_JUST, EJ_XB_CONV
from sdmx_export import codelists

CRIM_JUST_KEY = ["FREQ", "LEG_STAT", "ICCS", "SEX", "AGE", "CITIZEN", "UNIT", "GEO"]
EJ_XB_CONV_KEY = ["FREQ", "XB_CRIME", "CITIZEN", "ECRIS", "UNIT", "GEO"]


def crim_off_cat_observations(
    recorded_offences_annual: pl.DataFrame,
    settings: StructureSettings,
    *,
    obs_status: str = "A",
) -> pl.DataFrame:
    """CRIM_OFF_CAT observations from the recorded_offences_annual mart."""
    to_sdmx = _iccs_to_sdmx(settings)
    geo = [c.id for c in codelists.geo_code_list(settings).codes]
    mart = recorded_offences_annual.filter(pl.col("iccs_code").is_in(list(to_sdmx))).select(
        pl.col("ref_year"),
        pl.col("iccs_code").replace_strict(to_sdmx).alias("ICCS"),
        pl.col("geo").alias("GEO"),
        pl.col("offences").cast(pl.Float64),
        pl.col("rate_per_100k").cast(pl.Float64),
    )
    unknown_geo = sorted(set(mart["GEO"].unique()) - set(geo))
    if unknown_geo:
        raise ValueError(f"recorded_offences_annual has geo codes outside CL_GEO: {unknown_geo}")
    grid = (
        mart.select("ref_year")
        .unique()
        .join(pl.DataFrame({"ICCS": list(to_sdmx.values())}), how="cross")
        .join(pl.DataFrame({"GEO": geo}), how="cross")
    )
    full = grid.join(mart, on=["ref_year", "ICCS", "GEO"], how="left").with_columns(
        pl.col("offences").fill_null(0.0),
        pl.when(pl.col("offences").is_null())
        .then(0.0)
        .otherwise(pl.col("rate_per_100k"))
        .alias("rate_per_100k"),
    )
    units = [("NR", "offences"), ("P_HTHAB", "rate_per_100k")]
    observations = pl.concat(
        [
            full.select(
                pl.lit("A").alias("FREQ"),
                "ICCS",
                pl.lit(unit).alias("UNIT"),
                "GEO",
                pl.col("ref_year").cast(pl.String).alias("TIME_PERIOD"),
                pl.col(column).alias("OBS_VALUE"),
            )
            for unit, column in units
        ]
    ).filter(pl.col("OBS_VALUE").is_not_null())
    return observations.with_columns(
        pl.lit(obs_status).alias("OBS_STATUS"), pl.lit("F").alias("CONF_STATUS")
    ).sort(["FREQ", "ICCS", "UNIT", "GEO", "TIME_PERIOD"])


def crim_just_observations(
    persons_convicted: pl.DataFrame,
    settings: StructureSettings,
    *,
    obs_status: str = "A",
    public: bool = False,
    published: Sequence[pl.DataFrame] = (),
    linked: Sequence[Publication] = (),
    links: Sequence[Link] = (),
) -> pl.DataFrame:
    """CRIM_JUST observations (persons convicted by the country's courts) from persons_convicted.
    `linked` and `links`: the other tables of the same persons published (one year's)."""
    rolled = roll_up(
        persons_convicted.filter(~pl.col("via_ecris")).select(
            "ref_year",
            pl.col("iccs_code").alias("ICCS"),
            pl.col("sex").alias("SEX"),
            pl.col("age_group").alias("AGE"),
            pl.col("citizen_group").alias("CITIZEN"),
            pl.col("persons"),
        ),
        {
            "ICCS": _iccs_roll_up(settings),
            "SEX": ancestors(codelists.SEX),
            "AGE": ancestors(codelists.AGE),
            "CITIZEN": ancestors(codelists.CITIZEN),
        },
    )
    dimensions = crim_just_dimensions(settings)
    protected = _protect_per_year(rolled, dimensions, settings, public, published, linked, links)
    return _finish(
        protected,
        {"FREQ": "A", "LEG_STAT": "PER_CNV", "UNIT": "NR", "GEO": settings.country},
        CRIM_JUST_KEY,
        obs_status,
    )


def crim_just_dimensions(settings: StructureSettings) -> list[Dimension]:
    """CRIM_JUST's dimensions as disclosure control sees them: codes, relations, and
    UNMAPPED offences counted in TOTAL but never published."""
    iccs_list = codelists.iccs_code_list(settings)
    return [
        Dimension(
            "ICCS",
            (*(c.id for c in iccs_list.codes), UNMAPPED),
            _iccs_relations(iccs_list),
            unpublished=(UNMAPPED,),
        ),
        Dimension.from_code_list("SEX", codelists.SEX),
        Dimension.from_code_list("AGE", codelists.AGE),
        Dimension.from_code_list("CITIZEN", codelists.CITIZEN),
    ]


def ej_xb_conv_observations(
    persons_convicted: pl.DataFrame,
    settings: StructureSettings,
    *,
    obs_status: str = "A",
    public: bool = False,
    published: Sequence[pl.DataFrame] = (),
    linked: Sequence[Publication] = (),
    links: Sequence[Link] = (),
) -> pl.DataFrame:
    """EJ_XB_CONV observations (serious cross-border crime) from persons_convicted.
    `linked` and `links`: the other tables of the same persons published (one year's)."""
    areas = area_by_iccs(iccs_codes(settings.reference_dir))
    in_area = persons_convicted.filter(pl.col("iccs_code").is_in(list(areas))).select(
        "ref_year",
        pl.col("iccs_code").replace_strict(areas).alias("XB_CRIME"),
        pl.col("citizen_group").alias("CITIZEN"),
        pl.when(pl.col("via_ecris")).then(pl.lit("ECRIS")).otherwise(pl.lit("DOM")).alias("ECRIS"),
        pl.col("persons"),
    )
    rolled = roll_up(
        in_area, {column: ancestors(spec) for column, spec in EJ_XB_CONV_LISTS.items()}
    )
    dimensions = ej_xb_conv_dimensions(settings)
    protected = _protect_per_year(rolled, dimensions, settings, public, published, linked, links)
    return _finish(
        protected,
        {"FREQ": "A", "UNIT": "NR", "GEO": settings.country},
        EJ_XB_CONV_KEY,
        obs_status,
    )


EJ_XB_CONV_LISTS = {
    "XB_CRIME": codelists.XB_CRIME,
    "CITIZEN": codelists.CITIZEN,
    "ECRIS": codelists.ECRIS,
}


def ej_xb_conv_dimensions(settings: StructureSettings) -> list[Dimension]:
    """EJ_XB_CONV's dimensions as disclosure control sees them (every list is additive)."""
    return [Dimension.from_code_list(column, spec) for column, spec in EJ_XB_CONV_LISTS.items()]


PERSON_DIMENSIONS: dict[str, Callable[[StructureSettings], list[Dimension]]] = {
    CRIM_JUST: crim_just_dimensions,
    EJ_XB_CONV: ej_xb_conv_dimensions,
}


def _iccs_relations(iccs_list: codelists.CodeListSpec) -> tuple[Relation, ...]:
    """TOTAL = sections + UNMAPPED exactly; every other published code >= the sum of its
    published children (the code list is not additive below TOTAL)."""
    children: dict[str, list[str]] = {}
    for code in iccs_list.codes:
        if code.parent is not None:
            children.setdefault(code.parent, []).append(code.id)
    sections = tuple(children.pop(codelists.TOTAL, ()))
    return (
        Relation(codelists.TOTAL, (*sections, UNMAPPED)),
        *(Relation(parent, tuple(parts), exact=False) for parent, parts in children.items()),
    )


def _iccs_to_sdmx(settings: StructureSettings) -> dict[str, str]:
    """Mart ICCS code ('0101', 'TOTAL') -> CL_ICCS code ('ICCS0101', 'TOTAL')."""
    published = {c.id for c in codelists.iccs_code_list(settings).codes}
    mapping = {
        c.code: c.sdmx_id for c in iccs_codes(settings.reference_dir) if c.sdmx_id in published
    }
    return {**mapping, codelists.TOTAL: codelists.TOTAL}


def _iccs_roll_up(settings: StructureSettings) -> dict[str, list[str]]:
    """Mart ICCS code -> the CL_ICCS codes it counts under (own, published ancestors, TOTAL)."""
    codes = iccs_codes(settings.reference_dir)
    parent = {c.code: c.parent for c in codes}
    to_sdmx = _iccs_to_sdmx(settings)
    mapping: dict[str, list[str]] = {UNMAPPED: [UNMAPPED, codelists.TOTAL]}
    for code in parent:
        chain, current = [], code
        while current is not None:
            if current in to_sdmx:
                chain.append(to_sdmx[current])
            current = parent[current]
        mapping[code] = [*chain, codelists.TOTAL]
    return mapping


def ancestors(spec: codelists.CodeListSpec) -> dict[str, list[str]]:
    """Code -> itself and its ancestors in an additive code list: the cells a count of that
    code also counts in."""
    parent = {c.id: c.parent for c in spec.codes}
    result = {}
    for code in parent:
        chain, current = [], code
        while current is not None:
            chain.append(current)
            current = parent[current]
        result[code] = chain
    return result


def roll_up(
    frame: pl.DataFrame,
    roll_ups: dict[str, dict[str, list[str]]],
    *,
    by: tuple[str, ...] = ("ref_year",),
    value: str = PERSONS,
) -> pl.DataFrame:
    """Sum `value` into every aggregate each row belongs to, dimension by dimension; `by`
    are the other columns kept (the period). A code with no place in a mapping is refused,
    so no count is dropped silently."""
    keys = [*by, *roll_ups]
    for column, mapping in roll_ups.items():
        unknown = sorted(set(frame[column].unique().to_list()) - set(mapping), key=str)
        if unknown:
            raise ValueError(f"{column} has codes with no place in the code list: {unknown}")
        frame = (
            frame.with_columns(
                pl.col(column).replace_strict(mapping, return_dtype=pl.List(pl.String))
            )
            .explode(column)
            .group_by(keys)
            .agg(pl.col(value).sum())
        )
    return frame


def _protect_per_year(
    rolled: pl.DataFrame,
    dimensions: list[Dimension],
    settings: StructureSettings,
    public: bool,
    published: Sequence[pl.DataFrame],
    linked: Sequence[Publication],
    links: Sequence[Link],
) -> pl.DataFrame:
    """Each year's table protected with the earlier publications of that year (`published`:
    observations as delivered, TIME_PERIOD, dimension columns, OBS_VALUE, CONF_STATUS) and,
    for a single year, the other tables of its persons (`publication.population`)."""
    if (linked or links) and rolled["ref_year"].n_unique() > 1:
        raise ValueError("linked tables are of one year: protect one year at a time")
    columns = [d.column for d in dimensions]
    tables = []
    for (year,), table in sorted(rolled.partition_by("ref_year", as_dict=True).items()):
        earlier = [
            frame
            for frame in (_of_year(frame, columns, year) for frame in published)
            if frame.height
        ]
        protected = protect(
            table,
            dimensions,
            value=PERSONS,
            requirement=settings.disclosure,
            published=earlier,
            linked=linked,
            links=links,
        )
        if public:
            protected = public_values(protected, value=PERSONS)
        tables.append(protected.with_columns(pl.lit(year).alias("ref_year")))
    if not tables:
        return pl.DataFrame(
            schema={
                **dict.fromkeys(columns, pl.String),
                PERSONS: pl.Int64,
                "CONF_STATUS": pl.String,
                LOWER: pl.Float64,
                UPPER: pl.Float64,
                IS_PRIMARY: pl.Boolean,
                "ref_year": pl.Int64,
            }
        )
    return pl.concat(tables)


def _of_year(frame: pl.DataFrame, columns: list[str], year: int) -> pl.DataFrame:
    return frame.filter(pl.col("TIME_PERIOD") == str(year)).select(
        *columns, pl.col("OBS_VALUE").cast(pl.Int64).alias(PERSONS), "CONF_STATUS"
    )


def _finish(
    protected: pl.DataFrame, constants: dict[str, str], key: list[str], obs_status: str
) -> pl.DataFrame:
    return (
        protected.with_columns(
            *(pl.lit(value).alias(column) for column, value in constants.items()),
            pl.col("ref_year").cast(pl.String).alias("TIME_PERIOD"),
            pl.col(PERSONS).alias("OBS_VALUE"),
            pl.lit(obs_status).alias("OBS_STATUS"),
        )
        .select(*key, "TIME_PERIOD", "OBS_VALUE", "OBS_STATUS", "CONF_STATUS", *AUDIT_COLUMNS)
        .sort([*key, "TIME_PERIOD"])
    )
