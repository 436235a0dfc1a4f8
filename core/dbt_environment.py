"""How crimestat runs dbt, the same from every door: Dagster's dbt assets, the preparation of
the dbt manifest, and `crimestat check`'s `dbt test`.

dbt reads the data directory, DuckDB's memory limit and the warehouse's lock wait from the
environment (dbt_project/profiles.yml). A door that left one out would run dbt on other
terms: the profile's own memory default (80% of the machine) instead of the setting, or no
data directory at all.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from core.settings import Settings


def dbt_executable() -> str:
    """The dbt installed beside this interpreter (the project's venv), else the one on PATH."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


def dbt_environment(settings: Settings) -> dict[str, str]:
    """The variables every dbt call gets on top of the process's environment. PATH starts
    with this dbt's folder, so that a tool which starts plain `dbt` (dagster-dbt's project
    preparation) starts this one too."""
    path = os.environ.get("PATH", "")
    executable = Path(dbt_executable())
    if executable.is_absolute():
        folder = str(executable.parent)
        path = os.pathsep.join([folder, *(p for p in path.split(os.pathsep) if p != folder)])
    return {
        "CRIMESTAT_HOME": str(settings.home),
        "CRIMESTAT_DUCKDB_MEMORY_LIMIT": settings.duckdb_memory_limit,
        "CRIMESTAT_LOCK_WAIT_SECONDS": str(settings.lock_wait_seconds),
        "PATH": path,
    }
