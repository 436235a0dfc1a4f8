"""What every register generator needs to draw one month: seed, scale, geography."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from synthetic.geography import Geography
from synthetic.timeline import Month, random_stream


@dataclass(frozen=True, eq=False)  # hashed by identity: caches hold one run's data
class GenerationContext:
    seed: int
    scale: float
    geography: Geography

    def rng(self, register: str, month: Month | None, purpose: str = "") -> np.random.Generator:
        return random_stream(self.seed, register, month, purpose)


def labels(values: tuple[str, ...] | list[str], index: np.ndarray) -> pl.Series:
    """Code labels for integer codes: strings are built once per distinct value, not per row."""
    return pl.Series(values=list(values), dtype=pl.String).gather(index)


def pick(rng: np.random.Generator, weights: dict[str, float], n: int) -> np.ndarray:
    """Indices into `list(weights)` drawn by weight."""
    p = np.array(list(weights.values()), dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum())


def with_nulls(series: pl.Series, null: np.ndarray) -> pl.Series:
    """`series` with the rows where `null` is true set to null (the input is left as it is)."""
    return series.clone().scatter(np.flatnonzero(null), None) if null.any() else series


def sequence_ids(prefix: str, month: Month, n: int) -> pl.Series:
    """Register ids such as IR2022010000001: the prefix, the month and a running number."""
    numbers = pl.Series(np.arange(1, n + 1, dtype=np.int64)).cast(pl.String).str.zfill(7)
    return (f"{prefix}{month.year:04d}{month.number:02d}" + numbers).alias("id")
