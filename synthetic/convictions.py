"""The conviction register: court decisions of one month and their later versions.

A decision is written `pending` at judgment and becomes `final` when the 20-day appeal period
ends; appealed ones are `amended` by the appeal court and then final, a few are annulled.
Persons come from a yearly pool with uneven propensity, so some are convicted more than once
a year, and carry real-looking Lithuanian personal codes (consistent with birth date and sex).
Convictions of Lithuanian nationals abroad arrive final through ECRIS.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import polars as pl

from core.contracts import (
    CONVICTION_FIELDS,
    CONVICTION_STATUSES,
    SANCTIONS,
    SEXES,
    personal_code_check_digit,
)
from core.settings import CountryProfile
from core.vocabulary import AGE_GROUPS
from synthetic.context import GenerationContext, labels, pick, sequence_ids, with_nulls
from synthetic.offence_mix import ATTEMPT_SHARES
from synthetic.offence_profiles import CODE_PROFILES, DEFAULT_PROFILE
from synthetic.timeline import (
    DAY,
    HOUR,
    Month,
    Seasonality,
    round_stochastically,
)
from synthetic.versions import Versions, build_versions

REGISTER = "convictions"

ANNUAL_CONVICTIONS = 11_000  # decisions a year at scale 1 (Lithuania: 10-12 thousand)
ANNUAL_ECRIS_CONVICTIONS = 300  # of Lithuanian nationals, received from other member states
PERSON_POOL_FACTOR = 5  # persons in a year's pool per conviction; with the propensity spread
PROPENSITY_SIGMA = 0.8  # below, about a quarter of convictions go to repeat offenders

SEASONALITY = Seasonality(
    (0.95, 1.02, 1.08, 1.05, 1.05, 1.0, 0.75, 0.8, 1.05, 1.1, 1.08, 1.07),
    (1.0, 1.0, 1.0, 1.0, 0.9, 0.0, 0.0),  # courts sit on working days
)

# Main offences of convictions: drunk driving and domestic violence dominate in Lithuania.
OFFENCE_WEIGHTS = {
    "BK281-1": 0.24, "BK140": 0.18, "BK178-1": 0.14, "BK259": 0.06, "BK260": 0.02,
    "BK182": 0.05, "BK145": 0.04, "BK187": 0.03, "BK284": 0.03, "BK138": 0.015,
    "BK178-2": 0.02, "BK178-3": 0.01, "BK180": 0.015, "BK300": 0.02, "BK199": 0.02,
    "BK281": 0.015, "BK253": 0.01, "BK135": 0.006, "BK129": 0.005, "BK149": 0.004,
    "BK150": 0.004, "BK181": 0.004, "BK198-1": 0.004, "BK225": 0.004, "BK227": 0.003,
    "BK292": 0.003, "BK309": 0.003, "BK132": 0.003, "BK216": 0.002,
}  # fmt: skip
EXTRA_OFFENCES = (0.7, 0.22, 0.08)  # shares of convictions with 1, 2, 3 offences

# Shares of the persons in each age group (core.vocabulary.AGE_GROUPS); none is older than 80.
AGE_SHARES = {"Y14-17": 0.04, "Y18-24": 0.17, "Y25-34": 0.28, "Y35-44": 0.25, "Y45-54": 0.15,
              "Y55-64": 0.08, "Y_GE65": 0.03}  # fmt: skip
OLDEST = 80
MALE_SHARE = 0.86
CITIZENSHIP_WEIGHTS = {
    "LT": 0.915, "LV": 0.008, "PL": 0.008, "DE": 0.002, "EE": 0.002, "RO": 0.001,
    "BY": 0.02, "RU": 0.012, "UA": 0.015, "GE": 0.003, "MD": 0.002, "KZ": 0.001,
    "XX": 0.003, "": 0.008,  # "" = unknown
}  # fmt: skip
# The country's own citizens, by their index in CITIZENSHIP_WEIGHTS.
NATIONALS = list(CITIZENSHIP_WEIGHTS).index(CountryProfile.code)
ECRIS_MEMBER_STATES = {
    "PL": 0.18, "DE": 0.15, "LV": 0.1, "NL": 0.1, "IE": 0.08, "SE": 0.06, "DK": 0.05,
    "BE": 0.04, "FR": 0.04, "ES": 0.04, "IT": 0.03, "FI": 0.03, "EE": 0.03, "AT": 0.02,
    "CZ": 0.02,
}  # fmt: skip
# District courts (apylinkės teismai) by caseload; serious crimes go to regional courts.
DISTRICT_COURTS = {"AT-VLN": 0.3, "AT-VLR": 0.08, "AT-KNS": 0.2, "AT-KLP": 0.13,
                   "AT-SIA": 0.1, "AT-PNV": 0.08, "AT-ALT": 0.05, "AT-MRJ": 0.06}  # fmt: skip
REGIONAL_COURTS = {"AGT-VLN": 0.35, "AGT-KNS": 0.25, "AGT-KLP": 0.15, "AGT-SIA": 0.13,
                   "AGT-PNV": 0.12}  # fmt: skip
SERIOUS_PROFILES = ("homicide", "sexual", "robbery")

# Sanction shares (order of contracts.SANCTIONS) by the offence profile of the main offence.
SANCTION_SHARES = {
    "homicide": (0.95, 0.05, 0, 0, 0, 0, 0),
    "assault": (0.15, 0.2, 0.35, 0.05, 0.15, 0.05, 0.05),
    "sexual": (0.6, 0.35, 0.05, 0, 0, 0, 0),
    "theft": (0.3, 0.2, 0.2, 0.1, 0.12, 0.05, 0.03),
    "vehicle_theft": (0.45, 0.3, 0.15, 0.03, 0.05, 0.02, 0),
    "burglary": (0.45, 0.3, 0.15, 0.03, 0.05, 0.02, 0),
    "robbery": (0.7, 0.25, 0.05, 0, 0, 0, 0),
    "fraud": (0.15, 0.25, 0.2, 0.05, 0.3, 0.02, 0.03),
    "economic": (0.1, 0.2, 0.1, 0, 0.55, 0, 0.05),
    "damage": (0.1, 0.15, 0.35, 0.1, 0.25, 0.03, 0.02),
    "drugs": (0.35, 0.25, 0.15, 0.05, 0.17, 0.02, 0.01),
    "weapons": (0.3, 0.25, 0.15, 0.03, 0.25, 0.02, 0),
    "traffic": (0.08, 0.07, 0.3, 0.05, 0.4, 0.08, 0.02),
    "public_order": (0.1, 0.15, 0.3, 0.1, 0.25, 0.08, 0.02),
}
PRISON_MONTHS_MEDIAN = {"homicide": 120, "robbery": 48, "sexual": 48, "burglary": 24,
                        "vehicle_theft": 24}  # fmt: skip
DEFAULT_PRISON_MONTHS = 12
FINE_UNIT_EUR = 50  # fines are set in MGL (minimum living standard) units of 50 EUR

APPEALED_SHARE = 0.18
AMENDED_SHARE = 0.6  # of appeals
ANNULLED_SHARE = 0.02
CORRECTED_SHARE = 0.03  # citizenship established after the judgment


class Step:
    PENDING, AMENDED, FINAL, CORRECT, ANNUL = range(5)


_STEP_STATUS = np.array(
    [CONVICTION_STATUSES.index(s) if s else -1
     for s in ("pending", "amended", "final", "", "annulled")]
)  # fmt: skip


@dataclass(frozen=True)
class Persons:
    """A year's pool of persons who may be convicted."""

    birth_day: np.ndarray  # days since 1970-01-01
    sex: np.ndarray  # index into SEXES
    citizenship: np.ndarray  # index into CITIZENSHIP_WEIGHTS
    serial: np.ndarray  # the personal code's serial number
    propensity: np.ndarray  # probability of each person being the one convicted

    known_codes: dict[int, str]  # filled as persons get convicted

    def codes(self, person: np.ndarray) -> pl.Series:
        """Personal codes of the given persons, each computed once, when first convicted."""
        unique, position = np.unique(person, return_inverse=True)
        new = np.array([p for p in unique.tolist() if p not in self.known_codes], dtype=np.int64)
        computed = personal_codes(self.birth_day[new], self.sex[new], self.serial[new])
        self.known_codes.update(zip(new.tolist(), computed.to_list(), strict=True))
        codes = pl.Series([self.known_codes[p] for p in unique.tolist()], dtype=pl.String)
        return codes.gather(position)


