"""The month loop: draw each register's month, hold back later versions, write the files.

Memory stays bounded by a month's volume: a record's versions that belong to later months are
kept (only those) until their month is written, and versions after the span are dropped, as
an extract taken at the end of the span would not have them yet.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from pathlib import Path

import polars as pl
from tqdm import tqdm

from synthetic import convictions, customs, incidents
from synthetic.broken import break_files
from synthetic.context import GenerationContext
from synthetic.export import export_month
from synthetic.files import KINDS, KINDS_BY_REGISTER, FileKind, WrittenFile
from synthetic.geography import load_geography
from synthetic.summary import GenerationSummary, summarise
from synthetic.timeline import Month, month_index_of, month_span, random_stream

MonthGenerator = Callable[[GenerationContext, Month], dict[str, pl.DataFrame]]
GENERATORS: dict[str, MonthGenerator] = {
    "incidents": incidents.generate_month,
    "convictions": convictions.generate_month,
    "customs": customs.generate_month,
}


class PendingVersions:
    """Version rows waiting for the month they were written in."""

    def __init__(self, end: Month) -> None:
        self._end = end  # first month after the span
        self._waiting: dict[tuple[str, int], list[pl.DataFrame]] = {}
        self._schemas: dict[str, pl.Schema] = {}

    def add(self, kind: FileKind, rows: pl.DataFrame) -> None:
        self._schemas[kind.name] = rows.schema
        month = month_index_of(rows[kind.time_column].to_numpy())
        rows = rows.with_columns(pl.Series("_month", month)).filter(
            pl.col("_month") < self._end.index
        )
        for (index,), part in rows.partition_by(
            "_month", as_dict=True, maintain_order=True
        ).items():
            self._waiting.setdefault((kind.name, int(index)), []).append(part.drop("_month"))

    def take(self, kind: FileKind, month: Month) -> pl.DataFrame:
        parts = self._waiting.pop((kind.name, month.index), [])
        if not parts:
            return pl.DataFrame(schema=self._schemas[kind.name])
        return pl.concat(parts, how="vertical")


def _wait(jobs: list[Future[None]]) -> None:
    for job in jobs:
        job.result()


def _validate(scale: float, seed: int, defect_rate: float, broken_files: int) -> None:
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    if not 0 <= defect_rate < 1:
        raise ValueError(f"defect_rate must be in [0, 1), got {defect_rate}")
    if broken_files < 0:
        raise ValueError(f"broken_files must not be negative, got {broken_files}")


def _month(
    ctx: GenerationContext,
    month: Month,
    pending: PendingVersions,
    landing_dir: Path,
    defect_rate: float,
    writers: Executor,
) -> tuple[list[WrittenFile], list[Future[None]]]:
    """Draw every register's month and export the rows written in it."""
    written: list[WrittenFile] = []
    jobs: list[Future[None]] = []
    for register, generate in GENERATORS.items():
        for kind_name, rows in generate(ctx, month).items():
            pending.add(KINDS[kind_name], rows)
        for kind in KINDS_BY_REGISTER[register]:
            rng = random_stream(ctx.seed, register, month, f"defects:{kind.name}")
            rows = pending.take(kind, month)
            files, file_jobs = export_month(
                kind, month, rows, landing_dir, defect_rate, rng, writers
            )
            written += files
            jobs += file_jobs
    return written, jobs


def generate_registers(
    out_dir: Path,
    start: str = "2022-01",
    months: int = 12,
    scale: float = 1.0,
    seed: int = 42,
    defect_rate: float = 0.001,
    broken_files: int = 0,
    progress: bool = False,
) -> GenerationSummary:
    """Write synthetic extracts of the three registers for `months` months from `start`
    under `out_dir` (the landing layout of core/contracts.py).

    `scale` 1 is Lithuania's real yearly volume; `defect_rate` is the share of data rows that
    carry one planted defect each; `broken_files` whole files are then made unreadable. The
    same arguments always give byte-identical files. Every file of the span is (re)written,
    files of other months already under `out_dir` are left alone.
    """
    _validate(scale, seed, defect_rate, broken_files)
    out_dir = Path(out_dir)
    span = month_span(start, months)
    ctx = GenerationContext(seed=seed, scale=scale, geography=load_geography())
    pending = PendingVersions(end=span[-1].plus(1))
    written: list[WrittenFile] = []
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="landing-writer") as writers:
        compressing: list[Future[None]] = []
        for month in tqdm(span, desc="synthetic registers", unit="month", disable=not progress):
            files, jobs = _month(ctx, month, pending, out_dir, defect_rate, writers)
            written += files
            # At most two months of file contents in memory: this one and the one compressing.
            _wait(compressing)
            compressing = jobs
        _wait(compressing)
    broken = break_files(out_dir, written, broken_files, random_stream(seed, "broken", None))
    parameters = {
        "start": start, "months": months, "scale": scale, "seed": seed, "defect_rate": defect_rate,
    }  # fmt: skip
    return summarise(parameters, written, broken)
