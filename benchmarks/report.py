"""What a benchmark ran on, and its figures as a Markdown table with the targets of issue 9."""

from __future__ import annotations

from importlib.metadata import version

from benchmarks.measuring import machine

PACKAGES = ("dagster", "dagster-dbt", "dbt-core", "dbt-duckdb", "duckdb", "polars",
            "great-expectations", "streamlit")  # fmt: skip
FULL_BUILD_TARGET_SECONDS = 300
MEMORY_TARGET_MB = 4096
INCREMENTAL_SHARE_TARGET = 0.10
BASELINE_FACTOR_TARGET = 3


def environment() -> dict:
    return machine() | {"versions": {name: version(name) for name in PACKAGES}}


def markdown(report: dict) -> str:
    p, env, r = report["parameters"], report["environment"], report["results"]
    full, incremental = r["full_build"], r["incremental_month"]
    baseline, export, pages = r["baseline_query"], r["sdmx_export"], r["dashboard_pages"]
    share = incremental["seconds"] / full["seconds"]
    factor = full["seconds"] / baseline["seconds"]

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    rows = [
        ("full build (ingestion, dbt, checks, publication)", full,
         f"<= {FULL_BUILD_TARGET_SECONDS} s, <= {MEMORY_TARGET_MB} MB: "
         + verdict(full["seconds"] <= FULL_BUILD_TARGET_SECONDS
                   and full["peak_rss_mb"] <= MEMORY_TARGET_MB)),
        (f"one-month incremental run ({incremental['month']})", incremental,
         f"<= 10% of full build: {share:.0%}, " + verdict(share <= INCREMENTAL_SHARE_TARGET)),
        (f"SDMX export, {len(export['dataflows'])} dataflows, {export['year']}", export, ""),
        ("dashboard pages (all, first and cached render)", pages, ""),
        ("baseline: one DuckDB query from the landing files", baseline,
         f"full build <= 3x baseline: {factor:.1f}x, "
         + verdict(factor <= BASELINE_FACTOR_TARGET)),
    ]  # fmt: skip
    lines = [
        f"# Pipeline benchmark: {p['months']} months at scale {p['scale']:g} (from {p['start']})",
        "",
        f"{env['cpus']} cores, {env['memory_mb']:,} MB, Python {env['python']}, commit "
        f"`{env['git_commit'][:10]}`{' (uncommitted changes)' if env['git_dirty'] else ''}; "
        + ", ".join(f"{k} {v}" for k, v in env["versions"].items()),
        "",
        f"Input: {r['input']['files']:,} landing files, {r['input']['megabytes']:,} MB.",
        "",
        "| measurement | seconds | peak memory (MB, process tree) | target |",
        "|---|---:|---:|---|",
        *(
            f"| {name} | {m['seconds']:,.1f} | {m['peak_rss_mb']:,.0f} | {target} |"
            for name, m, target in rows
        ),
        "",
        *_profile("full build", full),
        *_profile("incremental run", incremental),
        "| dashboard page | first render (s) | cached render (s) |",
        "|---|---:|---:|",
        *(f"| {page} | {t['cold']:.2f} | {t['warm']:.2f} |" for page, t in pages["pages"].items()),
        "",
    ]
    return "\n".join(lines)


def _profile(name: str, measured: dict) -> list[str]:
    """The Dagster steps of a build, slowest first within each run."""
    lines = [f"Profile of the {name} (Dagster runs and steps, wall seconds):", ""]
    lines += ["| run | partitions | step | seconds |", "|---|---|---|---:|"]
    for run in measured.get("runs", []):
        lines.append(f"| {run['run_id']} | {run['partitions']} | (whole run) | {run['seconds']} |")
        for step, seconds in sorted(run["steps"].items(), key=lambda item: -item[1]):
            lines.append(f"| | | {step} | {seconds} |")
    return [*lines, ""]
