"""Disclosure-controlled person counts for the dashboards' public mode (SPEC 7).

The convictions page shows one-way breakdowns of persons convicted per year (sex, age group,
citizenship group, sanction, ICCS section), each with its total, domestic convictions and
ECRIS convictions apart. Each breakdown of one year and origin is a small additive table
(TOTAL = sum of its codes, Y_GE18 = sum of the adult age groups, ...) protected by
`sdmx_export.disclosure.protect`: primary suppression below the threshold, secondary
suppression so no hidden cell can be recomputed from the published ones.

The breakdowns of one year and origin share their TOTAL. Should protection hide TOTAL in any
of them (a total below the threshold, or no other cell to hide), it could still be read in
another breakdown and reveal a hidden cell there; so then every cell of that year and origin
is hidden. Different years and origins share no published total, so they cannot reveal each
other's cells.

Two tables go into the snapshot: `serving.persons_convicted_breakdowns` (true values with
CONF_STATUS F/C/D, for statisticians checking what public users will see) and
`public.persons_convicted_breakdowns` (values of cells not free removed, and the one flag C
for every suppressed cell, never C vs D, as in every public output): the internal face's
public preview reads only the latter, and the public snapshot (dashboards.public_snapshot)
derives the same from the former.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from sdmx_export.disclosure import (
    FREE,
    PRIMARY,
    SECONDARY,
    STATUS,
    Dimension,
    Relation,
    protect,
)

TOTAL = "TOTAL"
UNMAPPED = "UNMAPPED"
PERSONS = "persons"
AGE_CHILD = ("Y14-17",)
AGE_ADULT = ("Y18-24", "Y25-34", "Y35-44", "Y45-54", "Y55-64", "Y_GE65")
CITIZEN_GROUPS = ("NAT", "EU27_2020_FOR", "NEU27_2020_FOR", "STLS", "UNK")
SANCTIONS = (
    "imprisonment", "suspended", "restriction_of_liberty", "community_work", "fine", "arrest",
    "other",
)  # fmt: skip


@dataclass(frozen=True)
class Breakdown:
    """A one-way table: the mart column it reads, the codes shown in order (TOTAL first),
    the aggregates each mart code also counts under, and the additive relations."""

    name: str
    column: str
    codes: tuple[str, ...]
    aggregates: dict[str, tuple[str, ...]]
    relations: tuple[Relation, ...]

    def roll_up(self) -> dict[str, list[str]]:
        """Each mart code -> every code of the table it counts under."""
        leaves = [c for c in self.codes if c != TOTAL and c not in self.aggregates]
        parents = {leaf: [a for a, parts in self.aggregates.items() if leaf in parts]
                   for leaf in leaves}  # fmt: skip
        return {leaf: [leaf, *parents[leaf], TOTAL] for leaf in leaves}


def _flat(name: str, column: str, codes: tuple[str, ...]) -> Breakdown:
    return Breakdown(name, column, (TOTAL, *codes), {}, (Relation(TOTAL, codes),))


def breakdowns(iccs_sections: tuple[str, ...]) -> tuple[Breakdown, ...]:
    """The breakdowns of the convictions page; ICCS sections come from the reference."""
    age_codes = (TOTAL, "Y_LT18", "Y_GE18", *AGE_CHILD, *AGE_ADULT, "UNK")
    return (
        _flat("sex", "sex", ("M", "F")),
        Breakdown(
            "age_group",
            "age_group",
            age_codes,
            {"Y_LT18": AGE_CHILD, "Y_GE18": AGE_ADULT},
            (
                Relation(TOTAL, ("Y_LT18", "Y_GE18", "UNK")),
                Relation("Y_LT18", AGE_CHILD),
                Relation("Y_GE18", AGE_ADULT),
            ),
        ),
        _flat("citizen_group", "citizen_group", CITIZEN_GROUPS),
        _flat("sanction", "sanction", SANCTIONS),
        _flat("iccs_section", "iccs_section", (*iccs_sections, UNMAPPED)),
    )


def write_public_tables(con: duckdb.DuckDBPyConnection, threshold: int) -> list[str]:
    """Derive both breakdown tables from the snapshot's own copy of persons_convicted."""
    sections = tuple(
        code
        for (code,) in con.execute(
            "select code from reference.iccs_codes where level = 1 order by code"
        ).fetchall()
    )
    mart = con.sql(
        "select p.ref_year, p.via_ecris, p.sex, p.age_group, p.citizen_group, p.sanction, "
        "coalesce(h.ancestor_code, 'UNMAPPED') as iccs_section, p.persons "
        "from marts.persons_convicted p left join reference.iccs_hierarchy h "
        "on p.iccs_code = h.iccs_code and h.ancestor_level = 1"
    ).pl()
    protected = protect_breakdowns(mart, breakdowns(sections), threshold)
    con.register("protected_breakdowns", protected)
    hidden_removed = f"case when conf_status = '{FREE}' then persons end"
    one_flag = f"case when conf_status = '{FREE}' then '{FREE}' else '{PRIMARY}' end"
    for schema, values, status in (("serving", PERSONS, "conf_status"),
                                   ("public", hidden_removed, one_flag)):  # fmt: skip
        con.execute(f"create schema if not exists {schema}")
        con.execute(
            f"create table {schema}.persons_convicted_breakdowns as "
            f"select ref_year, via_ecris, breakdown, code, position, {values} as persons, "
            f"{status} as conf_status from protected_breakdowns order by all"
        )
    con.unregister("protected_breakdowns")
    return ["serving.persons_convicted_breakdowns", "public.persons_convicted_breakdowns"]


