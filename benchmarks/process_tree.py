"""Wall time and peak memory of a command and every process it starts.

Peak memory is the largest sum of resident set sizes over the command's whole process tree
(Dagster steps, dbt, DuckDB threads all count), sampled every few milliseconds with psutil.
Pages shared between processes are counted once per process, so the figure is an upper bound.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

SAMPLE_SECONDS = 0.02


@dataclass(frozen=True)
class Measurement:
    seconds: float
    peak_rss_mb: float
    returncode: int
    log: str

    def to_dict(self) -> dict:
        return asdict(self)


class CommandFailed(RuntimeError):
    """A measured command exited non-zero; its log file says why."""


def measure(
    command: Sequence[str], env: Mapping[str, str], log: Path, *, check: bool = True
) -> Measurement:
    """Run `command`, its output into `log`; raise CommandFailed (naming the log) on a
    non-zero exit when `check`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as output:
        started = time.perf_counter()
        process = subprocess.Popen(
            list(command), env={**os.environ, **env}, stdout=output, stderr=subprocess.STDOUT
        )
        root = psutil.Process(process.pid)
        peak = 0
        while process.poll() is None:
            peak = max(peak, _tree_rss(root))
            time.sleep(SAMPLE_SECONDS)
        seconds = time.perf_counter() - started
    result = Measurement(round(seconds, 2), round(peak / 1e6, 1), process.returncode, str(log))
    if check and process.returncode != 0:
        raise CommandFailed(f"{' '.join(command)} exited {process.returncode}; see {log}")
    return result


def _tree_rss(root: psutil.Process) -> int:
    total = 0
    try:
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total
