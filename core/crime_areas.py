"""Serious cross-border crime areas of the Eurojust dataflow EJ_XB_CONV, as sets of ICCS codes.

Eurojust asks for persons convicted by crime area, not by ICCS code; each area is defined
here as the ICCS codes (with all their sub-codes) whose main offence puts a person in it.
The areas are disjoint, so the areas add up to their TOTAL: a person convicted of several
offences counts once, under the area of the main offence of the year (the counting rule of
the persons_convicted mart).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from core.reference import IccsCode


@dataclass(frozen=True)
class CrimeArea:
    """A code of CL_XB_CRIME with the ICCS codes (mart form, e.g. '0906') it covers and why."""

    code: str
    name: str
    iccs: tuple[str, ...]
    definition: str


CRIME_AREAS: tuple[CrimeArea, ...] = (
    CrimeArea(
        "TERR",
        "Terrorism",
        ("0906",),
        "ICCS 0906 Terrorism (terrorist offences, participation in and financing of a "
        "terrorist group), the offences of Directive (EU) 2017/541.",
    ),
    CrimeArea(
        "THB",
        "Trafficking in human beings",
        ("0204",),
        "ICCS 0204 Trafficking in persons, every purpose of exploitation (Directive 2011/36/EU).",
    ),
    CrimeArea(
        "DRUG_TRAF",
        "Drug trafficking",
        ("06012",),
        "ICCS 06012 Unlawful trafficking, cultivation or production of controlled drugs "
        "not for personal consumption; possession for own use (06011) is not included.",
    ),
    CrimeArea(
        "MIGR_SMUG",
        "Migrant smuggling",
        ("08051",),
        "ICCS 08051 Smuggling of migrants offences (Directive 2002/90/EC); other acts "
        "related to migration (08059) are not included.",
    ),
    CrimeArea(
        "MONEY_LAUND",
        "Money laundering",
        ("07041",),
        "ICCS 07041 Money laundering (Directive (EU) 2018/1673).",
    ),
    CrimeArea(
        "ORG_CRIME",
        "Organised crime",
        ("09051",),
        "ICCS 09051 Participation in an organised criminal group "
        "(Framework Decision 2008/841/JHA).",
    ),
    CrimeArea(
        "CYBER",
        "Cybercrime",
        ("0903", "030221"),
        "ICCS 0903 Acts against computer systems (Directive 2013/40/EU) and ICCS 030221 "
        "child pornography, the cyber-enabled offence counted with cybercrime in EU "
        "cybercrime reporting (Directive 2011/93/EU).",
    ),
    CrimeArea(
        "GOODS_SMUG",
        "Smuggling of goods",
        ("08044",),
        "ICCS 08044 Smuggling of goods (customs offences).",
    ),
)


def area_by_iccs(codes: Iterable[IccsCode]) -> dict[str, str]:
    """Every ICCS code (mart form) that falls in an area, with the area's code.

    Walks each code up its parents, so a sub-code (e.g. 060121) lands in the area of its
    ancestor (06012). Raises if the areas overlap, which would break area totals.
    """
    parent = {c.code: c.parent for c in codes}
    area_of_root = {}
    for area in CRIME_AREAS:
        for code in area.iccs:
            if code not in parent:
                raise ValueError(f"crime area {area.code}: ICCS {code} is not in iccs_codes.csv")
            area_of_root[code] = area.code
    result: dict[str, str] = {}
    for code in parent:
        found = [
            area_of_root[ancestor]
            for ancestor in _self_and_ancestors(code, parent)
            if ancestor in area_of_root
        ]
        if len(found) > 1:
            raise ValueError(f"ICCS {code} is in several crime areas: {', '.join(found)}")
        if found:
            result[code] = found[0]
    return result


def _self_and_ancestors(code: str, parent: dict[str, str | None]) -> list[str]:
    chain = []
    current: str | None = code
    while current is not None:
        chain.append(current)
        current = parent.get(current)
    return chain
