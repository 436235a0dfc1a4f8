"""How the published tables of persons convicted relate to each other, for disclosure control
(SPEC 7: audited over everything published of the same population).

CRIM_JUST (domestic convictions by ICCS code, sex, age and citizenship) and EJ_XB_CONV (by
crime area, citizenship and origin) count the same persons of a year: a crime area is a set of
ICCS codes (`crime_areas`), so its domestic count of a citizenship is CRIM_JUST's count of
those codes at sex T and age TOTAL. Where every code of an area is published in CRIM_JUST the
link is an equation (money laundering = ICCS07041; cybercrime = ICCS0903 + ICCS030221); where
an area's codes are below what CRIM_JUST publishes, it is part of the rest of its nearest
published ancestor: that ancestor is at least its published children plus the areas in its
rest (ICCS08 >= migrant smuggling + smuggling of goods).

Two vintages of the same dataflow are linked cell by cell (an unchanged cell is one unknown);
`disclosure.protect` keeps a link only where it holds on the true values of both tables.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.crime_areas import CRIME_AREAS
from core.disclosure import Cell, Dimension, Link
from core.reference import iccs_codes
from core.settings import StructureSettings
from core.vocabulary import DATAFLOWS_OF_PERSONS
from sdmx_export import codelists

CRIM_JUST, EJ_XB_CONV = DATAFLOWS_OF_PERSONS
DOMESTIC = "DOM"


def identity_links(first: str, second: str, dimensions: Sequence[Dimension]) -> list[Link]:
    """Every published cell of one table the same as in another of the same kind (vintages)."""
    cells = [()]
    for dimension in dimensions:
        codes = [c for c in dimension.codes if c not in dimension.unpublished]
        cells = [(*cell, (dimension.column, code)) for cell in cells for code in codes]
    return [Link((Cell(first, cell),), (Cell(second, cell),)) for cell in cells]


def crim_just_area_links(
    crim_just: str, ej_xb_conv: str, settings: StructureSettings
) -> list[Link]:
    """The links between a CRIM_JUST table and an EJ_XB_CONV table of the same year, for every
    citizenship code (module docstring). Raises ValueError for an area the rules cannot place
    (codes both published and not, or under several published ancestors)."""
    iccs_list = codelists.iccs_code_list(settings)
    children: dict[str, list[str]] = {}
    for code in iccs_list.codes:
        if code.parent is not None:
            children.setdefault(code.parent, []).append(code.id)
    published = {c.id for c in iccs_list.codes}
    mart = {c.code: c for c in iccs_codes(settings.reference_dir)}

    def nearest_published(code: str) -> str:
        current = mart[code].parent
        while current is not None and mart[current].sdmx_id not in published:
            current = mart[current].parent
        return codelists.TOTAL if current is None else mart[current].sdmx_id

    equal: dict[str, tuple[str, ...]] = {}
    in_rest: dict[str, list[str]] = {}
    for area in CRIME_AREAS:
        own = [mart[code].sdmx_id for code in area.iccs]
        if all(code in published for code in own):
            equal[area.code] = tuple(own)
            continue
        ancestors = {nearest_published(code) for code in area.iccs}
        if any(code in published for code in own) or len(ancestors) != 1:
            raise ValueError(
                f"crime area {area.code}: ICCS {', '.join(area.iccs)} are neither all published "
                "in CRIM_JUST nor all under one published code: no link rule for it"
            )
        in_rest.setdefault(ancestors.pop(), []).append(area.code)

    def crim_just_cell(iccs: str, citizen: str) -> Cell:
        return Cell.of(crim_just, ICCS=iccs, SEX="T", AGE=codelists.TOTAL, CITIZEN=citizen)

    def area_cell(area: str, citizen: str) -> Cell:
        return Cell.of(ej_xb_conv, XB_CRIME=area, CITIZEN=citizen, ECRIS=DOMESTIC)

    links = []
    for citizen in (c.id for c in codelists.CITIZEN.codes):
        for area, codes in equal.items():
            parts = tuple(crim_just_cell(code, citizen) for code in codes)
            links.append(Link((area_cell(area, citizen),), parts))
        for ancestor, areas in in_rest.items():
            parts = (
                *(crim_just_cell(child, citizen) for child in children.get(ancestor, ())),
                *(area_cell(area, citizen) for area in areas),
            )
            links.append(Link((crim_just_cell(ancestor, citizen),), parts, exact=False))
    return links
