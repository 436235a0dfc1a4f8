"""The customs violations register: violations detected in a month, their seizures, versions.

Cigarette smuggling across the Belarusian and Russian borders dominates; drugs and cash show up
at airports and seaports. Some administrative cases become criminal weeks later: that new
version is written in a later month's export, together with the violation's seizure lines
again (each monthly export carries the seizures of the violations it contains).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from core.contracts import (
    BORDER_SECTIONS,
    CUSTOMS_SEIZURE_COLUMNS,
    CUSTOMS_VIOLATION_COLUMNS,
    PROCEDURES,
    SEIZURE_UNITS,
    VEHICLE_TYPES,
    VIOLATION_TYPES,
)
from synthetic.context import GenerationContext, labels, pick, sequence_ids, with_nulls
from synthetic.timeline import (
    DAY,
    HOUR,
    MINUTE,
    Month,
    Seasonality,
    draw_times,
    month_index_of,
    round_stochastically,
)
from synthetic.versions import Versions, build_versions

REGISTER = "customs"
ANNUAL_VIOLATIONS = 5_000
SEASONALITY = Seasonality((0.9, 0.9, 1.0, 1.0, 1.05, 1.08, 1.1, 1.1, 1.02, 1.0, 0.95, 0.9))
DETECTION_HOURS = np.array([3, 3, 3, 2.5, 2.5, 3, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 4.5,
                            4, 3.5, 3])  # fmt: skip

VIOLATION_TYPE_WEIGHTS = {
    "cigarettes": 0.45, "alcohol": 0.1, "fuel": 0.08, "drugs": 0.07, "weapons": 0.02,
    "cash": 0.05, "counterfeit": 0.08, "other": 0.15,
}  # fmt: skip
# Border section shares (order of contracts.BORDER_SECTIONS) by violation type.
SECTION_SHARES = {
    #               LT-BY LT-RU LT-LV LT-PL inland airport seaport
    "cigarettes":  (0.6,  0.25, 0.03, 0.03, 0.08, 0.0,    0.01),
    "alcohol":     (0.45, 0.25, 0.05, 0.05, 0.15, 0.02,   0.03),
    "fuel":        (0.6,  0.3,  0.02, 0.02, 0.06, 0.0,    0.0),
    "drugs":       (0.1,  0.05, 0.1,  0.15, 0.25, 0.25,   0.1),
    "weapons":     (0.25, 0.15, 0.1,  0.1,  0.2,  0.15,   0.05),
    "cash":        (0.3,  0.1,  0.02, 0.03, 0.05, 0.45,   0.05),
    "counterfeit": (0.1,  0.05, 0.1,  0.15, 0.3,  0.1,    0.2),
    "other":       (0.3,  0.15, 0.05, 0.05, 0.3,  0.1,    0.05),
}  # fmt: skip


@dataclass(frozen=True)
class Post:
    name: str  # Windows-1257 matters: Lithuanian letters
    section: str
    unit_code: str
    lat: float
    lon: float
    weight: float  # share within the section
    vehicles: tuple[float, ...]  # shares by contracts.VEHICLE_TYPES


_ROAD = (0.55, 0.3, 0.08, 0, 0, 0, 0.05, 0.02)
_RAIL = (0, 0, 0, 0.9, 0, 0, 0.1, 0)
_AIR = (0, 0, 0, 0, 0, 0.7, 0.3, 0)
_SEA = (0.1, 0.5, 0, 0, 0.4, 0, 0, 0)
_INLAND = (0.6, 0.25, 0.02, 0, 0, 0, 0, 0.13)
POSTS = (
    Post("Medininkų KP", "LT-BY", "MG01", 54.5406, 25.6439, 0.35, _ROAD),
    Post("Šalčininkų KP", "LT-BY", "MG01", 54.2864, 25.4028, 0.2, _ROAD),
    Post("Raigardo KP", "LT-BY", "MG02", 53.9667, 24.0653, 0.1, _ROAD),
    Post("Lavoriškių KP", "LT-BY", "MG01", 54.7167, 25.7333, 0.15, _ROAD),
    Post("Kenos geležinkelio KP", "LT-BY", "MG01", 54.6353, 25.7703, 0.2, _RAIL),
    Post("Kybartų KP", "LT-RU", "MG03", 54.6417, 22.7631, 0.35, _ROAD),
    Post("Panemunės KP", "LT-RU", "MG04", 55.0856, 21.9042, 0.3, _ROAD),
    Post("Ramoniškių KP", "LT-RU", "MG03", 54.9206, 22.6203, 0.15, _ROAD),
    Post("Kybartų geležinkelio KP", "LT-RU", "MG03", 54.6369, 22.7497, 0.2, _RAIL),
    Post("Saločių mobilioji grupė", "LT-LV", "MG05", 56.2283, 24.4028, 0.6, _ROAD),
    Post("Būtingės mobilioji grupė", "LT-LV", "MG06", 56.0647, 21.0728, 0.4, _ROAD),
    Post("Kalvarijos mobilioji grupė", "LT-PL", "MG02", 54.4153, 23.2261, 0.6, _ROAD),
    Post("Lazdijų mobilioji grupė", "LT-PL", "MG02", 54.2342, 23.5158, 0.4, _ROAD),
    Post("Vilniaus mobilioji grupė", "inland", "MG07", 54.6872, 25.2797, 0.4, _INLAND),
    Post("Kauno mobilioji grupė", "inland", "MG08", 54.8985, 23.9036, 0.3, _INLAND),
    Post("Šiaulių mobilioji grupė", "inland", "MG09", 55.9349, 23.3137, 0.15, _INLAND),
    Post("Panevėžio mobilioji grupė", "inland", "MG09", 55.7348, 24.3575, 0.15, _INLAND),
    Post("Vilniaus oro uosto KP", "airport", "MG10", 54.6367, 25.2878, 0.75, _AIR),
    Post("Kauno oro uosto KP", "airport", "MG10", 54.9639, 24.0847, 0.15, _AIR),
    Post("Palangos oro uosto KP", "airport", "MG06", 55.9733, 21.0939, 0.1, _AIR),
    Post("Klaipėdos jūrų uosto KP", "seaport", "MG06", 55.6894, 21.1364, 1.0, _SEA),
)
# Inland mobile groups patrol the region around their base: wider spread of coordinates.
POSITION_SPREAD_DEGREES = {"inland": 0.25, "LT-LV": 0.1, "LT-PL": 0.1}
DEFAULT_SPREAD_DEGREES = 0.01

# Offender citizenship by border section (first LT-BY and LT-RU, then elsewhere); "" = unknown.
CITIZENSHIP_EASTERN_BORDER = {"BY": 0.42, "LT": 0.38, "RU": 0.1, "UA": 0.04, "LV": 0.01,
                              "PL": 0.01, "XX": 0.01, "": 0.03}  # fmt: skip
CITIZENSHIP_ELSEWHERE = {"LT": 0.6, "LV": 0.06, "PL": 0.06, "UA": 0.06, "BY": 0.05, "RU": 0.03,
                         "DE": 0.02, "NG": 0.01, "GB": 0.02, "XX": 0.005, "": 0.085}  # fmt: skip

CRIMINAL_SHARE = {"drugs": 0.9, "weapons": 0.7, "cash": 0.3}  # others 0.15
DEFAULT_CRIMINAL_SHARE = 0.15
BECOMES_CRIMINAL_SHARE = 0.15  # of administrative cases, weeks later
CORRECTED_SHARE = 0.05
TASK_SHARE = 0.6  # violations found during a planned task carry its id
COORDINATES_MISSING_SHARE = 0.1


@dataclass(frozen=True)
class Goods:
    category: str
    unit: str
    cn_codes: tuple[str, ...]
    median_quantity: float
    unit_value_eur: float
    decimals: int  # quantities of this unit are written with this many decimals


GOODS = {
    "cigarettes": Goods("cigarettes", "sticks", ("24022090",), 10_000, 0.25, 0),
    "tobacco": Goods("tobacco", "kg", ("24031990", "24039990"), 5, 60, 3),
    "alcohol": Goods("alcohol", "l", ("22086011", "22083071", "22042109"), 20, 8, 1),
    "fuel": Goods("fuel", "l", ("27101943", "27101245"), 200, 1.5, 1),
    "drugs": Goods("drugs", "kg", ("12119086", "29399900", "13021900"), 0.4, 20_000, 3),
    "weapons": Goods("weapons", "pcs", ("93020000", "93033000", "93062100"), 1.5, 400, 0),
    "cash": Goods("cash", "eur", ("49070000",), 15_000, 1, 2),
    "counterfeit": Goods("counterfeit", "pcs", ("61091000", "42022100", "64039900"), 50, 25, 0),
    "other": Goods("other", "pcs", ("84713000", "30049000", "85171300"), 10, 60, 0),
}
# The first seizure line is the goods of the violation type (cut tobacco in some cigarette
# cases); further lines are mixed.
TOBACCO_SHARE_OF_CIGARETTE_CASES = 0.1
FURTHER_LINE_GOODS = {"cigarettes": 0.25, "tobacco": 0.1, "alcohol": 0.2, "fuel": 0.05,
                      "drugs": 0.05, "weapons": 0.03, "cash": 0.07, "counterfeit": 0.1,
                      "other": 0.15}  # fmt: skip
LINES_PER_VIOLATION = (0.65, 0.25, 0.1)


class Step:
    DETECTED, CORRECT, CRIMINAL = range(3)


@dataclass
class Violations:
    """One month's violations as parallel arrays."""

    detected_at: np.ndarray
    violation_type: np.ndarray
    post: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    coordinates_missing: np.ndarray
    criminal_from_start: np.ndarray
    citizenship: pl.Series

    def __len__(self) -> int:
        return len(self.detected_at)


