"""The marts a partner table can read, with their columns, from the dbt project's YAML.

The model YAML beside every mart documents each column; reading it (rather than keeping a
list here) means a configuration is checked against the marts as they are, and a new mart
or column needs no change in this library.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

MARTS_DIR = Path(__file__).resolve().parents[2] / "dbt_project" / "models" / "marts"
MONTH_COLUMN = "ref_month"


@dataclass(frozen=True)
class Mart:
    name: str
    columns: tuple[str, ...]

    @property
    def monthly(self) -> bool:
        """Partner packages are monthly: only marts by month of reference can feed them."""
        return MONTH_COLUMN in self.columns


@cache
def mart_catalogue(marts_dir: Path = MARTS_DIR) -> dict[str, Mart]:
    """Every mart documented under `marts_dir`, by name."""
    marts: dict[str, Mart] = {}
    for path in sorted(marts_dir.rglob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for model in document.get("models") or ():
            columns = tuple(column["name"] for column in model.get("columns") or ())
            marts[model["name"]] = Mart(model["name"], columns)
    return marts
