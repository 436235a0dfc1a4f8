"""Faults of concurrency and crashes (README "Reliability and security" / "Faults"): dbt
waits for the warehouse's lock like crimestat's own connections, two runs on one home never
interleave, and publication killed at any step is repaired by the next run."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
DBT_PROJECT = PROJECT / "dbt_project"


def hold_warehouse_lock(home: Path, seconds: float) -> subprocess.Popen:
    """Another process writing the warehouse for `seconds` (as a backup or export would)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time\n"
         f"con = duckdb.connect({str(home / 'warehouse.duckdb')!r})\n"
         "print('held', flush=True)\n"
         f"time.sleep({seconds})\n"
         "con.close()"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def dbt_debug(home: Path, wait_seconds: str) -> subprocess.CompletedProcess:
    dbt = Path(sys.executable).parent / "dbt"
    return subprocess.run(
        [str(dbt), "debug", "--profiles-dir", str(DBT_PROJECT), "--project-dir", str(DBT_PROJECT)],
        env={**os.environ, "CRIMESTAT_HOME": str(home),
             "CRIMESTAT_LOCK_WAIT_SECONDS": wait_seconds},
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip


def test_dbt_waits_for_the_warehouse_lock(crimestat_home: Path) -> None:
    holder = hold_warehouse_lock(crimestat_home, 6)
    started = time.monotonic()
    result = dbt_debug(crimestat_home, "120")
    holder.wait()
    assert result.returncode == 0, result.stdout[-2000:]
    assert "Connection test: [OK" in result.stdout.replace("\x1b[32m", "")
    assert time.monotonic() - started >= 4  # it waited for the holder, then connected


def test_dbt_gives_up_after_the_lock_wait_setting(crimestat_home: Path) -> None:
    holder = hold_warehouse_lock(crimestat_home, 30)
    try:
        result = dbt_debug(crimestat_home, "1")
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode != 0
    assert "lock" in result.stdout.lower()