def _sections(rng: np.random.Generator, violation_type: np.ndarray) -> np.ndarray:
    shares = np.array([SECTION_SHARES[t] for t in VIOLATION_TYPES])[violation_type]
    cumulative = np.cumsum(shares / shares.sum(axis=1, keepdims=True), axis=1)
    section = (rng.random(len(violation_type))[:, None] > cumulative).sum(axis=1)
    return np.minimum(section, len(BORDER_SECTIONS) - 1)


def _posts(rng: np.random.Generator, section: np.ndarray) -> np.ndarray:
    post = np.zeros(len(section), dtype=np.int64)
    for index, name in enumerate(BORDER_SECTIONS):
        candidates = [i for i, p in enumerate(POSTS) if p.section == name]
        rows = np.flatnonzero(section == index)
        weights = np.array([POSTS[i].weight for i in candidates])
        post[rows] = np.array(candidates)[
            rng.choice(len(candidates), size=len(rows), p=weights / weights.sum())
        ]
    return post


def _citizenship(rng: np.random.Generator, post: np.ndarray) -> pl.Series:
    eastern = np.isin(np.array([p.section for p in POSTS])[post], ("LT-BY", "LT-RU"))
    n = len(post)
    east = labels(tuple(CITIZENSHIP_EASTERN_BORDER), pick(rng, CITIZENSHIP_EASTERN_BORDER, n))
    other = labels(tuple(CITIZENSHIP_ELSEWHERE), pick(rng, CITIZENSHIP_ELSEWHERE, n))
    chosen = pl.select(pl.when(pl.Series(eastern)).then(east).otherwise(other)).to_series()
    return chosen.replace("", None).alias("offender_citizenship")


