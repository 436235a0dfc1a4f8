"""What every benchmark reports beside its figures: the machine, peak memory, the results
file (JSON for the record, Markdown for the reader)."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
RESULTS = PROJECT / "benchmarks" / "results"


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far. Linux's VmHWM, because getrusage's
    maxrss of a child started by a large parent starts at the parent's peak."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_mb() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e6


def machine() -> dict[str, object]:
    """The machine and the code measured: cores, memory, Python, git commit."""
    return {
        "cpus": os.cpu_count(),
        "memory_mb": round(memory_mb()),
        "python": platform.python_version(),
        "git_commit": _git("rev-parse", "HEAD"),
        # Results written by earlier benchmarks are not a change to the code measured.
        "git_dirty": bool(
            _git(
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                ".",
                f":(exclude){RESULTS.relative_to(PROJECT)}",
            )
        ),
    }


def _git(*args: str) -> str:
    result = subprocess.run(["git", *args], cwd=PROJECT, capture_output=True, text=True)
    return result.stdout.strip()


def markdown_table(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    """The lines of a Markdown table: the first column (what was measured) left-aligned, the
    figures right-aligned."""
    return [
        f"| {' | '.join(columns)} |",
        "|---|" + "---:|" * (len(columns) - 1),
        *(f"| {' | '.join(str(cell) for cell in row)} |" for row in rows),
    ]


def write_report(path: Path, report: dict, markdown: Callable[[dict], str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(markdown(report))
    print(f"\nwritten {path.relative_to(PROJECT)}")
