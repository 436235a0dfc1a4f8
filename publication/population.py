"""Everything published of the persons convicted in a year, for the disclosure control of a
new table of them (SPEC 7: audited over everything published of the same population).

The members: every vintage of CRIM_JUST and EJ_XB_CONV of the year, and every package of the
partners' monthly tables that count persons of one citizenship group convicted by the
country's own courts (source persons_convicted_by_citizenship, filtered on via_ecris false
and on citizenships of one group, broken down by sex and anything else only with its total).
How they relate, as the intruder may use it:

- vintages of one table of one period: cell by cell (an unchanged cell is one unknown);
- CRIM_JUST and EJ_XB_CONV: by crime area (`linked_tables.crim_just_area_links`);
- CRIM_JUST and the partners' months: a person convicted in a month of the year is counted
  in the year under their citizenship group and sex (not always under the month's main
  offence or age group, which the year's main conviction decides), so the year's count of a
  group and sex at the ICCS and age totals is at least the persons of that sex of any month
  in the partners' tables of that group (the tables of different citizenships together).

Links are given as `disclosure.Link`s; `protect` keeps those that hold on the true values.
Partner tables whose persons the year does not contain (ECRIS convictions, no citizenship
filter) or that break sex down only under other breakdowns have no link to the year.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping, Sequence
from functools import cache

import duckdb
import polars as pl

from core.disclosure import CURRENT, Cell, Dimension, Link, Publication, earlier_vintage
from core.settings import StructureSettings
from core.vocabulary import PERSONS, UNKNOWN
from publication.datasets import PERSON_DIMENSIONS
from publication.linked_tables import CRIM_JUST, EJ_XB_CONV, crim_just_area_links, identity_links
from publication.partners.breakdowns import BREAKDOWNS, STATELESS, every_cell
from publication.partners.breakdowns import table_dimensions as partner_dimensions
from publication.partners.config import AgreedTable, PartnerConfig, load_partners
from publication.partners.structures import partner_structures
from publication.stored_cells import vintages_as_protected
from sdmx_export import codelists
from sdmx_export.layout import DsdLayout
from sdmx_export.structures import build_structures, dataflow

PERSONS_BY_CITIZENSHIP = "persons_convicted_by_citizenship"
SEX = "sex"
SEX_TOTAL = codelists.SEX.codes[0].id


@dataclasses.dataclass(frozen=True)
class PersonsOfAGroup:
    """A partner table of persons of one citizenship group convicted by the country's courts:
    the group, its citizenships, and its cells at every total but sex, by sex code."""

    table: AgreedTable
    group: str
    citizenships: frozenset[str]
    by_sex: Mapping[str, tuple[tuple[str, str], ...]]


@dataclasses.dataclass(frozen=True)
class _Member:
    kind: str  # a dataflow id
    period: str  # '2022' or '2022-03'
    vintage: int
    name: str
    dimensions: tuple[Dimension, ...]
    partner_table: PersonsOfAGroup | None = None


def persons_of_a_group(table: AgreedTable, settings: StructureSettings) -> PersonsOfAGroup | None:
    """The table as the year's count of its citizenship group contains it, or None when it
    counts persons the year's CRIM_JUST does not, or has no cell at every total but sex
    (module docstring)."""
    filters = dict(table.filters)
    citizenships = frozenset(str(code) for code in filters.get("citizenship", ()))
    groups = {citizen_group(code, settings) for code in citizenships}
    if (
        not table.disclosure_control
        or table.source != PERSONS_BY_CITIZENSHIP
        or filters.get("via_ecris") != (False,)
        or len(groups) != 1
    ):
        return None
    totals: dict[str, str] = {}
    sexes: dict[str, dict[str, str]] = {SEX_TOTAL: {}}  # no sex breakdown: the table's total
    for breakdown in table.breakdowns:
        kind = BREAKDOWNS[breakdown.column]
        if breakdown.column == SEX:
            codes = [c.id for c in codelists.SEX.codes if breakdown.total or c.parent]
            sexes = {code: {kind.concept: code} for code in codes}
        elif breakdown.total:
            totals[kind.concept] = next(
                c.id for c in kind.code_list(settings).codes if c.parent is None
            )
        else:
            return None
    by_sex = {sex: tuple(sorted((totals | own).items())) for sex, own in sexes.items()}
    return PersonsOfAGroup(table, groups.pop(), citizenships, by_sex)


def citizen_group(citizenship: str, settings: StructureSettings) -> str:
    """The CITIZEN code a citizenship counts under (the rule of int_convictions_final)."""
    if citizenship == settings.country:
        return "NAT"
    if citizenship == STATELESS:
        return "STLS"
    eu27 = _eu27(settings)
    if citizenship in eu27:
        return "EU27_2020_FOR" if eu27[citizenship] else "NEU27_2020_FOR"
    return UNKNOWN


@cache
def _eu27(settings: StructureSettings) -> dict[str, bool]:
    frame = pl.read_csv(settings.reference_dir / "countries.csv", infer_schema=False)
    return {code: flag == "true" for code, flag in frame.select("alpha2", "eu27_2020").iter_rows()}


def linked_publications(
    con: duckdb.DuckDBPyConnection,
    year: int,
    *,
    kind: str,
    period: str,
    dimensions: Sequence[Dimension],
    earlier: int,
    settings: StructureSettings,
    partners: Mapping[str, PartnerConfig] | None = None,
) -> tuple[list[Publication], list[Link]]:
    """The year's published tables of persons other than the table being protected (`kind`
    of `period`, with `earlier` vintages already published, given to `protect` as
    `published`), and the links between every two tables of the system."""
    partners = load_partners(settings=settings) if partners is None else partners
    members = [_Member(kind, period, earlier + 1, CURRENT, tuple(dimensions))]
    members += [
        _Member(kind, period, i + 1, earlier_vintage(i), tuple(dimensions)) for i in range(earlier)
    ]
    publications = []
    structures = build_structures(settings)
    for other in (CRIM_JUST, EJ_XB_CONV):
        layout = DsdLayout.of(dataflow(structures, other))
        other_dimensions = tuple(PERSON_DIMENSIONS[other](settings))
        for reference, vintage, frame in vintages_as_protected(con, other, str(year), layout):
            if (other, reference) == (kind, period):
                continue
            member = _Member(other, reference, vintage, f"{other} {reference} v{vintage}",
                             other_dimensions)  # fmt: skip
            publications.append(_publication(member, frame))
            members.append(member)
    current_table = None
    for partner in partners.values():
        partner_flows = None
        for table in partner.tables:
            grouped = persons_of_a_group(table, settings)
            if grouped is None:
                continue
            if table.dataflow_id == kind:
                current_table = grouped
            partner_flows = partner_flows or partner_structures(partner, settings)
            layout = DsdLayout.of(dataflow(partner_flows, table.dataflow_id))
            stored = vintages_as_protected(con, table.dataflow_id, str(year), layout)
            for month, vintages in itertools.groupby(stored, key=lambda item: item[0]):
                if (table.dataflow_id, month) == (kind, period):
                    continue
                frames = [(vintage, frame) for _, vintage, frame in vintages]
                for member, frame in _partner_members(grouped, month, frames, settings):
                    publications.append(_publication(member, frame))
                    members.append(member)
    if current_table is not None:
        members[: earlier + 1] = [
            dataclasses.replace(m, partner_table=current_table) for m in members[: earlier + 1]
        ]
    return publications, _links(members, settings)


def link_codes(table: AgreedTable, settings: StructureSettings) -> dict[str, set[str]]:
    """The codes, by concept, of the cells of `table` that links name (its totals by sex):
    a new package's table must have them among its codes even when they count nobody."""
    grouped = persons_of_a_group(table, settings)
    codes: dict[str, set[str]] = {}
    for cell in grouped.by_sex.values() if grouped else ():
        for concept, code in cell:
            codes.setdefault(concept, set()).add(code)
    return codes