def _violations(ctx: GenerationContext, month: Month, rng: np.random.Generator) -> Violations:
    expected = ANNUAL_VIOLATIONS * ctx.scale * SEASONALITY.month_share(month)
    n = int(round_stochastically(rng, expected)[0])
    violation_type = np.array([VIOLATION_TYPES.index(t) for t in VIOLATION_TYPE_WEIGHTS])[
        pick(rng, VIOLATION_TYPE_WEIGHTS, n)
    ]
    post = _posts(rng, _sections(rng, violation_type))
    spread = np.array(
        [POSITION_SPREAD_DEGREES.get(p.section, DEFAULT_SPREAD_DEGREES) for p in POSTS]
    )[post]
    criminal_share = np.array(
        [CRIMINAL_SHARE.get(t, DEFAULT_CRIMINAL_SHARE) for t in VIOLATION_TYPES]
    )[violation_type]
    return Violations(
        detected_at=draw_times(rng, month, SEASONALITY, DETECTION_HOURS, n),
        violation_type=violation_type,
        post=post,
        lat=np.array([p.lat for p in POSTS])[post] + rng.normal(0, spread * 0.5),
        lon=np.array([p.lon for p in POSTS])[post] + rng.normal(0, spread),
        coordinates_missing=rng.random(n) < COORDINATES_MISSING_SHARE,
        criminal_from_start=rng.random(n) < criminal_share,
        citizenship=_citizenship(rng, post),
    )


