"""Synthetic registers generated once per set of arguments and kept under benchmarks/cache/.

One extra month beyond the measured span is generated: it arrives after the full build, for
the one-month incremental run. The first `months` month folders are what a register would
have delivered by the end of the span (the generator writes each version in the month it was
written), so a landing directory of those folders is a true `months`-month extract.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from core.contracts import REGISTERS
from synthetic import generate_registers
from synthetic.timeline import month_span

CACHE = Path(__file__).resolve().parent / "cache"
DONE = "generation.json"


def cached_registers(start: str, months: int, scale: float, seed: int) -> Path:
    """The landing directory of months+1 months, generated unless already in the cache."""
    folder = CACHE / f"registers-{start}-{months + 1}m-scale{scale:g}-seed{seed}"
    if (folder / DONE).exists():
        return folder / "landing"
    summary = generate_registers(
        folder / "landing", start=start, months=months + 1, scale=scale, seed=seed, progress=True
    )
    (folder / DONE).write_text(json.dumps(summary.to_dict(), indent=2))
    return folder / "landing"


def span_months(start: str, months: int) -> list[str]:
    return [month.label for month in month_span(start, months)]


def link_months(landing: Path, target: Path, months: list[str]) -> None:
    """Make `target` a landing directory holding these months (symbolic links, no copies)."""
    for register in REGISTERS:
        (target / register).mkdir(parents=True, exist_ok=True)
        for month in months:
            source = landing / register / month
            link = target / register / month
            if source.is_dir() and not link.exists():
                os.symlink(source, link, target_is_directory=True)
