"""Code lists read from the warehouse's reference seeds (dbt_project/seeds/reference).

The seeds are the single source of ICCS, NUTS, country, customs-post and SDMX status codes:
validation of the registers and the SDMX structures read the same files dbt loads, so a code
cannot be valid in one place and unknown in another.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl


@dataclass(frozen=True)
class CodeLists:
    municipalities: tuple[str, ...]
    countries: tuple[str, ...]  # ISO 3166-1 alpha-2
    eu_member_states: tuple[str, ...]
    customs_posts: tuple[str, ...]  # names exactly as the customs register writes them


@cache
def load_code_lists(reference_dir: Path) -> CodeLists:
    municipalities = pl.read_csv(reference_dir / "municipalities.csv", infer_schema=False)
    countries = pl.read_csv(reference_dir / "countries.csv", infer_schema=False)
    posts = pl.read_csv(reference_dir / "customs_posts.csv", infer_schema=False)
    return CodeLists(
        municipalities=tuple(municipalities["municipality_name"].to_list()),
        countries=tuple(countries["alpha2"].to_list()),
        eu_member_states=tuple(countries.filter(pl.col("eu27_2020") == "true")["alpha2"].to_list()),
        customs_posts=tuple(posts["customs_post"].to_list()),
    )


@dataclass(frozen=True)
class CodeSpec:
    """One code of a code list: id, English name, optional parent and description."""

    id: str
    name: str
    parent: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class CodeListSpec:
    """A code list before it becomes an sdmx1 Codelist; `additive` marks true hierarchies."""

    id: str
    name: str
    codes: tuple[CodeSpec, ...]
    additive: bool = True


@dataclass(frozen=True)
class IccsCode:
    """A row of iccs_codes.csv: `code` as in the marts ('0101'), `sdmx_id` as Eurostat's."""

    code: str
    sdmx_id: str
    level: int
    parent: str | None
    name: str


def _read(path: Path) -> pl.DataFrame:
    if not path.is_file():
        raise FileNotFoundError(f"reference file {path} is missing")
    return pl.read_csv(path, infer_schema=False)


def iccs_codes(reference_dir: Path) -> list[IccsCode]:
    """All ICCS codes with their hierarchy, codes kept as text (leading zeros matter)."""
    frame = _read(reference_dir / "iccs_codes.csv")
    return [
        IccsCode(
            code=row["code"],
            sdmx_id=row["eurostat_code"],
            level=int(row["level"]),
            parent=row["parent"] or None,
            name=row["label_en"],
        )
        for row in frame.iter_rows(named=True)
    ]


def geo_codes(reference_dir: Path, country: str, nuts_vintage: str) -> list[CodeSpec]:
    """The country and its NUTS 3 regions of the given vintage, regions under the country."""
    countries = _read(reference_dir / "countries.csv").filter(pl.col("alpha2") == country)
    if countries.height != 1:
        raise ValueError(f"country {country!r} is not in countries.csv")
    column = f"code_{nuts_vintage}"
    nuts = _read(reference_dir / "nuts_codes.csv")
    if column not in nuts.columns:
        raise ValueError(f"nuts_codes.csv has no column {column!r} (NUTS vintage {nuts_vintage})")
    regions = nuts.filter(
        (pl.col("country") == country) & (pl.col("level") == "3") & pl.col(column).is_not_null()
    ).sort(column)
    return [CodeSpec(country, countries["name"][0])] + [
        CodeSpec(row[column], row["name"], parent=country) for row in regions.iter_rows(named=True)
    ]


def status_codes(reference_dir: Path, file_name: str) -> list[CodeSpec]:
    """SDMX cross-domain status codes (OBS_STATUS, CONF_STATUS) in the seed's order."""
    frame = _read(reference_dir / file_name)
    return [CodeSpec(row["code"], row["label"]) for row in frame.iter_rows(named=True)]
