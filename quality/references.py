"""The reference data the checks compare against, read from the same seeds and settings that
the ingestion and dbt use (SPEC 3.6: national data lives in reference tables, never in code).

Read once per suite run: a check then works with plain tuples, and a new municipality or ICCS
code is one more seed row, not a code change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path

import polars as pl

from core.contracts import CITIZENSHIP_STATELESS
from core.reference import load_code_lists
from core.settings import Settings

# Dates a register may carry: nothing before the registers existed (the ingestion's own
# floors), nothing after tomorrow (a day of slack for clocks and time zones).
INCIDENT_OLDEST = date(1990, 1, 1)
CONVICTION_OLDEST = date(1900, 1, 1)
CUSTOMS_OLDEST = date(1990, 1, 1)
STATISTICS_OLDEST = date(1990, 1, 1)
FUTURE_SLACK = timedelta(days=1)


@dataclass(frozen=True)
class IccsCode:
    code: str
    level: int
    parent: str | None


@dataclass(frozen=True)
class References:
    """Everything a suite needs besides the warehouse, fixed for one run."""

    now: datetime
    country_code: str
    lat_range: tuple[float, float]
    lon_range: tuple[float, float]
    municipalities: tuple[str, ...]
    municipality_nuts3: tuple[tuple[str, str], ...]
    nuts3_codes: tuple[str, ...]
    citizenships: tuple[str, ...]  # ISO 3166-1 alpha-2 and XX (stateless)
    other_member_states: tuple[str, ...]  # EU member states but the deployment's own country
    iccs: tuple[IccsCode, ...]
    mapped_sections: tuple[str, ...]  # ICCS sections the correspondence can classify into

    @property
    def latest_time(self) -> datetime:
        return self.now + FUTURE_SLACK

    @property
    def iccs_codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.iccs)


def load_references(settings: Settings, now: datetime) -> References:
    codes = load_code_lists(settings.reference_dir)
    municipality_nuts3, iccs, mapped_sections = _seed_tables(settings.reference_dir)
    return References(
        now=now,
        country_code=settings.country.code,
        lat_range=settings.country.lat_range,
        lon_range=settings.country.lon_range,
        municipalities=codes.municipalities,
        municipality_nuts3=municipality_nuts3,
        nuts3_codes=tuple(sorted({nuts3 for _, nuts3 in municipality_nuts3})),
        citizenships=(*codes.countries, CITIZENSHIP_STATELESS),
        other_member_states=tuple(s for s in codes.eu_member_states if s != settings.country.code),
        iccs=iccs,
        mapped_sections=mapped_sections,
    )


@cache
def _seed_tables(
    reference_dir: Path,
) -> tuple[tuple[tuple[str, str], ...], tuple[IccsCode, ...], tuple[str, ...]]:
    """Seeds read as text, so ICCS codes keep their leading zeros."""
    municipalities = pl.read_csv(reference_dir / "municipalities.csv", infer_schema=False)
    iccs_rows = pl.read_csv(reference_dir / "iccs_codes.csv", infer_schema=False)
    correspondence = pl.read_csv(reference_dir / "offence_code_iccs.csv", infer_schema=False)
    iccs = tuple(
        IccsCode(row["code"], int(row["level"]), row["parent"] or None)
        for row in iccs_rows.iter_rows(named=True)
    )
    parents = {c.code: c.parent for c in iccs}

    def section(code: str) -> str:
        while parents.get(code):
            code = parents[code]
        return code

    classified = set(correspondence["iccs_code"]) | set(correspondence["iccs_code_attempt"])
    return (
        tuple(municipalities.select("municipality_name", "nuts3").iter_rows()),
        iccs,
        tuple(sorted({section(code) for code in classified if code})),
    )
