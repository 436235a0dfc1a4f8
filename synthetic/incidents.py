"""The incident register: police events of one month and all their later versions.

Criminal events follow the Lithuanian counting rule's life cycle: registered, pre-trial
investigation started (or refused) within days, then solved / sent to court / closed; some are
reclassified (theft -> robbery), corrected or annulled. Volumes per offence come from the
calibrated offence mix, so the recorded offences of any generated year match Eurostat's 2022
figures for Lithuania.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from core.contracts import CHANNELS, EVENT_KINDS, INCIDENT_COLUMNS, INCIDENT_STATUSES
from synthetic.context import GenerationContext, labels, pick, sequence_ids, with_nulls
from synthetic.offence_mix import (
    ADMINISTRATIVE_CODE_WEIGHTS,
    ANNUAL_ADMINISTRATIVE_OFFENCES,
    ANNUAL_OTHER_INCIDENTS,
    criminal_offence_units,
)
from synthetic.offence_profiles import (
    CODE_PROFILES,
    DEFAULT_PROFILE,
    PROFILE_NAMES,
    PROFILES,
)
from synthetic.timeline import (
    DAY,
    HOUR,
    MINUTE,
    Month,
    Seasonality,
    draw_times,
    round_stochastically,
)
from synthetic.versions import Versions, build_versions

REGISTER = "incidents"
CRIMINAL, ADMINISTRATIVE, INCIDENT = (
    EVENT_KINDS.index(k) for k in ("criminal", "administrative", "incident")
)


# Final code -> (code first registered, share of its events first registered so): the
# investigation later reclassifies them.
RECLASSIFIED_FROM = {
    "BK180": ("BK178-1", 0.15),  # theft turns out to be robbery
    "BK135": ("BK138", 0.2),  # the injury proves severe
    "BK129": ("BK135", 0.1),  # the victim dies
    "BK138": ("BK140", 0.08),
    "BK178-2": ("BK178-1", 0.1),
    "BK260": ("BK259", 0.15),  # intent to distribute established
    "BK182": ("BK178-1", 0.03),
}  # fmt: skip
# Shares by event kind (criminal, administrative, incident).
ANNULLED_SHARE = np.array([0.01, 0.01, 0.005])
CORRECTED_SHARE = np.array([0.05, 0.02, 0.01])
COORDINATES_MISSING_SHARE = np.array([0.12, 0.08, 0.05])
SENT_TO_COURT_SHARE = 0.75  # of solved criminal investigations
MUNICIPAL_POLICE_SHARE = 0.2  # of administrative offences
FIRE_RESCUE_SHARE = 0.55  # of other incidents

SEASONALITY = {
    CRIMINAL: Seasonality(
        (0.93, 0.86, 0.95, 0.97, 1.04, 1.06, 1.09, 1.08, 1.03, 1.01, 0.97, 1.01),
        (0.97, 0.96, 0.97, 0.98, 1.04, 1.1, 0.98),
    ),
    ADMINISTRATIVE: Seasonality(
        (0.85, 0.85, 0.95, 1.0, 1.08, 1.12, 1.15, 1.12, 1.02, 0.98, 0.93, 0.95),
        (1.05, 1.05, 1.05, 1.05, 1.1, 0.9, 0.8),
    ),
    INCIDENT: Seasonality(
        (1.05, 0.95, 1.05, 1.15, 1.05, 1.0, 1.05, 1.0, 0.9, 0.9, 0.92, 1.0),
        (0.95, 0.95, 0.95, 1.0, 1.05, 1.1, 1.0),
    ),
}
REGISTRATION_HOURS = {
    CRIMINAL: np.array([2, 1.5, 1, 0.8, 0.6, 0.7, 1.2, 2.5, 4, 5, 5.5, 5.5, 5.5, 5.5, 5.5, 5.5,
                        5.5, 5.5, 5, 5, 4.5, 4, 3.5, 2.5]),
    ADMINISTRATIVE: np.array([1, 0.8, 0.6, 0.5, 0.4, 0.5, 1.5, 3, 4.5, 5, 5, 5, 5, 5, 5, 5, 5,
                              5, 4.5, 4, 3.5, 3, 2, 1.5]),
    INCIDENT: np.array([2.5, 2, 1.5, 1.2, 1, 1.2, 2, 3, 4, 4.5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
                        4.5, 4, 3.5, 3]),
}  # fmt: skip


class Step:
    """Version steps of an event; ties at the same second keep this order."""

    REGISTER, PRETRIAL, REFUSE, RECLASSIFY, CORRECT, SOLVE, CLOSE, COURT, ANNUL = range(9)


# Status after each step; -1 keeps the previous one (reclassification, correction).
_STEP_STATUS = np.array(
    [INCIDENT_STATUSES.index(s) if s else -1 for s in (
        "registered", "pretrial_started", "refused", "", "", "solved", "closed",
        "sent_to_court", "annulled",
    )]
)  # fmt: skip


def all_codes() -> tuple[str, ...]:
    """Criminal codes of the correspondence table, then the administrative codes."""
    criminal = dict.fromkeys(unit.code for unit in criminal_offence_units())
    return (*criminal, *ADMINISTRATIVE_CODE_WEIGHTS)


@dataclass
class Events:
    """One month's events as parallel arrays, sorted by registration time."""

    kind: np.ndarray
    initial_code: np.ndarray  # index into all_codes(); -1 = none
    final_code: np.ndarray
    attempt: np.ndarray
    profile: np.ndarray  # index into PROFILE_NAMES
    registered_at: np.ndarray

    def __len__(self) -> int:
        return len(self.kind)

    def sorted_by_registration(self) -> Events:
        order = np.argsort(self.registered_at, kind="stable")
        return Events(*(getattr(self, f)[order] for f in self.__dataclass_fields__))

    def param(self, field: str) -> np.ndarray:
        """A profile parameter for every event."""
        values = np.array([getattr(PROFILES[name], field) for name in PROFILE_NAMES], dtype=float)
        return values[self.profile]