def personal_codes(birth_day: np.ndarray, sex: np.ndarray, serial: np.ndarray) -> pl.Series:
    """Lithuanian personal codes: century-and-sex digit, YYMMDD, serial, check digit."""
    born = birth_day.astype("datetime64[D]")
    year = born.astype("datetime64[Y]").astype(int) + 1970
    first_digit = np.where(year >= 2000, 5, 3) + (sex == SEXES.index("F"))
    yymmdd = pl.Series(born).dt.strftime("%y%m%d")
    first_ten = (
        pl.Series(first_digit).cast(pl.String)
        + yymmdd
        + pl.Series(serial).cast(pl.String).str.zfill(3)
    )
    check = [str(personal_code_check_digit(code)) for code in first_ten]
    return first_ten + pl.Series(check, dtype=pl.String)


@lru_cache(maxsize=2)
def person_pool(ctx: GenerationContext, year: int) -> Persons:
    """The persons of one year, aged 14-80 in mid-year (old enough all year round)."""
    rng = ctx.rng(REGISTER, Month(year * 12), "persons")
    n = max(100, round(ANNUAL_CONVICTIONS * ctx.scale * PERSON_POOL_FACTOR))
    group = rng.choice(len(AGE_GROUPS), size=n, p=[AGE_SHARES[g.code] for g in AGE_GROUPS])
    low = np.array([g.youngest for g in AGE_GROUPS])[group] + 0.5
    high = np.array([g.oldest or OLDEST for g in AGE_GROUPS])[group] + 0.99
    mid_year = int(np.datetime64(f"{year:04d}-07-01", "D").astype(int))
    birth_day = (mid_year - rng.uniform(low, high) * 365.25).astype(np.int64)
    sex = (rng.random(n) >= MALE_SHARE).astype(np.int64)
    propensity = rng.lognormal(0, PROPENSITY_SIGMA, n)
    return Persons(
        birth_day=birth_day,
        sex=sex,
        citizenship=pick(rng, CITIZENSHIP_WEIGHTS, n),
        serial=rng.integers(0, 1000, n),
        propensity=propensity / propensity.sum(),
        known_codes={},
    )