def _steps(violations: Violations, rng: np.random.Generator) -> Versions:
    """Versions: detection, sometimes a correction, sometimes the case turning criminal."""
    n = len(violations)
    first = violations.detected_at + rng.integers(10 * MINUTE, 2 * DAY, n)
    becomes_criminal = ~violations.criminal_from_start & (rng.random(n) < BECOMES_CRIMINAL_SHARE)
    criminal_at = np.where(becomes_criminal, first + rng.integers(10 * DAY, 90 * DAY, n), -1)
    corrected_at = np.where(
        rng.random(n) < CORRECTED_SHARE, first + rng.integers(HOUR, 30 * DAY, n), -1
    )
    steps = [
        (np.arange(n), Step.DETECTED, first),
        (np.flatnonzero(corrected_at >= 0), Step.CORRECT, corrected_at),
        (np.flatnonzero(criminal_at >= 0), Step.CRIMINAL, criminal_at),
    ]
    return build_versions(steps)


def _violation_frame(
    ids: pl.Series, violations: Violations, versions: Versions, rng: np.random.Generator
) -> pl.DataFrame:
    rec = versions.record
    post = violations.post[rec]
    turned = versions.since(versions.step == Step.CRIMINAL)
    criminal = violations.criminal_from_start[rec] | turned
    # A correction adds the coordinates that the versions before it lacked.
    corrected = versions.since(versions.step == Step.CORRECT)
    has_correction = np.zeros(len(violations), dtype=bool)
    has_correction[rec[versions.step == Step.CORRECT]] = True
    missing = np.where(has_correction[rec], ~corrected, violations.coordinates_missing[rec])
    task = with_nulls(
        "U" + pl.Series(rng.integers(1000, 10000, len(violations))).cast(pl.String),
        rng.random(len(violations)) >= TASK_SHARE,
    )
    return pl.DataFrame(
        [
            ids.gather(rec).alias("violation_id"),
            pl.Series("version", versions.version, dtype=pl.Int32),
            pl.Series("written_at", versions.written_at),
            pl.Series("detected_at", violations.detected_at[rec]),
            labels(tuple(p.unit_code for p in POSTS), post).alias("unit_code"),
            task.gather(rec).alias("task_id"),
            labels(tuple(p.name for p in POSTS), post).alias("customs_post"),
            labels(tuple(p.section for p in POSTS), post).alias("border_section"),
            with_nulls(pl.Series("lat", violations.lat[rec]), missing),
            with_nulls(pl.Series("lon", violations.lon[rec]), missing),
            labels(VIOLATION_TYPES, violations.violation_type[rec]).alias("violation_type"),
            labels(PROCEDURES, criminal.astype(np.int64)).alias("procedure"),
            violations.citizenship.gather(rec),
            _vehicles(rng, violations.post).gather(rec).alias("vehicle_type"),
        ]
    ).select(CUSTOMS_VIOLATION_COLUMNS)


def _vehicles(rng: np.random.Generator, post: np.ndarray) -> pl.Series:
    shares = np.array([p.vehicles for p in POSTS])[post]
    cumulative = np.cumsum(shares / shares.sum(axis=1, keepdims=True), axis=1)
    vehicle = np.minimum((rng.random(len(post))[:, None] > cumulative).sum(axis=1), 7)
    return labels(VEHICLE_TYPES, vehicle)