def _criminal_events(ctx: GenerationContext, month: Month, rng: np.random.Generator) -> Events:
    """Criminal events by (final code, attempt), volumes inflated for the refused and the
    annulled so that the recorded (counted) offences meet the calibration."""
    units = criminal_offence_units()
    codes = all_codes()
    profile = np.array(
        [PROFILE_NAMES.index(CODE_PROFILES.get(u.code, DEFAULT_PROFILE)) for u in units]
    )
    p_pretrial = np.array([PROFILES[PROFILE_NAMES[p]].p_pretrial for p in profile])
    recorded = np.array([u.annual_recorded for u in units])
    expected = recorded * ctx.scale * SEASONALITY[CRIMINAL].month_share(month)
    counts = round_stochastically(rng, expected / (p_pretrial * (1 - ANNULLED_SHARE[CRIMINAL])))
    unit = np.repeat(np.arange(len(units)), counts)
    final = np.array([codes.index(u.code) for u in units])[unit]
    initial = final.copy()
    for final_code, (first_code, share) in RECLASSIFIED_FROM.items():
        if final_code in codes and first_code in codes:
            chosen = (final == codes.index(final_code)) & (rng.random(len(final)) < share)
            initial[chosen] = codes.index(first_code)
    n = len(unit)
    return Events(
        kind=np.full(n, CRIMINAL),
        initial_code=initial,
        final_code=final,
        attempt=np.array([u.attempt for u in units], dtype=bool)[unit],
        profile=profile[unit],
        registered_at=draw_times(
            rng, month, SEASONALITY[CRIMINAL], REGISTRATION_HOURS[CRIMINAL], n
        ),
    )


def _other_events(
    ctx: GenerationContext, month: Month, rng: np.random.Generator, kind: int
) -> Events:
    annual = ANNUAL_ADMINISTRATIVE_OFFENCES if kind == ADMINISTRATIVE else ANNUAL_OTHER_INCIDENTS
    expected = annual * ctx.scale * SEASONALITY[kind].month_share(month)
    n = int(round_stochastically(rng, expected)[0])
    if kind == ADMINISTRATIVE:
        first_admin = len(all_codes()) - len(ADMINISTRATIVE_CODE_WEIGHTS)
        code = first_admin + pick(rng, ADMINISTRATIVE_CODE_WEIGHTS, n)
    else:
        code = np.full(n, -1)
    profile_name = "administrative" if kind == ADMINISTRATIVE else "incident"
    return Events(
        kind=np.full(n, kind),
        initial_code=code,
        final_code=code,
        attempt=np.zeros(n, dtype=bool),
        profile=np.full(n, PROFILE_NAMES.index(profile_name)),
        registered_at=draw_times(rng, month, SEASONALITY[kind], REGISTRATION_HOURS[kind], n),
    )