@dataclass
class Decisions:
    """One month's conviction decisions as parallel arrays."""

    person: np.ndarray
    judgment_day: np.ndarray
    received_at: np.ndarray  # when the first version is written
    court: pl.Series
    ecris_state: np.ndarray  # index into ECRIS_MEMBER_STATES; -1 = domestic
    offence: np.ndarray  # (n, 3) index into OFFENCE_WEIGHTS; -1 = none
    attempt: np.ndarray  # (n, 3)
    sanction: np.ndarray
    months: np.ndarray  # NaN = none
    fine: np.ndarray  # NaN = none

    def __len__(self) -> int:
        return len(self.person)


def _working_days(rng: np.random.Generator, month: Month, n: int) -> np.ndarray:
    day = rng.choice(month.days, size=n, p=SEASONALITY.day_probabilities(month))
    return month.start // DAY + day


def _offences(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Up to three distinct offences; the first is the main one."""
    codes = list(OFFENCE_WEIGHTS)
    offence = np.stack([pick(rng, OFFENCE_WEIGHTS, n) for _ in range(3)], axis=1)
    count = rng.choice(3, size=n, p=EXTRA_OFFENCES) + 1
    offence[np.arange(3)[None, :] >= count[:, None]] = -1
    offence[:, 1] = np.where(offence[:, 1] == offence[:, 0], -1, offence[:, 1])
    repeated = (offence[:, 2] == offence[:, 0]) | (offence[:, 2] == offence[:, 1])
    offence[:, 2] = np.where(repeated, -1, offence[:, 2])
    share = np.array([ATTEMPT_SHARES.get(code, 0.0) for code in codes])
    attempt = (rng.random(offence.shape) < share[offence]) & (offence >= 0)
    return offence, attempt


def _sanctions(
    rng: np.random.Generator, main: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sanction with the sentence or fine that goes with it (both NaN for the others)."""
    profiles = [CODE_PROFILES.get(code, DEFAULT_PROFILE) for code in OFFENCE_WEIGHTS]
    shares = np.array([SANCTION_SHARES[p] for p in profiles])[main]
    sanction = (rng.random(len(main))[:, None] > np.cumsum(shares, axis=1)).sum(axis=1)
    sanction = np.minimum(sanction, len(SANCTIONS) - 1)
    median = np.array([PRISON_MONTHS_MEDIAN.get(p, DEFAULT_PRISON_MONTHS) for p in profiles])
    prison = np.clip(np.round(rng.lognormal(np.log(median[main]), 0.6)), 3, 300)
    by_sanction = {
        "imprisonment": prison,
        "suspended": np.clip(np.round(rng.lognormal(np.log(12), 0.5, len(main))), 3, 36),
        "restriction_of_liberty": rng.integers(3, 25, len(main)).astype(float),
        "arrest": rng.integers(1, 4, len(main)).astype(float),
    }
    months = np.full(len(main), np.nan)
    for name, values in by_sanction.items():
        months = np.where(sanction == SANCTIONS.index(name), values, months)
    units = np.clip(np.round(rng.lognormal(np.log(40), 0.7, len(main))), 10, 2000)
    fine = np.where(sanction == SANCTIONS.index("fine"), units * FINE_UNIT_EUR, np.nan)
    return sanction, months, fine


def _courts(rng: np.random.Generator, main: np.ndarray, ecris_state: np.ndarray) -> pl.Series:
    serious = np.isin(
        np.array([CODE_PROFILES.get(c, DEFAULT_PROFILE) for c in OFFENCE_WEIGHTS])[main],
        SERIOUS_PROFILES,
    )
    district = labels(tuple(DISTRICT_COURTS), pick(rng, DISTRICT_COURTS, len(main)))
    regional = labels(tuple(REGIONAL_COURTS), pick(rng, REGIONAL_COURTS, len(main)))
    foreign = "ECRIS-" + labels(tuple(ECRIS_MEMBER_STATES), np.maximum(ecris_state, 0))
    court = pl.select(
        pl.when(pl.Series(ecris_state >= 0))
        .then(foreign)
        .when(pl.Series(serious))
        .then(regional)
        .otherwise(district)
    ).to_series()
    return court.alias("court_code")


def _decisions(ctx: GenerationContext, month: Month, rng: np.random.Generator) -> Decisions:
    persons = person_pool(ctx, month.year)
    share = SEASONALITY.month_share(month)
    n_domestic = int(round_stochastically(rng, ANNUAL_CONVICTIONS * ctx.scale * share)[0])
    n_ecris = int(round_stochastically(rng, ANNUAL_ECRIS_CONVICTIONS * ctx.scale * share)[0])
    domestic = rng.choice(len(persons.birth_day), size=n_domestic, p=persons.propensity)
    # ECRIS notifications concern adult Lithuanian nationals convicted abroad months ago.
    adult_nationals = np.flatnonzero(
        (persons.citizenship == NATIONALS) & (persons.birth_day < (month.start // DAY) - 20 * 365)
    )
    abroad = rng.choice(adult_nationals, size=n_ecris) if len(adult_nationals) else domestic[:0]
    n = n_domestic + len(abroad)
    judgment_day = _working_days(rng, month, n)
    ecris = np.arange(n) >= n_domestic
    judgment_day[ecris] -= rng.integers(60, 400, ecris.sum())
    received_at = np.where(
        ecris,
        month.start + rng.integers(0, month.days * DAY, n),
        judgment_day * DAY + rng.integers(0, 3, n) * DAY + rng.integers(8 * HOUR, 18 * HOUR, n),
    )
    ecris_state = np.where(ecris, pick(rng, ECRIS_MEMBER_STATES, n), -1)
    offence, attempt = _offences(rng, n)
    sanction, months, fine = _sanctions(rng, offence[:, 0])
    order = np.argsort(received_at, kind="stable")
    return Decisions(
        person=np.concatenate([domestic, abroad])[order],
        judgment_day=judgment_day[order],
        received_at=received_at[order],
        court=_courts(rng, offence[:, 0], ecris_state).gather(order),
        ecris_state=ecris_state[order],
        offence=offence[order],
        attempt=attempt[order],
        sanction=sanction[order],
        months=months[order],
        fine=fine[order],
    )


@dataclass
class Outcome:
    """Later steps of each decision (seconds / days; -1 = does not happen)."""

    final_day: np.ndarray
    final_written: np.ndarray
    amended_written: np.ndarray
    annulled_written: np.ndarray
    corrected_written: np.ndarray


def _outcome(decisions: Decisions, rng: np.random.Generator) -> Outcome:
    n = len(decisions)
    ecris = decisions.ecris_state >= 0
    roll = rng.random(n)
    annulled = ~ecris & (roll < ANNULLED_SHARE)
    appealed = ~ecris & ~annulled & (roll < ANNULLED_SHARE + APPEALED_SHARE)
    amended = appealed & (rng.random(n) < AMENDED_SHARE)
    appeal_day = decisions.judgment_day + rng.integers(60, 240, n)
    final_day = np.select(
        [ecris, appealed],
        [decisions.judgment_day + rng.integers(20, 60, n), appeal_day],
        decisions.judgment_day + 21 + rng.integers(0, 4, n),
    )
    office_time = rng.integers(8 * HOUR, 18 * HOUR, n)
    final_written = np.select(
        [ecris, annulled],
        [decisions.received_at, -1],
        (final_day + rng.integers(1, 10, n)) * DAY + office_time,
    )
    amended_written = np.where(amended, appeal_day * DAY + office_time, -1)
    annulled_written = np.where(
        annulled, (decisions.judgment_day + rng.integers(60, 300, n)) * DAY + office_time, -1
    )
    corrected = ~ecris & (rng.random(n) < CORRECTED_SHARE)
    corrected_written = np.where(
        corrected, decisions.received_at + rng.integers(DAY, 90 * DAY, n), -1
    )
    return Outcome(final_day, final_written, amended_written, annulled_written, corrected_written)


def _steps(decisions: Decisions, outcome: Outcome) -> Versions:
    ecris = decisions.ecris_state >= 0
    steps = [
        (np.flatnonzero(~ecris), Step.PENDING, decisions.received_at),
        (np.flatnonzero(outcome.amended_written >= 0), Step.AMENDED, outcome.amended_written),
        (np.flatnonzero(outcome.final_written >= 0), Step.FINAL, outcome.final_written),
        (np.flatnonzero(outcome.corrected_written >= 0), Step.CORRECT, outcome.corrected_written),
        (np.flatnonzero(outcome.annulled_written >= 0), Step.ANNUL, outcome.annulled_written),
    ]
    annulled = outcome.annulled_written >= 0
    cutoff = np.where(annulled, outcome.annulled_written, np.iinfo(np.int64).max)
    return build_versions(steps, cutoff)


def _offence_lists(decisions: Decisions) -> pl.Series:
    """Each decision's offences as a list of {offence_code, attempt, is_main}, main first."""
    present = (decisions.offence >= 0).ravel()
    n = len(decisions)
    entries = pl.DataFrame(
        {
            "decision": np.repeat(np.arange(n), 3)[present],
            "offence_code": labels(tuple(OFFENCE_WEIGHTS), decisions.offence.ravel()[present]),
            "attempt": decisions.attempt.ravel()[present],
            "is_main": np.tile(np.arange(3) == 0, n)[present],
        }
    )
    lists = entries.group_by("decision", maintain_order=True).agg(
        pl.struct("offence_code", "attempt", "is_main").alias("offences")
    )
    return lists["offences"]


def _version_frame(
    month: Month, persons: Persons, decisions: Decisions, outcome: Outcome, versions: Versions
) -> pl.DataFrame:
    rec = versions.record
    step = versions.step
    person = decisions.person[rec]
    status, _ = versions.forward_fill(_STEP_STATUS[step], _STEP_STATUS[step] >= 0)
    final = versions.since(step == Step.FINAL)
    amended = versions.since(step == Step.AMENDED)
    corrected = versions.since(step == Step.CORRECT)
    citizenship = persons.citizenship[person]
    unknown = list(CITIZENSHIP_WEIGHTS).index("")
    ecris = decisions.ecris_state[rec] >= 0
    citizenship_shown = np.where(
        corrected | (outcome.corrected_written[rec] < 0), citizenship, unknown
    )
    citizenship_shown = np.where(ecris, NATIONALS, citizenship_shown)
    # The appeal court shortens sentences and lowers fines it amends.
    leniency = np.where(amended, 0.7, 1.0)
    months = np.round(decisions.months[rec] * leniency)
    fine = np.round(decisions.fine[rec] * leniency / FINE_UNIT_EUR) * FINE_UNIT_EUR
    return pl.DataFrame(
        [
            sequence_ids("NT", month, len(decisions)).gather(rec).alias("conviction_id"),
            pl.Series("version", versions.version, dtype=pl.Int32),
            pl.Series("written_at", versions.written_at),
            persons.codes(person).alias("person_code"),
            pl.Series("birth_date", persons.birth_day[person].astype("datetime64[D]")),
            labels(SEXES, persons.sex[person]).alias("sex"),
            with_nulls(
                labels(tuple(CITIZENSHIP_WEIGHTS), citizenship_shown), citizenship_shown == unknown
            ).alias("citizenship"),
            decisions.court.gather(rec),
            pl.Series("judgment_at", decisions.judgment_day[rec].astype("datetime64[D]")),
            with_nulls(
                pl.Series("final_at", outcome.final_day[rec].astype("datetime64[D]")), ~final
            ),
            labels(CONVICTION_STATUSES, status).alias("status"),
            _offence_lists(decisions).gather(rec),
            labels(SANCTIONS, decisions.sanction[rec]).alias("sanction"),
            pl.Series("sentence_months", months, nan_to_null=True).cast(pl.Int32),
            pl.Series("fine_eur", fine, nan_to_null=True),
            with_nulls(
                labels(tuple(ECRIS_MEMBER_STATES), np.maximum(decisions.ecris_state[rec], 0)),
                ~ecris,
            ).alias("ecris_member_state"),
        ]
    ).select(CONVICTION_FIELDS)


def generate_month(ctx: GenerationContext, month: Month) -> dict[str, pl.DataFrame]:
    """Decisions of `month` (judgments, and ECRIS notifications received) with all their
    versions."""
    rng = ctx.rng(REGISTER, month)
    persons = person_pool(ctx, month.year)
    decisions = _decisions(ctx, month, rng)
    outcome = _outcome(decisions, rng)
    versions = _steps(decisions, outcome)
    return {"convictions": _version_frame(month, persons, decisions, outcome, versions)}
