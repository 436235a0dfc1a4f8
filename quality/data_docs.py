"""Great Expectations Data Docs of every run, browsable offline (SPEC 6).

A GX file context at <home>/quality/gx keeps every validation result in its store (one per
suite, run and batch) and the suite definitions; its Data Docs site is written to
<home>/quality/data_docs/. GX renders the pages of the runs given (static HTML); the index,
which lists every run ever stored, is written here.

GX's own index draws its table with JavaScript from public CDNs, which an offline browser never
loads, and reads every stored validation result again at each build: a cost that grows with the
history, paid by every suite of every run. So each build appends its results' outcomes to a
ledger beside the index (validation_results.jsonl) and renders a plain HTML index from it.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import great_expectations as gx
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)

from core.files import write_atomically
from quality.results import SuiteResult

SITE = "crimestat"
LEDGER = "validation_results.jsonl"


def docs_dir(home: Path) -> Path:
    return home / "quality" / "data_docs"


def _file_context(home: Path):
    """The GX file context at <home>/quality/gx, created on first use, its site at
    <home>/quality/data_docs (relative to the context, so the data directory can move)."""
    context = gx.get_context(mode="file", project_root_dir=str(home / "quality"))
    if SITE not in context.get_site_names():
        for name in context.get_site_names():
            context.delete_data_docs_site(name)
        context.add_data_docs_site(
            site_name=SITE,
            site_config={
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": "../data_docs/",
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        context.enable_analytics(False)
    return context


def build_data_docs(
    home: Path, results: Sequence[SuiteResult], *, run_id: str | None = None
) -> Path:
    """Store the GX validation results of `results` as run `run_id` (default: each suite
    run's start time) and build the Data Docs; returns the index.html path."""
    context = _file_context(home)
    ledger = docs_dir(home) / LEDGER
    if not ledger.exists():
        _rewrite_ledger(ledger, context)
    rendered: list[ExpectationSuiteIdentifier | ValidationResultIdentifier] = []
    outcomes: list[dict[str, object]] = []
    for result in results:
        run_time = result.started_at.astimezone(UTC)
        run = RunIdentifier(run_name=run_id or f"{run_time:%Y%m%dT%H%M%SZ}", run_time=run_time)
        suite_id = ExpectationSuiteIdentifier(name=result.suite)
        _store_suite(context, result)
        rendered.append(suite_id)
        for batch, validation in result.validations:
            validation.meta["run_id"] = run
            identifier = ValidationResultIdentifier(
                expectation_suite_identifier=suite_id, run_id=run, batch_identifier=batch
            )
            context.validation_results_store.set(identifier, validation)
            rendered.append(identifier)
            outcomes.append(_entry(identifier, validation.success))
    context.build_data_docs(site_names=[SITE], resource_identifiers=rendered, build_index=False)
    _append(ledger, outcomes)
    try:
        entries = _read(ledger)
    except ValueError:  # a line torn by a crash: the GX store still holds every result
        _rewrite_ledger(ledger, context)
        entries = _read(ledger)
    index = docs_dir(home) / "index.html"
    with write_atomically(index, durable=False) as stream:
        stream.write(_index_page(entries).encode("utf-8"))
    return index


def _store_suite(context, result: SuiteResult) -> None:
    """The suite as validated (the union of its checks' expectations), for its docs page."""
    suite = gx.ExpectationSuite(name=result.suite)
    seen: set[str] = set()
    for _, validation in result.validations:
        for outcome in validation.results:
            config = outcome.expectation_config
            fingerprint = json.dumps(config.to_json_dict(), sort_keys=True, default=str)
            if fingerprint not in seen:
                seen.add(fingerprint)
                suite.add_expectation_configuration(config)
    context.suites.add_or_update(suite)


def _rewrite_ledger(ledger: Path, context) -> None:
    """The ledger of every stored validation result's outcome, from the GX store: for a site
    made before the ledger existed or a ledger a crash left unreadable (the only builds that
    read every stored result)."""
    store = context.validation_results_store
    entries = [_entry(key, store.get(key).success) for key in store.list_keys()]
    with write_atomically(ledger) as stream:
        stream.writelines(f"{json.dumps(e)}\n".encode() for e in entries)


def _entry(key: ValidationResultIdentifier, success: bool) -> dict[str, object]:
    return {
        "suite": key.expectation_suite_identifier.name,
        "run_name": key.run_id.run_name,
        "run_time": key.run_id.run_time.astimezone(UTC).isoformat(),
        "batch": key.batch_identifier,
        "success": bool(success),
    }


def _append(ledger: Path, entries: list[dict[str, object]]) -> None:
    """One write in append mode: concurrent builds (a check beside a run) interleave whole
    lines, never parts of them."""
    with open(ledger, "a", encoding="utf-8") as stream:
        stream.write("".join(f"{json.dumps(e)}\n" for e in entries))
        stream.flush()
        os.fsync(stream.fileno())


def _read(ledger: Path) -> list[dict]:
    """The ledger's entries, newest first; a result stored again (same suite, run and batch)
    counts once, with its last outcome."""
    latest: dict[tuple, dict] = {}
    for line in ledger.read_text(encoding="utf-8").splitlines():
        if line.strip():
            entry = json.loads(line)
            latest[(entry["suite"], entry["run_name"], entry["run_time"], entry["batch"])] = entry
    return sorted(
        latest.values(), key=lambda e: (e["run_time"], e["suite"], e["batch"]), reverse=True
    )


def _index_page(entries: list[dict]) -> str:
    rows = []
    for entry in entries:
        run_time = datetime.fromisoformat(entry["run_time"])
        href = "/".join(
            quote(part)
            for part in (
                "validations",
                entry["suite"],
                entry["run_name"],
                f"{run_time:%Y%m%dT%H%M%S.%fZ}",
                f"{entry['batch']}.html",
            )
        )
        rows.append(
            "<tr>"
            f"<td>{'passed' if entry['success'] else 'FAILED'}</td>"
            f"<td>{html.escape(f'{run_time:%Y-%m-%d %H:%M:%S} UTC')}</td>"
            f"<td>{html.escape(entry['run_name'])}</td>"
            f"<td>{html.escape(entry['suite'])}</td>"
            f'<td><a href="{href}">{html.escape(entry["batch"])}</a></td>'
            "</tr>"
        )
    suites = "".join(
        f'<li><a href="expectations/{quote(suite)}.html">{html.escape(suite)}</a></li>'
        for suite in sorted({e["suite"] for e in entries})
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        "<title>crimestat: data quality</title>"
        '<link rel="stylesheet" href="static/styles/data_docs_default_styles.css">'
        "<style>body{font-family:sans-serif;margin:1em}td,th{padding:0.2em 0.8em;"
        "text-align:left}</style></head><body>"
        "<h1>crimestat: data quality (Great Expectations Data Docs)</h1>"
        f"<h2>Expectation suites</h2><ul>{suites}</ul>"
        "<h2>Validation results</h2>"
        "<table><thead><tr><th>status</th><th>run time</th>"
        "<th>run</th><th>suite</th><th>batch</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></body></html>"
    )