def _draw_events(ctx: GenerationContext, month: Month, rng: np.random.Generator) -> Events:
    parts = [
        _criminal_events(ctx, month, rng),
        _other_events(ctx, month, rng, ADMINISTRATIVE),
        _other_events(ctx, month, rng, INCIDENT),
    ]
    joined = Events(
        *(np.concatenate([getattr(p, f) for p in parts]) for f in Events.__dataclass_fields__)
    )
    return joined.sorted_by_registration()


@dataclass
class Timeline:
    """When each event's steps happen (seconds); which steps it has."""

    first_written: np.ndarray
    pretrial: np.ndarray  # investigation started (criminal)
    pretrial_at: np.ndarray  # start or refusal decision (criminal)
    outcome: np.ndarray  # Step.SOLVE, Step.CLOSE or -1 (still open)
    decided_at: np.ndarray
    court_at: np.ndarray  # -1 when not sent to court
    reclassified_at: np.ndarray  # -1 when not reclassified
    corrected_at: np.ndarray  # -1 when not corrected
    annulled_at: np.ndarray  # -1 when not annulled


def _uniform(rng: np.random.Generator, low: float, high: float, n: int) -> np.ndarray:
    return rng.uniform(low, high, n).astype(np.int64)


def _timeline(events: Events, rng: np.random.Generator) -> Timeline:
    n = len(events)
    criminal = events.kind == CRIMINAL
    first_written = events.registered_at + _uniform(rng, MINUTE, 2 * HOUR, n)
    # Most investigations start the same day, some within days, a few weeks later.
    delay_kind = rng.choice(3, size=n, p=[0.55, 0.35, 0.10])
    delay = np.choose(
        delay_kind,
        [_uniform(rng, 5 * MINUTE, 6 * HOUR, n), _uniform(rng, DAY, 4 * DAY, n),
         _uniform(rng, 5 * DAY, 30 * DAY, n)],
    )  # fmt: skip
    pretrial_at = np.maximum(events.registered_at + delay, first_written + MINUTE)
    pretrial = criminal & (rng.random(n) < events.param("p_pretrial"))
    duration = np.maximum(
        DAY // 24, rng.lognormal(np.log(events.param("decision_days") * DAY), 0.9, n)
    ).astype(np.int64)
    start = np.where(criminal, pretrial_at, first_written)
    decided_at = start + duration
    roll = rng.random(n)
    solved = roll < events.param("p_solved")
    closed = ~solved & (roll < events.param("p_solved") + events.param("p_closed"))
    can_decide = pretrial | ~criminal
    outcome = np.where(
        can_decide & solved, Step.SOLVE, np.where(can_decide & closed, Step.CLOSE, -1)
    )
    to_court = criminal & (outcome == Step.SOLVE) & (rng.random(n) < SENT_TO_COURT_SHARE)
    court_at = np.where(to_court, decided_at + _uniform(rng, 5 * DAY, 60 * DAY, n), -1)
    reclassified = pretrial & (events.initial_code != events.final_code)
    reclassified_at = np.where(
        reclassified, pretrial_at + (rng.uniform(0.05, 0.6, n) * duration).astype(np.int64), -1
    )
    corrected = rng.random(n) < CORRECTED_SHARE[events.kind]
    corrected_at = np.where(corrected, first_written + _uniform(rng, HOUR, 60 * DAY, n), -1)
    annulled = rng.random(n) < ANNULLED_SHARE[events.kind]
    annulled_at = np.where(annulled, start + _uniform(rng, 5 * DAY, 120 * DAY, n), -1)
    return Timeline(
        first_written, pretrial, pretrial_at, outcome, decided_at, court_at, reclassified_at,
        corrected_at, annulled_at,
    )  # fmt: skip