def _partner_members(
    table: PersonsOfAGroup,
    month: str,
    frames: list[tuple[int, pl.DataFrame]],
    settings: StructureSettings,
) -> list[tuple[_Member, pl.DataFrame]]:
    """Each package's table of the month over the same codes (those of any package, and those
    links name), zero cells filled in."""
    concepts = [BREAKDOWNS[b.column].concept for b in table.table.breakdowns]
    for vintage, frame in frames:
        if (
            not set(concepts) <= set(frame.columns)
            or frame.select(concepts).null_count().sum_horizontal().item()
        ):
            raise ValueError(
                f"{table.table.dataflow_id} {month} package {vintage} was made with other "
                f"breakdowns than today's {', '.join(concepts)}: it cannot be read"
            )
    codes = {c: set().union(*(set(frame[c]) for _, frame in frames)) for c in concepts}
    for concept, extra in link_codes(table.table, settings).items():
        codes[concept] |= extra
    ordered = {c: tuple(sorted(codes[c])) for c in concepts}
    dimensions = tuple(partner_dimensions(table.table.breakdowns, ordered, settings))
    members = []
    for vintage, frame in frames:
        cells = every_cell(
            frame.select(*concepts, pl.col("OBS_VALUE").cast(pl.Int64).alias(PERSONS),
                         "CONF_STATUS"),
            ordered,
            PERSONS,
        )  # fmt: skip
        name = f"{table.table.dataflow_id} {month} package {vintage}"
        members.append((_Member(table.table.dataflow_id, month, vintage, name, dimensions,
                                table), cells))  # fmt: skip
    return members


