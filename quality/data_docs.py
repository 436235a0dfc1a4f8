"""Great Expectations Data Docs of every run, browsable offline (SPEC 6).

A GX file context at <home>/quality/gx keeps every validation result in its store (one per
suite, run and batch) and the suite definitions; its Data Docs site is written to
<home>/quality/data_docs/. Each build renders the pages of the runs given and rebuilds the
index over all stored runs, so the docs list every run ever stored.

GX's index draws its table with JavaScript from public CDNs, which an offline browser never
loads; the rendered pages themselves are static HTML. So the index also gets a plain HTML
list of every validation result, linking to those pages.
"""

from __future__ import annotations

import html
import json
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

from quality.results import SuiteResult

SITE = "crimestat"


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
    rendered: list[ExpectationSuiteIdentifier | ValidationResultIdentifier] = []
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
    context.build_data_docs(site_names=[SITE], resource_identifiers=rendered)
    index = docs_dir(home) / "index.html"
    _add_static_index(index, context)
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


def _add_static_index(index: Path, context) -> None:
    keys = sorted(
        context.validation_results_store.list_keys(),
        key=lambda k: (k.run_id.run_time, k.expectation_suite_identifier.name, k.batch_identifier),
        reverse=True,
    )
    rows = []
    for key in keys:
        run_time: datetime = key.run_id.run_time
        suite = key.expectation_suite_identifier.name
        success = context.validation_results_store.get(key).success
        href = "/".join(
            quote(part)
            for part in (
                "validations",
                suite,
                key.run_id.run_name,
                f"{run_time:%Y%m%dT%H%M%S.%fZ}",
                f"{key.batch_identifier}.html",
            )
        )
        rows.append(
            "<tr>"
            f"<td>{'passed' if success else 'FAILED'}</td>"
            f"<td>{html.escape(f'{run_time:%Y-%m-%d %H:%M:%S} UTC')}</td>"
            f"<td>{html.escape(key.run_id.run_name)}</td>"
            f"<td>{html.escape(suite)}</td>"
            f'<td><a href="{href}">{html.escape(key.batch_identifier)}</a></td>'
            "</tr>"
        )
    section = (
        '<div class="container" style="margin:1em">'
        "<h2>Validation results</h2>"
        '<table class="table table-sm"><thead><tr><th>status</th><th>run time</th>'
        "<th>run</th><th>suite</th><th>batch</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div>"
    )
    head, body_tag, rest = index.read_text(encoding="utf-8").partition("<body")
    opening, _, body = rest.partition(">")
    index.write_text(f"{head}{body_tag}{opening}>{section}{body}", encoding="utf-8")