def protect_breakdowns(
    mart: pl.DataFrame, tables: tuple[Breakdown, ...], threshold: int
) -> pl.DataFrame:
    """Every breakdown of every year and origin with true persons and conf_status."""
    schema = {"ref_year": pl.Int64, "via_ecris": pl.Boolean, "breakdown": pl.String,
              "code": pl.String, "position": pl.Int64, PERSONS: pl.Int64,
              "conf_status": pl.String}  # fmt: skip
    parts = []
    for breakdown in tables:
        rolled = (
            mart.select(
                "ref_year",
                "via_ecris",
                pl.col(breakdown.column)
                .replace_strict(breakdown.roll_up(), return_dtype=pl.List(pl.String))
                .alias("code"),
                PERSONS,
            )
            .explode("code")
            .group_by("ref_year", "via_ecris", "code")
            .agg(pl.col(PERSONS).sum())
        )
        dimension = Dimension("code", breakdown.codes, breakdown.relations)
        for (year, via_ecris), table in rolled.partition_by(
            "ref_year", "via_ecris", as_dict=True
        ).items():
            cells = protect(table.select("code", PERSONS), [dimension], value=PERSONS,
                            threshold=threshold)  # fmt: skip
            parts.append(
                cells.with_columns(
                    pl.lit(year, pl.Int64).alias("ref_year"),
                    pl.lit(via_ecris, pl.Boolean).alias("via_ecris"),
                    pl.lit(breakdown.name).alias("breakdown"),
                    pl.int_range(pl.len(), dtype=pl.Int64).alias("position"),
                    pl.col(PERSONS).cast(pl.Int64),
                    pl.col(STATUS).alias("conf_status"),
                ).select(list(schema))
            )
    if not parts:
        return pl.DataFrame(schema=schema)
    cells = pl.concat(parts)
    total_hidden = (
        pl.col("conf_status").filter(pl.col("code") == TOTAL).ne(FREE).any()
        .over("ref_year", "via_ecris")
    )  # fmt: skip
    return cells.with_columns(
        pl.when(total_hidden & (pl.col("conf_status") == FREE))
        .then(pl.lit(SECONDARY))
        .otherwise(pl.col("conf_status"))
        .alias("conf_status")
    )
