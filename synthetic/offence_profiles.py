"""How events of each kind of offence behave in the registers, and which codes are which kind.

Shared by the incident register (investigation outcomes, damage, channels) and the conviction
register (sanctions by the main offence's kind). Figures are plausible orders of magnitude for
Lithuania, not official statistics: only the volumes are calibrated (offence_mix.py).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EventProfile:
    """How events of one kind of offence behave (shares are probabilities)."""

    p_pretrial: float  # pre-trial investigation started rather than refused (criminal only)
    p_solved: float
    p_closed: float  # the rest stays open
    decision_days: float  # median time from start to decision
    victims: float  # expected number of victims; from 1 on, every event has at least one
    damage_median: float  # EUR; 0 = no material damage
    late_share: float  # registered days to months after it happened
    period_share: float  # occurred over a period (occurred_to set)
    channels: tuple[float, float, float, float]  # 112, in_person, online, proactive


_PROFILE_TABLE = (
    # pretrial, solved, closed, decision days, victims, damage, late, period,
    # then channel shares 112, in_person, online, proactive
    ("homicide",       0.995, 0.92, 0.08, 120, 1.05, 0,    0.05, 0.3,  0.85, 0.1,  0,    0.05),
    ("assault",        0.95,  0.78, 0.22, 45,  1.1,  0,    0.1,  0.05, 0.6,  0.3,  0.05, 0.05),
    ("sexual",         0.93,  0.6,  0.4,  120, 1.0,  0,    0.5,  0.2,  0.2,  0.6,  0.15, 0.05),
    ("theft",          0.92,  0.35, 0.65, 40,  1.0,  350,  0.15, 0.5,  0.25, 0.45, 0.25, 0.05),
    ("vehicle_theft",  0.97,  0.3,  0.7,  60,  1.0,  6000, 0.05, 0.7,  0.5,  0.4,  0.08, 0.02),
    ("burglary",       0.96,  0.3,  0.7,  60,  1.0,  1200, 0.2,  0.8,  0.55, 0.4,  0.04, 0.01),
    ("robbery",        0.99,  0.6,  0.4,  60,  1.05, 250,  0.03, 0.05, 0.75, 0.22, 0.01, 0.02),
    ("fraud",          0.88,  0.3,  0.7,  90,  1.0,  1500, 0.35, 0.4,  0.05, 0.45, 0.48, 0.02),
    ("economic",       0.98,  0.8,  0.2,  150, 0,    8000, 0.2,  0.5,  0,    0.2,  0.1,  0.7),
    ("damage",         0.85,  0.3,  0.7,  40,  1.0,  600,  0.15, 0.4,  0.5,  0.4,  0.08, 0.02),
    ("drugs",          1.0,   0.9,  0.1,  60,  0,    0,    0.02, 0,    0.05, 0.05, 0.02, 0.88),
    ("weapons",        1.0,   0.85, 0.15, 90,  0,    0,    0.05, 0.1,  0.1,  0.1,  0.05, 0.75),
    ("traffic",        1.0,   0.98, 0.02, 30,  0.3,  0,    0.01, 0,    0.3,  0.05, 0,    0.65),
    ("public_order",   0.9,   0.85, 0.15, 30,  0.5,  100,  0.02, 0,    0.8,  0.15, 0.01, 0.04),
    ("administrative", 0,     0.72, 0.23, 10,  0.05, 0,    0.02, 0,    0.08, 0.12, 0.05, 0.75),
    ("incident",       0,     0,    0.6,  0.5, 0.2,  0,    0.01, 0,    0.85, 0.08, 0.02, 0.05),
)  # fmt: skip
PROFILES = {row[0]: EventProfile(*row[1:9], channels=row[9:]) for row in _PROFILE_TABLE}
PROFILE_NAMES = tuple(PROFILES)

CODE_PROFILES = {
    "BK129": "homicide", "BK130": "homicide", "BK132": "homicide", "BK135": "assault",
    "BK138": "assault", "BK140": "assault", "BK145": "assault", "BK147": "assault",
    "BK181": "assault", "BK149": "sexual", "BK150": "sexual", "BK309": "sexual",
    "BK178-1": "theft", "BK178-3": "vehicle_theft", "BK178-2": "burglary", "BK180": "robbery",
    "BK182": "fraud", "BK198-1": "fraud", "BK300": "fraud", "BK216": "economic",
    "BK225": "economic", "BK227": "economic", "BK199": "economic", "BK187": "damage",
    "BK259": "drugs", "BK260": "drugs", "BK253": "weapons", "BK249": "weapons",
    "BK250": "weapons", "BK292": "weapons", "BK281": "traffic", "BK281-1": "traffic",
    "BK284": "public_order",
}  # fmt: skip
DEFAULT_PROFILE = "public_order"  # a code added to the correspondence table later
