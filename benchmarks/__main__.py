"""The pipeline at scale, side by side with a single-query baseline (SPEC 14).

    python -m benchmarks --scale 1 --months 120 [--start 2013-01] [--seed 42]

Generates the registers once (benchmarks/cache/, by arguments), then measures, each in its
own process tree (wall time and peak memory of the whole tree):

1. full build: `crimestat materialize` of every asset on a fresh data directory whose landing
   zone holds the span's months: ingestion, dbt, quality checks, publication (serving
   snapshot, SDMX deliveries, partner packages);
2. incremental: the next month's extracts land, `crimestat materialize --partition` of it;
3. SDMX export of every dataflow for the span's last complete year (`crimestat export`);
4. every dashboard page's queries (first and cached render, benchmarks/dashboard_pages.py);
5. the baseline: the national annual recorded-offences table in one DuckDB query straight
   from the same landing files (benchmarks/baseline.py).

Writes benchmarks/results/pipeline_<months>m_scale<scale>.json and .md (the machine, versions,
git commit, the figures and the targets) and prints the Markdown.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.dagster_steps import step_profile
from benchmarks.landing_cache import cached_registers, link_months, span_months
from benchmarks.measuring import RESULTS, write_report
from benchmarks.process_tree import measure
from benchmarks.report import environment, markdown
from core.settings import claim_demo_home

DATAFLOWS = ("CRIM_OFF_CAT", "CRIM_JUST", "EJ_XB_CONV")
CRIMESTAT = [sys.executable, "-m", "crimestat.cli"]


def run_benchmarks(start: str, months: int, scale: float, seed: int, work: Path) -> dict:
    landing = cached_registers(start, months, scale, seed)
    span = span_months(start, months + 1)
    measured, arriving = span[:-1], span[-1]
    home = work / "home"
    claim_demo_home(home)  # a new home for synthetic data: the demo key is allowed in it
    link_months(landing, home / "landing", measured)
    env = {"CRIMESTAT_HOME": str(home), "CRIMESTAT_DEMO": "1", "PYTHONWARNINGS": "ignore"}
    logs = work / "logs"
    results: dict = {}

    started = time.time()
    results["full_build"] = measure([*CRIMESTAT, "materialize"], env, logs / "full.log").to_dict()
    results["full_build"]["runs"] = step_profile(home / "dagster", started)
    link_months(landing, home / "landing", [arriving])
    started = time.time()
    results["incremental_month"] = measure(
        [*CRIMESTAT, "materialize", "--partition", arriving], env, logs / "incremental.log"
    ).to_dict() | {"month": arriving, "runs": step_profile(home / "dagster", started)}
    year = _last_complete_year(measured)
    exports = {
        dataflow: measure(
            [*CRIMESTAT, "export", "--dataflow", dataflow, "--year", str(year)],
            env,
            logs / f"export-{dataflow}.log",
        ).to_dict()
        for dataflow in DATAFLOWS
    }
    results["sdmx_export"] = {
        "year": year,
        "seconds": round(sum(e["seconds"] for e in exports.values()), 2),
        "peak_rss_mb": max(e["peak_rss_mb"] for e in exports.values()),
        "dataflows": exports,
    }
    pages_log = logs / "dashboard_pages.log"
    pages = measure([sys.executable, "-m", "benchmarks.dashboard_pages"], env, pages_log)
    results["dashboard_pages"] = pages.to_dict() | {
        "pages": json.loads(pages_log.read_text().strip().splitlines()[-1])
    }
    baseline_landing = work / "baseline-landing"
    link_months(landing, baseline_landing, measured)
    results["baseline_query"] = measure(
        [sys.executable, "-m", "benchmarks.baseline", str(baseline_landing)],
        env,
        logs / "baseline.log",
    ).to_dict()
    results["input"] = _input_size(landing, measured)
    return results


def _last_complete_year(months: list[str]) -> int:
    complete = [m[:4] for m in months if m.endswith("-12")]
    return int(complete[-1] if complete else months[-1][:4])


def _input_size(landing: Path, months: list[str]) -> dict:
    files = [
        path
        for month in months
        for register in ("incidents", "convictions", "customs")
        for path in (landing / register / month).glob("*")
    ]
    summary = json.loads((landing.parent / "generation.json").read_text())
    return {
        "files": len(files),
        "megabytes": round(sum(p.stat().st_size for p in files) / 1e6, 1),
        "generated": summary.get("rows"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--start", default="2013-01")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="crimestat-benchmark-"))
    try:
        results = run_benchmarks(args.start, args.months, args.scale, args.seed, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    report = {
        "parameters": vars(args) | {"keep": None},
        "environment": environment(),
        "results": results,
    }
    name = f"pipeline_{args.months}m_scale{args.scale:g}"
    write_report(RESULTS / f"{name}.json", report, markdown)
    (RESULTS / f"{name}.md").write_text(markdown(report))
    if args.keep:
        print(f"data directory kept: {work}")


if __name__ == "__main__":
    main()