def _steps(events: Events, tl: Timeline, rng: np.random.Generator) -> Versions:
    """All version steps of the month's events; a decision is written minutes after it."""
    n = len(events)
    criminal = events.kind == CRIMINAL
    everyone = np.arange(n)
    write_delay = _uniform(rng, 0, 10 * MINUTE, n)
    steps = [
        (everyone, Step.REGISTER, tl.first_written),
        (np.flatnonzero(tl.pretrial), Step.PRETRIAL, tl.pretrial_at + write_delay),
        (np.flatnonzero(criminal & ~tl.pretrial), Step.REFUSE, tl.pretrial_at + write_delay),
        (np.flatnonzero(tl.reclassified_at >= 0), Step.RECLASSIFY, tl.reclassified_at),
        (np.flatnonzero(tl.corrected_at >= 0), Step.CORRECT, tl.corrected_at),
        (np.flatnonzero(tl.outcome == Step.SOLVE), Step.SOLVE, tl.decided_at + write_delay),
        (np.flatnonzero(tl.outcome == Step.CLOSE), Step.CLOSE, tl.decided_at + write_delay),
        (np.flatnonzero(tl.court_at >= 0), Step.COURT, tl.court_at + write_delay),
        (np.flatnonzero(tl.annulled_at >= 0), Step.ANNUL, tl.annulled_at),
    ]
    cutoff = np.where(tl.annulled_at >= 0, tl.annulled_at, np.iinfo(np.int64).max)
    return build_versions(steps, cutoff)


@dataclass
class Circumstances:
    """What does not change between versions (unless corrected)."""

    occurred_from: np.ndarray
    occurred_to: np.ndarray  # -1 = not a period
    municipality: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    coordinates_missing: np.ndarray
    agency: pl.Series
    channel: np.ndarray
    call_112_id: pl.Series
    victims: np.ndarray
    damage: np.ndarray
    corrected_victims: np.ndarray
    corrected_damage: np.ndarray