def _publication(member: _Member, frame: pl.DataFrame) -> Publication:
    columns = [d.column for d in member.dimensions]
    if "OBS_VALUE" in frame.columns:
        frame = frame.select(*columns, pl.col("OBS_VALUE").cast(pl.Int64).alias(PERSONS),
                             "CONF_STATUS")  # fmt: skip
    return Publication(member.name, frame, member.dimensions, PERSONS)


def _links(members: list[_Member], settings: StructureSettings) -> list[Link]:
    links: list[Link] = []
    for a, b in itertools.combinations(members, 2):
        if (a.kind, a.period) == (b.kind, b.period) and a.name != CURRENT:
            links += identity_links(a.name, b.name, a.dimensions)
        elif {a.kind, b.kind} == {CRIM_JUST, EJ_XB_CONV}:
            crim_just, ej_xb_conv = (a, b) if a.kind == CRIM_JUST else (b, a)
            links += crim_just_area_links(crim_just.name, ej_xb_conv.name, settings)
    months: dict[str, list[tuple[_Member, PersonsOfAGroup]]] = {}
    for member in members:
        if member.partner_table is not None:
            months.setdefault(member.period, []).append((member, member.partner_table))
    for year in (m for m in members if m.kind == CRIM_JUST):
        for tables in months.values():
            links += _month_in_year(year.name, tables)
    return links


def _month_in_year(year: str, tables: list[tuple[_Member, PersonsOfAGroup]]) -> list[Link]:
    """The year's count of a group and sex >= each package's persons of that sex in the
    month, and >= the sum over any package of each table, when the tables of the group are
    of different citizenships (`protect` keeps the sums that hold on the true values)."""

    def year_cell(group: str, sex: str) -> Cell:
        return Cell.of(year, ICCS=codelists.TOTAL, SEX=sex, AGE=codelists.TOTAL, CITIZEN=group)

    links = [
        Link((year_cell(grouped.group, sex),), (Cell(member.name, codes),), exact=False)
        for member, grouped in tables
        for sex, codes in grouped.by_sex.items()
    ]
    by_group: dict[str, dict[str, list[tuple[_Member, PersonsOfAGroup]]]] = {}
    for member, grouped in tables:
        by_group.setdefault(grouped.group, {}).setdefault(member.kind, []).append((member, grouped))
    for group, packages in by_group.items():
        citizenships = [vintages[0][1].citizenships for vintages in packages.values()]
        if len(packages) < 2 or sum(map(len, citizenships)) != len(
            frozenset().union(*citizenships)
        ):
            continue  # one table (linked above) or tables of overlapping citizenships
        for together in itertools.product(*packages.values()):  # a package of each table
            sexes = set.intersection(*(set(grouped.by_sex) for _, grouped in together))
            for sex in sorted(sexes):
                parts = tuple(
                    Cell(member.name, grouped.by_sex[sex]) for member, grouped in together
                )
                links.append(Link((year_cell(group, sex),), parts, exact=False))
    return links
