"""Months, days and seconds of the generated span, seasonality, and random streams.

Times are int64 seconds since 1970-01-01 in the registers' local time (the extracts carry no
offset), so whole months of events can be drawn and compared as plain numpy arrays.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from core.contracts import MONTH_PATTERN

MINUTE = 60
HOUR = 3_600
DAY = 86_400

# Month lengths of a non-leap year: annual volumes are spread over a 365-day year.
_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month, counted as year * 12 + (month - 1) so that months add like ints."""

    index: int

    @classmethod
    def parse(cls, label: str) -> Month:
        match = MONTH_PATTERN.match(label)
        if match is None:
            raise ValueError(f"a month looks like YYYY-MM, got {label!r}")
        return cls(int(match.group(1)) * 12 + int(match.group(2)) - 1)

    @property
    def year(self) -> int:
        return self.index // 12

    @property
    def number(self) -> int:
        """1..12."""
        return self.index % 12 + 1

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.number:02d}"

    def plus(self, months: int) -> Month:
        return Month(self.index + months)

    @property
    def first_day(self) -> np.datetime64:
        return np.datetime64(self.label, "D")

    @property
    def days(self) -> int:
        return int((self.plus(1).first_day - self.first_day).astype(int))

    @property
    def start(self) -> int:
        """First second of the month."""
        return int(self.first_day.astype("datetime64[s]").astype(np.int64))

    def day_starts(self) -> np.ndarray:
        """First second of every day of the month."""
        return self.start + np.arange(self.days, dtype=np.int64) * DAY


def month_span(start: str, months: int) -> list[Month]:
    if months < 1:
        raise ValueError(f"months must be at least 1, got {months}")
    first = Month.parse(start)
    return [first.plus(i) for i in range(months)]


def month_index_of(seconds: np.ndarray) -> np.ndarray:
    """Month index (as in Month.index) of each timestamp."""
    months_since_1970 = seconds.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)
    return months_since_1970 + 1970 * 12


def weekday_of(seconds: np.ndarray) -> np.ndarray:
    """0 = Monday ... 6 = Sunday (1970-01-01 was a Thursday)."""
    return (seconds // DAY + 3) % 7


def format_day(day_start: int) -> str:
    return str(np.datetime64(day_start, "s").astype("datetime64[D]"))


@dataclass(frozen=True)
class Seasonality:
    """How a register's annual volume spreads over months and weekdays.

    `monthly` and `weekly` are relative weights; expected monthly volumes add up to the annual
    volume over a 365-day year, so calibration targets hold for every generated year.
    """

    monthly: tuple[float, ...]  # January .. December
    weekly: tuple[float, ...] = (1.0,) * 7  # Monday .. Sunday

    def month_share(self, month: Month) -> float:
        weights = np.asarray(self.monthly)
        return float(weights[month.number - 1] * month.days / (weights * _DAYS_IN_MONTH).sum())

    def day_probabilities(self, month: Month) -> np.ndarray:
        weights = np.asarray(self.weekly)[weekday_of(month.day_starts())]
        return weights / weights.sum()


def round_stochastically(rng: np.random.Generator, expected: np.ndarray | float) -> np.ndarray:
    """Integer counts with the given expectations and the least possible spread.

    Calibrated volumes must land close to their targets even for rare offences (62 homicides a
    year), which independent Poisson draws would not guarantee.
    """
    expected = np.atleast_1d(np.asarray(expected, dtype=float))
    whole = np.floor(expected)
    return (whole + (rng.random(expected.shape) < expected - whole)).astype(np.int64)


def draw_times(
    rng: np.random.Generator,
    month: Month,
    seasonality: Seasonality,
    hour_weights: np.ndarray,
    n: int,
) -> np.ndarray:
    """`n` timestamps in the month, by weekday and hour-of-day profile, sorted."""
    day = rng.choice(month.days, size=n, p=seasonality.day_probabilities(month))
    hour = rng.choice(24, size=n, p=hour_weights / hour_weights.sum())
    seconds = rng.integers(0, HOUR, size=n)
    return np.sort(month.start + day * DAY + hour * HOUR + seconds)


def stable_key(text: str) -> int:
    """A process-independent integer for a name (Python's hash() is salted per process)."""
    return zlib.crc32(text.encode("utf-8"))


def random_stream(
    seed: int, register: str, month: Month | None, purpose: str = ""
) -> np.random.Generator:
    """The random stream of one register and month: months can be generated in any order and
    a month's data does not depend on how many months the span has."""
    entropy = [seed, stable_key(register), stable_key(purpose)]
    if month is not None:
        entropy.append(month.index)
    return np.random.default_rng(np.random.SeedSequence(entropy))