def _occurrence(events: Events, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """When it happened: minutes to hours before registration, for late ones days to months."""
    n = len(events)
    prompt_lag = 5 * MINUTE + np.minimum(rng.exponential(1.5 * HOUR, n), 12 * HOUR)
    late_lag = np.where(
        rng.random(n) < 0.6, rng.uniform(DAY, 14 * DAY, n), rng.uniform(14 * DAY, 240 * DAY, n)
    )
    late = rng.random(n) < events.param("late_share")
    lag = np.where(late, late_lag, prompt_lag).astype(np.int64)
    occurred_from = (events.registered_at - lag) // MINUTE * MINUTE
    period = rng.random(n) < events.param("period_share")
    span = (rng.uniform(0.1, 1.0, n) * np.minimum(lag, 2 * DAY)).astype(np.int64)
    occurred_to = np.where(period, (occurred_from + span) // MINUTE * MINUTE, -1)
    return occurred_from, occurred_to


def _agency(events: Events, municipality: np.ndarray, rng: np.random.Generator) -> pl.Series:
    """State police unit of the municipality; municipal police for some administrative
    offences; fire and rescue for many other incidents."""
    roll = rng.random(len(events))
    prefix = np.where(
        (events.kind == ADMINISTRATIVE) & (roll < MUNICIPAL_POLICE_SHARE),
        1,
        np.where((events.kind == INCIDENT) & (roll < FIRE_RESCUE_SHARE), 2, 0),
    )
    number = pl.Series(municipality + 1).cast(pl.String).str.zfill(3)
    return labels(("POL-", "MUN-", "FRS-"), prefix) + number


def _channels(events: Events, rng: np.random.Generator) -> np.ndarray:
    shares = np.array([PROFILES[name].channels for name in PROFILE_NAMES])
    cumulative = np.cumsum(shares / shares.sum(axis=1, keepdims=True), axis=1)[events.profile]
    return (rng.random(len(events))[:, None] > cumulative).sum(axis=1).clip(0, 3)


def _call_ids(events: Events, channel: np.ndarray, rng: np.random.Generator) -> pl.Series:
    """Call ids of the 112 emergency centre (BPC): call date and a running number."""
    day = pl.from_epoch(pl.Series(events.registered_at), time_unit="s").dt.strftime("%y%m%d")
    number = pl.Series(rng.integers(0, 1_000_000, len(events))).cast(pl.String).str.zfill(6)
    return with_nulls("BPC" + day + number, channel != CHANNELS.index("112"))


def _circumstances(
    ctx: GenerationContext, events: Events, rng: np.random.Generator
) -> Circumstances:
    n = len(events)
    occurred_from, occurred_to = _occurrence(events, rng)
    municipality = ctx.geography.sample_municipalities(rng, n)
    lat, lon = ctx.geography.sample_points(rng, municipality)
    missing = rng.random(n) < COORDINATES_MISSING_SHARE[events.kind]
    channel = _channels(events, rng)
    extra_victims = rng.poisson(np.maximum(events.param("victims") - 1, 0.0))
    plain_victims = rng.poisson(events.param("victims"))
    victims = np.where(events.param("victims") >= 1, 1 + extra_victims, plain_victims)
    median = events.param("damage_median")
    damage = np.where(
        median > 0, np.round(rng.lognormal(np.log(np.maximum(median, 1)), 1.1, n), 2), 0.0
    )
    return Circumstances(
        occurred_from=occurred_from,
        occurred_to=occurred_to,
        municipality=municipality,
        lat=lat,
        lon=lon,
        coordinates_missing=missing,
        agency=_agency(events, municipality, rng),
        channel=channel,
        call_112_id=_call_ids(events, channel, rng),
        victims=victims,
        damage=damage,
        corrected_victims=victims + (rng.random(n) < 0.3),
        corrected_damage=np.round(damage * rng.uniform(0.5, 1.8, n), 2),
    )


def _time_column(name: str, values: np.ndarray, known: np.ndarray) -> pl.Series:
    return with_nulls(pl.Series(name, values, dtype=pl.Int64), ~known)


def _version_frame(
    ctx: GenerationContext,
    month: Month,
    events: Events,
    tl: Timeline,
    where: Circumstances,
    versions: Versions,
) -> pl.DataFrame:
    """One row per version: the event's state after each step."""
    rec = versions.record
    step = versions.step
    status, _ = versions.forward_fill(_STEP_STATUS[step], _STEP_STATUS[step] >= 0)
    reclassified = versions.since(step == Step.RECLASSIFY)
    code = np.where(reclassified, events.final_code[rec], events.initial_code[rec])
    corrected = versions.since(step == Step.CORRECT)
    decision_step = np.isin(step, (Step.REFUSE, Step.SOLVE, Step.CLOSE, Step.COURT))
    decision_time = np.select(
        [step == Step.REFUSE, step == Step.COURT], [tl.pretrial_at[rec], tl.court_at[rec]],
        tl.decided_at[rec],
    )  # fmt: skip
    decision_at, decided = versions.forward_fill(decision_time, decision_step)
    codes = all_codes()
    kind = events.kind[rec]
    return pl.DataFrame(
        [
            sequence_ids("IR", month, len(events)).gather(rec).alias("event_id"),
            pl.Series("version", versions.version, dtype=pl.Int32),
            pl.Series("written_at", versions.written_at),
            pl.Series("registered_at", events.registered_at[rec]),
            pl.Series("occurred_from", where.occurred_from[rec]),
            _time_column("occurred_to", where.occurred_to[rec], where.occurred_to[rec] >= 0),
            where.agency.gather(rec).alias("agency_code"),
            labels(CHANNELS, where.channel[rec]).alias("channel"),
            where.call_112_id.gather(rec).alias("call_112_id"),
            labels(EVENT_KINDS, kind).alias("event_kind"),
            with_nulls(labels(codes, np.maximum(code, 0)), code < 0).alias("offence_code"),
            pl.Series("attempt", events.attempt[rec]),
            labels(ctx.geography.names, where.municipality[rec]).alias("municipality"),
            with_nulls(pl.Series("lat", where.lat[rec]), where.coordinates_missing[rec]),
            with_nulls(pl.Series("lon", where.lon[rec]), where.coordinates_missing[rec]),
            pl.Series(
                "victims", np.where(corrected, where.corrected_victims[rec], where.victims[rec])
            ),
            pl.Series(
                "damage_eur", np.where(corrected, where.corrected_damage[rec], where.damage[rec])
            ),
            labels(INCIDENT_STATUSES, status).alias("status"),
            _time_column(
                "pretrial_started_at", tl.pretrial_at[rec], versions.since(step == Step.PRETRIAL)
            ),
            _time_column("decision_at", decision_at, decided),
        ]
    ).select(INCIDENT_COLUMNS)


def generate_month(ctx: GenerationContext, month: Month) -> dict[str, pl.DataFrame]:
    """Events registered in `month` with every version they will ever get (later months'
    versions are held back by the caller until their month is written)."""
    rng = ctx.rng(REGISTER, month)
    events = _draw_events(ctx, month, rng)
    timeline = _timeline(events, rng)
    where = _circumstances(ctx, events, rng)
    versions = _steps(events, timeline, rng)
    return {"incidents": _version_frame(ctx, month, events, timeline, where, versions)}
