"""Write one month of one file kind: order the rows, render them, plant defects, split the
month into its daily or monthly files and hand them to the writers.

Rows are turned into bytes by polars' writers; only the few defective lines are Python strings
(they may carry raw bytes), spliced in at their place.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import Executor, Future
from pathlib import Path

import numpy as np
import polars as pl

from synthetic.defects import DefectPlan, defective_lines, plan_defects
from synthetic.files import (
    RAW_BYTES_ERRORS,
    FileKind,
    WrittenFile,
    pack,
    write_landing_file,
)
from synthetic.formatting import csv_bytes, csv_ready, json_bytes, json_lines, json_ready
from synthetic.timeline import Month


def _protected_rows(kind: FileKind, rows: pl.DataFrame) -> np.ndarray:
    """Rows that must stay clean: a violation's first version, because the seizure lines of
    the same export refer to it."""
    if kind.name == "violations":
        return rows["version"].to_numpy() == 1
    return np.zeros(rows.height, dtype=bool)


def _ready(kind: FileKind, rows: pl.DataFrame) -> pl.DataFrame | pl.Series:
    """The month's rows ready to be written: typed columns for CSV, lines for JSON."""
    if kind.json_lines:
        return json_lines(json_ready(rows, kind))
    return csv_ready(rows, kind)


def _chunk(kind: FileKind, ready: pl.DataFrame | pl.Series, start: int, end: int) -> bytes:
    """Rows start..end-1 as written, each line ending with a newline."""
    if end <= start:
        return b""
    part = ready.slice(start, end - start)
    return json_bytes(part) if isinstance(part, pl.Series) else csv_bytes(part, kind)


def _file_bytes(
    kind: FileKind,
    ready: pl.DataFrame | pl.Series,
    start: int,
    end: int,
    special: dict[int, str],
    cut: bool,
) -> bytes:
    """Header and lines of one file, with the defective lines spliced in; no newline after
    a cut last line."""
    parts = [] if kind.header is None else [f"{kind.header}\n".encode(kind.encoding)]
    cursor = start
    for position in sorted(p for p in special if start <= p < end):
        parts.append(_chunk(kind, ready, cursor, position))
        ending = "" if cut and position == end - 1 else "\n"
        parts.append((special[position] + ending).encode(kind.encoding, RAW_BYTES_ERRORS))
        cursor = position + 1
    parts.append(_chunk(kind, ready, cursor, end))
    return b"".join(parts)


def _defects_in_file(plan: DefectPlan, start: int, end: int) -> Counter[str]:
    counts = {rule: int(((rows >= start) & (rows < end)).sum()) for rule, rows in plan.rows.items()}
    return Counter({rule: count for rule, count in counts.items() if count})


def _write(path: Path, kind: FileKind, raw: bytes) -> None:
    write_landing_file(path, pack(kind, raw))


def export_month(
    kind: FileKind,
    month: Month,
    rows: pl.DataFrame,
    landing_dir: Path,
    defect_rate: float,
    rng: np.random.Generator,
    writers: Executor,
) -> tuple[list[WrittenFile], list[Future[None]]]:
    """Every file of `kind` for `month` (empty ones too) from the month's version rows.

    Compression and writing run on `writers` (zlib releases the GIL), so the next month can
    be drawn meanwhile; the caller waits for the returned futures.
    """
    slots = kind.slots(month)
    rows = rows.sort([kind.time_column, *kind.record_key])
    starts = np.array([start for _, start in slots])
    bounds = np.append(np.searchsorted(rows[kind.time_column].to_numpy(), starts), rows.height)
    plan = plan_defects(kind, rows, bounds, _protected_rows(kind, rows), defect_rate, rng)
    special = defective_lines(kind, rows, plan, rng)
    ready = _ready(kind, rows)
    cut = set(plan.rows["truncated_row"].tolist())
    written, jobs = [], []
    for index, (path, _) in enumerate(slots):
        start, end = int(bounds[index]), int(bounds[index + 1])
        raw = _file_bytes(kind, ready, start, end, special, cut=end - 1 in cut)
        defects = _defects_in_file(plan, start, end)
        rows_in_file = end - start + defects["duplicate"]
        written.append(WrittenFile(path, kind, rows_in_file, not raw.isascii(), defects))
        jobs.append(writers.submit(_write, landing_dir / path, kind, raw))
    return written, jobs
