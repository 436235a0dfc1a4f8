"""What an SDMX delivery depends on besides the data: who sends it and for which country.

Kept as one value passed in by the caller (Dagster resources, the CLI, tests), so the
library never reads the environment and a deployment for another country or agency changes
settings, not code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_THRESHOLD = 3
REFERENCE_DIR = Path(__file__).resolve().parent.parent / "dbt_project" / "seeds" / "reference"


@dataclass(frozen=True)
class Requirement:
    """What disclosure control requires of every suppressed cell's feasible interval (the
    range an intruder can narrow its value to, `sdmx_export.disclosure`): a primary cell's
    reaches `threshold` and spans at least `primary_span` (default: the threshold), a
    secondary cell's spans at least `secondary_span` (1: it is not a point)."""

    threshold: int = DEFAULT_THRESHOLD
    primary_span: int | None = None
    secondary_span: int = 1

    @property
    def span_of_primary(self) -> int:
        return self.threshold if self.primary_span is None else self.primary_span

    def describe(self) -> str:
        return (
            f"primary: upper >= {self.threshold} and upper - lower >= {self.span_of_primary}; "
            f"secondary: upper - lower >= {self.secondary_span}"
        )


@dataclass(frozen=True)
class StructureSettings:
    """Identity of the maintaining agency and the scope of the GEO code list.

    `nuts_vintage` picks the NUTS column of `nuts_codes.csv` (`code_2021` or `code_2024`);
    `version` is the version of every maintainable artefact (code lists, concept scheme,
    DSDs, dataflows), so a change of structures is one new version, never an edit in place.
    `disclosure` is what disclosure control requires of every published table of persons.
    """

    agency_id: str = "LT_IVPK"
    agency_name: str = "Statistics unit of the interior ministry's IT and communications department"
    country: str = "LT"
    nuts_vintage: str = "2024"
    version: str = "1.0"
    language: str = "en"
    reference_dir: Path = field(default=REFERENCE_DIR)
    disclosure: Requirement = field(default_factory=Requirement)
