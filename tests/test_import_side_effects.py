"""Importing a module of crimestat only defines things (issue 16).

A module that reads settings, opens the warehouse, reads a data file or starts a process when it
is imported makes every import a deployment decision: tests must set the environment before
importing, a CLI `--help` needs a valid key, and Dagster's code server does work nobody asked
for. Here every module is imported in a fresh interpreter where each of those acts raises.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from test_layout import MODULES, ROOT

# Streamlit pages are scripts that Streamlit runs; importing them is running them.
SCRIPTS = {"dashboards.app"} | {m for m in MODULES if m.startswith("dashboards.views.")}

# The libraries are imported before the guards go up: what they do at import is theirs.
LIBRARIES = [
    "dagster",
    "dagster_dbt",
    "dbt.cli.main",
    "duckdb",
    "polars",
    "great_expectations",
    "streamlit",
    "sdmx",
    "highspy",
    "numpy",
    "click",
    "yaml",
    "psycopg",
    "scipy",
    "tqdm",
]

PROBE = r"""
import builtins, importlib, json, pathlib, subprocess, sys
for library in LIBRARIES:
    try:
        importlib.import_module(library)
    except ImportError:
        pass

import core.settings, duckdb, polars

class ImportSideEffect(RuntimeError):
    pass

def refuse(what):
    def act(*args, **kwargs):
        raise ImportSideEffect(f"{what}{args[:1]!r}")
    return act

real_open = builtins.open
def open_code_only(file, mode="r", *args, **kwargs):
    raise ImportSideEffect(f"open({file!r}, {mode!r})")

core.settings.load_settings = refuse("load_settings")
subprocess.Popen.__init__ = refuse("subprocess")
duckdb.connect = refuse("duckdb.connect")
for reader in ("read_csv", "scan_csv", "read_parquet", "read_json", "read_ndjson"):
    setattr(polars, reader, refuse(f"polars.{reader}"))
for listing in ("iterdir", "glob", "rglob"):
    setattr(pathlib.Path, listing, refuse(f"Path.{listing}"))
builtins.open = open_code_only

problems = {}
for module in MODULES:
    try:
        importlib.import_module(module)
    except Exception as error:
        problems[module] = f"{type(error).__name__}: {error}"
builtins.open = real_open
print(json.dumps(problems))
"""


def test_importing_any_module_does_nothing_but_define(tmp_path: Path) -> None:
    modules = sorted(set(MODULES) - SCRIPTS)
    script = f"LIBRARIES = {LIBRARIES!r}\nMODULES = {modules!r}\n" + PROBE
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={
            "PATH": "",
            "PYTHONPATH": str(ROOT),
            "HOME": str(Path.home()),
            "CRIMESTAT_HOME": str(tmp_path / "never"),
        },
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    problems = result.stdout.strip().splitlines()[-1]
    assert problems == "{}", problems
    assert not (tmp_path / "never").exists()