def _goods_of_lines(
    rng: np.random.Generator, violation_type: np.ndarray, line_no: np.ndarray
) -> np.ndarray:
    """Index into GOODS of each seizure line."""
    categories = tuple(GOODS)
    first = np.array([categories.index(t) for t in VIOLATION_TYPES])[violation_type]
    cigarettes = violation_type == VIOLATION_TYPES.index("cigarettes")
    tobacco = cigarettes & (rng.random(len(line_no)) < TOBACCO_SHARE_OF_CIGARETTE_CASES)
    first = np.where(tobacco, categories.index("tobacco"), first)
    further_codes = np.array([categories.index(c) for c in FURTHER_LINE_GOODS])
    further = further_codes[pick(rng, FURTHER_LINE_GOODS, len(line_no))]
    return np.where(line_no == 1, first, further)


def _seizure_lines(
    ids: pl.Series, violations: Violations, rng: np.random.Generator
) -> pl.DataFrame:
    """1-3 lines per violation: goods, CN code, quantity in the goods' own unit, value."""
    count = rng.choice(3, size=len(violations), p=LINES_PER_VIOLATION) + 1
    owner = np.repeat(np.arange(len(violations)), count)
    line_no = np.arange(len(owner)) - np.repeat(np.cumsum(count) - count, count) + 1
    category = _goods_of_lines(rng, violations.violation_type[owner], line_no)
    goods = list(GOODS.values())
    scale = 10.0 ** np.array([g.decimals for g in goods])[category]
    median = np.array([g.median_quantity for g in goods])[category]
    quantity = np.maximum(np.round(rng.lognormal(np.log(median), 1.0) * scale), 1) / scale
    unit_value = np.array([g.unit_value_eur for g in goods])[category]
    # Seized goods are valued at market prices; seized cash at its face value.
    price_noise = np.where(
        category == tuple(GOODS).index("cash"), 1.0, rng.lognormal(0, 0.3, len(owner))
    )
    value = np.round(quantity * unit_value * price_noise, 2)
    cn_codes = tuple(g.cn_codes[k % len(g.cn_codes)] for g in goods for k in range(3))
    units = np.array([SEIZURE_UNITS.index(g.unit) for g in goods])[category]
    return pl.DataFrame(
        [
            pl.Series("_owner", owner),
            ids.gather(owner).alias("violation_id"),
            pl.Series("line_no", line_no, dtype=pl.Int32),
            labels(cn_codes, category * 3 + rng.integers(0, 3, len(owner))).alias("cn_code"),
            labels(tuple(GOODS), category).alias("goods_category"),
            pl.Series("quantity", quantity),
            labels(SEIZURE_UNITS, units).alias("unit"),
            pl.Series("value_eur", value),
        ]
    )


def _seizures_by_export(lines: pl.DataFrame, versions: Versions) -> pl.DataFrame:
    """The seizure lines once per month in which their violation has a version, timed with
    its first version of that month so they land in the same monthly export."""
    exports = (
        pl.DataFrame(
            {
                "_owner": versions.record,
                "_month": month_index_of(versions.written_at),
                "_t": versions.written_at,
            }
        )
        .group_by("_owner", "_month", maintain_order=True)
        .agg(pl.col("_t").min())
    )
    return lines.join(exports, on="_owner", how="inner", maintain_order="left_right").select(
        "_t", *CUSTOMS_SEIZURE_COLUMNS
    )


def generate_month(ctx: GenerationContext, month: Month) -> dict[str, pl.DataFrame]:
    """Violations detected in `month` with all their versions, and their seizure lines for
    every monthly export that carries one of those versions."""
    rng = ctx.rng(REGISTER, month)
    violations = _violations(ctx, month, rng)
    ids = sequence_ids("MV", month, len(violations))
    versions = _steps(violations, rng)
    return {
        "violations": _violation_frame(ids, violations, versions, rng),
        "seizures": _seizures_by_export(_seizure_lines(ids, violations, rng), versions),
    }
