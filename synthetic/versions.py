"""Version histories as one long table of steps, built without a loop over records.

A register record (event, conviction, violation) changes over time: each change is a step
(registered, pretrial started, reclassified, annulled, ...) at a time. Generators draw the steps
of all records of a month as arrays; this module orders them, numbers the versions and derives
each version's state (status, code, decision date) by running counts and forward fills.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Room for a record number above any timestamp, to keep running maxima within one record.
_RECORD_STRIDE = np.int64(1) << np.int64(40)


@dataclass(frozen=True)
class Versions:
    """Steps sorted by record then time; written_at strictly increases within a record."""

    record: np.ndarray  # index of the record each version belongs to
    step: np.ndarray  # the step kind (register-specific small ints)
    written_at: np.ndarray  # seconds
    row_start: np.ndarray  # position of the record's first version, for every version

    @property
    def version(self) -> np.ndarray:
        return np.arange(len(self.record)) - self.row_start + 1

    def running(self, flag: np.ndarray) -> np.ndarray:
        """How many flagged versions a record has had up to and including each version."""
        counts = np.cumsum(flag.astype(np.int64))
        before_record = counts[self.row_start] - flag[self.row_start]
        return counts - before_record

    def since(self, flag: np.ndarray) -> np.ndarray:
        """True from the first flagged version of a record on."""
        return self.running(flag) > 0

    def forward_fill(
        self, values: np.ndarray, present: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Latest present value within the record, and whether there is one yet."""
        source = np.maximum.accumulate(np.where(present, np.arange(len(values)), -1))
        known = source >= self.row_start
        return values[np.where(known, source, 0)], known


Steps = list[tuple[np.ndarray, int, np.ndarray]]  # (records, step kind, time of every record)


def build_versions(steps: Steps, cutoff: np.ndarray | None = None) -> Versions:
    """Order the steps of all records into versions.

    Each entry of `steps` says which records take a step of one kind and when (an array over
    all records, read at those records). `cutoff` (per record) drops the steps after a
    terminal one such as an annulment. Steps at the same second keep the order of their kind,
    and are then pushed one second apart, since the registers never write two versions of a
    record at the same instant.
    """
    record = np.concatenate([rows for rows, _, _ in steps])
    step = np.concatenate([np.full(len(rows), kind) for rows, kind, _ in steps])
    time = np.concatenate([times[rows] for rows, _, times in steps])
    if cutoff is not None:
        keep = time <= cutoff[record]
        record, step, time = record[keep], step[keep], time[keep]
    order = np.lexsort((step, time, record))
    record, step, time = record[order], step[order], time[order]
    first = np.ones(len(record), dtype=bool)
    first[1:] = record[1:] != record[:-1]
    row_start = np.maximum.accumulate(np.where(first, np.arange(len(record)), 0))
    position = np.arange(len(record)) - row_start
    offset = record.astype(np.int64) * _RECORD_STRIDE
    written_at = np.maximum.accumulate(time - position + offset) - offset + position
    return Versions(record=record, step=step, written_at=written_at, row_start=row_start)
