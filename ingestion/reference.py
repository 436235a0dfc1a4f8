"""Code lists that validation needs from the reference seeds (national data, not code)."""

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
