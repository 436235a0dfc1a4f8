"""`crimestat check`: every check on the current warehouse, outside any Dagster run.

The same checks Dagster runs as asset checks: the nothing-lost reconciliation per register,
the dbt tests, and the Great Expectations suites (results kept in quality.check_results under
a run id `cli-<time>`, Data Docs rebuilt).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from core.contracts import REGISTERS
from core.dbt_environment import dbt_environment, dbt_executable
from core.settings import Settings
from ingestion.reconciliation import unreconciled_files
from quality import SUITES, build_data_docs, run_suite, store_results


@dataclass(frozen=True)
class CheckLine:
    check: str
    target: str
    severity: str  # ERROR or WARN
    passed: bool
    detail: str


def reconciliation_lines(settings: Settings) -> list[CheckLine]:
    with settings.warehouse(read_only=True) as con:
        partitions = [p for (p,) in con.execute(
            "select distinct _partition from raw.file_loads order by 1").fetchall()]  # fmt: skip
        lines = []
        for register in REGISTERS:
            mismatches = unreconciled_files(con, register, partitions)
            lines.append(CheckLine(
                "rows_reconcile", f"raw/{register}", "ERROR", mismatches.is_empty(),
                ", ".join(mismatches["_file"].to_list()[:5]),
            ))  # fmt: skip
    return lines


def dbt_test_lines(settings: Settings) -> list[CheckLine]:
    """`dbt test` on the warehouse, with the environment Dagster's dbt runs get (the memory
    limit and lock wait of the settings); results read from dbt's run_results.json."""
    with tempfile.TemporaryDirectory() as target:
        subprocess.run(
            [dbt_executable(), "test", "--quiet", "--project-dir", str(settings.dbt_project_dir),
             "--profiles-dir", str(settings.dbt_project_dir), "--target-path", target],
            env={**os.environ, **dbt_environment(settings)},
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        results_file = Path(target) / "run_results.json"
        if not results_file.exists():
            return [CheckLine("dbt test", "dbt project", "ERROR", False, "dbt test did not run")]
        results = json.loads(results_file.read_text())["results"]
    return [
        CheckLine(
            r["unique_id"].split(".")[2], "dbt",
            "WARN" if r["status"] == "warn" else "ERROR",
            r["status"] == "pass",
            "" if r["status"] == "pass" else f"{r['status']}: {r.get('failures')} failing rows",
        )
        for r in results
    ]  # fmt: skip


def suite_lines(settings: Settings) -> list[CheckLine]:
    now = datetime.now()
    run_id = f"cli-{now:%Y%m%dT%H%M%S}"
    with settings.warehouse() as con:
        results = [run_suite(con, name, settings=settings, now=now) for name in SUITES]
        store_results(con, run_id, results, now)
    build_data_docs(settings.home, results, run_id=run_id)
    lines = []
    for result in results:
        target = "/".join(result.asset_key)
        for severity, passed, label in (("critical", result.success_critical, "ERROR"),
                                         ("warning", result.success_warning, "WARN")):  # fmt: skip
            failed = result.failed(severity)
            detail = "; ".join(
                f"{o.target}: {o.unexpected_count} e.g. {json.dumps(o.failing_values[:2])[:120]}"
                for o in failed[:3]
            )
            lines.append(CheckLine(f"gx_{result.suite}", target, label, passed, detail))
    return lines
