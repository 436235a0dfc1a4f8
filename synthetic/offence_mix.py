"""The offence mix of the incident register, calibrated on Lithuania's Eurostat figures.

Every ICCS category that Eurostat publishes for Lithuania (crim_off_cat, 2022) and that the
national correspondence table can code gets exactly its recorded volume per year at scale 1;
the other offence codes fill the rest of the country's ~38,000 recorded criminal offences in
plausible proportions. Levels are those of 2022 for every generated year.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from core.settings import REFERENCE_DIR, CountryProfile
from synthetic.geography import CALIBRATION_DIR, read_csv_rows

EUROSTAT_TSV = CALIBRATION_DIR / "eurostat_crim_off_cat_baltics.tsv"
CALIBRATION_GEO = CountryProfile.code
CALIBRATION_YEAR = "2022"

# Recorded criminal offences a year (pre-trial investigations started), Lithuania ~2022.
ANNUAL_RECORDED_CRIMINAL_OFFENCES = 38_000

# Relative frequency of each national code among recorded offences. Only the split inside a
# calibrated category and the mix of the uncalibrated remainder depend on these.
CODE_WEIGHTS = {
    "BK129": 55, "BK130": 7, "BK132": 40, "BK135": 45, "BK138": 100, "BK140": 9_000,
    "BK145": 1_600, "BK147": 30, "BK149": 70, "BK150": 75, "BK178-1": 9_200, "BK178-2": 812,
    "BK178-3": 400, "BK180": 340, "BK181": 120, "BK182": 3_970, "BK187": 1_700,
    "BK198-1": 900, "BK199": 700, "BK216": 40, "BK225": 200, "BK227": 140, "BK249": 6,
    "BK250": 1, "BK253": 350, "BK259": 2_300, "BK260": 780, "BK281": 450, "BK281-1": 4_200,
    "BK284": 1_100, "BK292": 120, "BK300": 650, "BK309": 430,
}  # fmt: skip
DEFAULT_CODE_WEIGHT = 50  # a code added to the correspondence table later

# Share of attempts among a code's offences (attempted murder is coded ICCS 0102).
ATTEMPT_SHARES = {
    "BK129": 0.2, "BK130": 0.2, "BK149": 0.1, "BK178-1": 0.03, "BK178-2": 0.08,
    "BK178-3": 0.06, "BK180": 0.08, "BK181": 0.1, "BK182": 0.05,
}  # fmt: skip

# Administrative offences (Code of Administrative Offences, ANK articles; illustrative) and
# other police events: volumes a year at scale 1.
ANNUAL_ADMINISTRATIVE_OFFENCES = 150_000
ANNUAL_OTHER_INCIDENTS = 100_000
ADMINISTRATIVE_CODE_WEIGHTS = {
    "ANK416": 0.30, "ANK417": 0.05, "ANK418": 0.04, "ANK421": 0.06, "ANK422": 0.05,
    "ANK426": 0.04, "ANK433": 0.05, "ANK481": 0.12, "ANK482": 0.10, "ANK168": 0.08,
    "ANK71": 0.03, "ANK506": 0.05, "ANK547": 0.03,
}  # fmt: skip


@dataclass(frozen=True)
class OffenceUnit:
    """One national code with or without attempt, its ICCS code and annual recorded volume."""

    code: str
    attempt: bool
    iccs: str
    annual_recorded: float


def eurostat_recorded_offences(
    path: Path = EUROSTAT_TSV, geo: str = CALIBRATION_GEO, year: str = CALIBRATION_YEAR
) -> dict[str, int]:
    """ICCS code (without the `ICCS` prefix) -> recorded offences, from a Eurostat bulk TSV.

    Categories that Eurostat marks not available (`:`) are left out rather than read as zero.
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    column = [label.strip() for label in header].index(year)
    targets: dict[str, int] = {}
    for line in lines[1:]:
        cells = line.split("\t")
        freq, iccs, unit, row_geo = cells[0].split(",")
        value = cells[column].strip().split(" ")[0]  # bulk values may carry flags: "62 p"
        if (freq, unit, row_geo) == ("A", "NR", geo) and value != ":":
            targets[iccs.removeprefix("ICCS")] = int(float(value))
    return targets


def correspondence_table() -> list[dict[str, str]]:
    return read_csv_rows(REFERENCE_DIR / "offence_code_iccs.csv")


def _candidate_units() -> list[tuple[str, bool, str, float]]:
    """(code, attempt, ICCS, weight) for every code of the table, split by attempt share."""
    units = []
    for row in correspondence_table():
        code = row["national_code"]
        weight = CODE_WEIGHTS.get(code, DEFAULT_CODE_WEIGHT)
        attempt_share = ATTEMPT_SHARES.get(code, 0.0)
        units.append((code, False, row["iccs_code"], weight * (1 - attempt_share)))
        if attempt_share:
            units.append((code, True, row["iccs_code_attempt"], weight * attempt_share))
    return units


def _most_specific_category(iccs: str, categories: dict[str, int]) -> str | None:
    matches = [category for category in categories if iccs.startswith(category)]
    return max(matches, key=len) if matches else None


def _residual_targets(targets: dict[str, int]) -> dict[str, float]:
    """Each category's target less its nearest calibrated sub-categories (ICCS codes nest
    by prefix): what is left for the codes that belong to the category itself."""
    residual = {}
    for category, target in targets.items():
        children = [c for c in targets if c != category and c.startswith(category)]
        nearest = [c for c in children if not any(o != c and c.startswith(o) for o in children)]
        residual[category] = max(0.0, target - sum(targets[c] for c in nearest))
    return residual


@cache
def criminal_offence_units() -> tuple[OffenceUnit, ...]:
    """The calibrated criminal offence mix: annual recorded offences per (code, attempt)."""
    targets = eurostat_recorded_offences()
    residual = _residual_targets(targets)
    units = _candidate_units()
    category_of = [_most_specific_category(iccs, targets) for _, _, iccs, _ in units]
    category_weight: dict[str | None, float] = {}
    for (_, _, _, weight), category in zip(units, category_of, strict=True):
        category_weight[category] = category_weight.get(category, 0.0) + weight
    calibrated_total = sum(residual[c] for c in category_weight if c is not None)
    residual_of = dict(residual)
    residual_of[None] = max(0.0, ANNUAL_RECORDED_CRIMINAL_OFFENCES - calibrated_total)
    return tuple(
        OffenceUnit(code, attempt, iccs, residual_of[category] * weight / category_weight[category])
        for (code, attempt, iccs, weight), category in zip(units, category_of, strict=True)
    )
