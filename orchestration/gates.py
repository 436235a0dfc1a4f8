"""The publication gate: one function decides for every door (SPEC 6, 13).

`publication_problems` is asked by the Dagster publication assets (serving snapshot, SDMX
exports, partner extracts) and by `crimestat export` and `crimestat extracts` before anything
is written. It refuses, naming each problem:

- every check on an asset upstream whose latest evaluation failed with severity ERROR, with
  its failing values. Evaluations live in the Dagster instance's event log: those of Dagster
  runs, and those of `crimestat check`, which reports its results there as runless
  evaluations (`report_check_lines`), so "latest" is the latest of either;
- every mart upstream that is older than the newest raw load it depends on (its latest
  materialization in the instance against `raw.file_loads.loaded_at` of the registers
  upstream of it). A mart the instance never saw built (dbt run by hand) is not judged.

The asset graph comes from the caller (the run's repository in Dagster, `defs` on the command
line), so this module imports nothing of `orchestration.definitions`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeAlias

import dagster as dg
from dagster_shared.check import CheckError

from core.warehouse import relation_exists

if TYPE_CHECKING:
    import duckdb

    from orchestration.resources import WarehouseResource
    from publication.checks import CheckLine

# Dagster's asset graph: `Definitions.resolve_asset_graph()` on the command line, the run's
# repository's in a run. Its class is not part of Dagster's public API, so it is not named.
AssetGraph: TypeAlias = Any

FAILING_VALUE_LABELS = {"failing_values", "unreconciled_files", "failed_expectations", "detail"}


class PublicationRefused(RuntimeError):
    """The gate said no; `problems` holds one line per failed check or stale mart."""

    def __init__(self, asset_key: dg.AssetKey, problems: Sequence[str]) -> None:
        self.asset_key = asset_key
        self.problems = list(problems)
        super().__init__(f"{asset_key.to_user_string()} not published: " + "; ".join(self.problems))


def failed_blocking_checks(
    instance: dg.DagsterInstance, graph: AssetGraph, asset_key: dg.AssetKey
) -> list[str]:
    """One line per upstream check whose latest evaluation failed with severity ERROR."""
    check_keys = [
        check_key
        for upstream in sorted(_upstream(graph, asset_key))
        for check_key in sorted(graph.get(upstream).check_keys, key=str)
    ]
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(check_keys)
    failures = []
    for check_key in check_keys:
        record = latest.get(check_key)
        evaluation = record.event.asset_check_evaluation if record and record.event else None
        if evaluation is None or evaluation.passed:
            continue
        if evaluation.severity != dg.AssetCheckSeverity.ERROR:
            continue
        values = {
            label: value.value
            for label, value in evaluation.metadata.items()
            if label in FAILING_VALUE_LABELS
        }
        detail = f": {json.dumps(values, default=str)[:500]}" if values else ""
        where = " (crimestat check)" if record and not record.run_id else ""
        failures.append(
            f"check {check_key.name} on {check_key.asset_key.to_user_string()} "
            f"failed{where}{detail}"
        )
    return failures


def stale_marts(
    instance: dg.DagsterInstance,
    graph: AssetGraph,
    asset_key: dg.AssetKey,
    con: duckdb.DuckDBPyConnection | None,
) -> list[str]:
    """One line per upstream mart built before the newest load of a register it reads."""
    if con is None or not relation_exists(con, "raw", "file_loads"):
        return []
    loads = dict(
        con.execute(
            "select register, max(loaded_at) from raw.file_loads group by register"
        ).fetchall()
    )
    stale = []
    for mart in sorted(_upstream(graph, asset_key)):
        if mart.path[0] != "marts":
            continue
        event = instance.get_latest_materialization_event(mart)
        if event is None:
            continue
        built_at = datetime.fromtimestamp(event.timestamp)
        registers = sorted(
            key.path[1]
            for key in _upstream(graph, mart)
            if key.path[0] == "raw" and len(key.path) == 2
        )
        newer = [(r, loads[r]) for r in registers if loads.get(r) and loads[r] > built_at]
        if newer:
            register, loaded_at = max(newer, key=lambda pair: pair[1])
            stale.append(
                f"mart {mart.to_user_string()} is stale: built at {built_at:%Y-%m-%d %H:%M:%S}, "
                f"before the newest load of raw/{register} at {loaded_at:%Y-%m-%d %H:%M:%S}"
            )
    return stale


def publication_problems(
    instance: dg.DagsterInstance,
    graph: AssetGraph,
    asset_key: dg.AssetKey,
    con: duckdb.DuckDBPyConnection | None,
) -> list[str]:
    """Everything that stops `asset_key` from being published; empty when it may be."""
    return [
        *failed_blocking_checks(instance, graph, asset_key),
        *stale_marts(instance, graph, asset_key, con),
    ]


def require_publication_allowed(
    instance: dg.DagsterInstance,
    graph: AssetGraph,
    asset_key: dg.AssetKey,
    con: duckdb.DuckDBPyConnection | None,
) -> None:
    """Raise PublicationRefused naming each failed blocking check and stale mart."""
    problems = publication_problems(instance, graph, asset_key, con)
    if problems:
        raise PublicationRefused(asset_key, problems)


def require_upstream_checks_passed(
    context: dg.AssetExecutionContext, asset_key: dg.AssetKey, warehouse: WarehouseResource
) -> None:
    """The gate inside a Dagster publication step: fails the step, naming every problem."""
    graph = run_asset_graph(context)
    exists = warehouse.settings.warehouse_path.exists()
    with warehouse.connect() if exists else contextlib.nullcontext() as con:
        problems = publication_problems(context.instance, graph, asset_key, con)
    if problems:
        failed = [p for p in problems if p.startswith("check ")]
        stale = [p for p in problems if not p.startswith("check ")]
        reasons = []
        if failed:
            reasons.append("blocking checks failed: " + "; ".join(failed))
        if stale:
            reasons.append("; ".join(stale))
        raise dg.Failure(
            description=f"{asset_key.to_user_string()} not published: " + "; ".join(reasons),
            metadata={
                "failed_checks": dg.MetadataValue.json(failed),
                "stale_marts": dg.MetadataValue.json(stale),
            },
        )


def run_asset_graph(context: dg.AssetExecutionContext) -> AssetGraph:
    """The whole asset graph of the run's code, not only the run's selection: the
    repository's (runs of the daemon and the UI), else the one the run's job was cut from
    (`dg.materialize`, as `crimestat materialize` runs)."""
    try:
        return context.repository_def.asset_graph
    except CheckError:
        graph = context.job_def.asset_layer.asset_graph
        return getattr(graph, "source_asset_graph", graph)


def report_check_lines(
    instance: dg.DagsterInstance, graph: AssetGraph, lines: Sequence[CheckLine]
) -> int:
    """Record `crimestat check`'s results as runless check evaluations in the instance, on
    the asset checks of the same name, so the gate sees them as the latest evaluation.
    Returns how many were recorded (lines with no matching asset check are left out)."""
    by_name: dict[str, list[dg.AssetCheckKey]] = {}
    for key in graph.asset_check_keys:
        by_name.setdefault(key.name, []).append(key)
    recorded = 0
    for line in lines:
        key = _check_key_of(line, by_name)
        if key is None:
            continue
        instance.report_runless_asset_event(
            dg.AssetCheckEvaluation(
                asset_key=key.asset_key,
                check_name=key.name,
                passed=line.passed,
                severity=dg.AssetCheckSeverity.ERROR
                if line.severity == "ERROR"
                else dg.AssetCheckSeverity.WARN,
                metadata={
                    "detail": dg.MetadataValue.text(line.detail),
                    "evaluated_by": dg.MetadataValue.text("crimestat check"),
                },
            )
        )
        recorded += 1
    return recorded


def _check_key_of(
    line: CheckLine, by_name: dict[str, list[dg.AssetCheckKey]]
) -> dg.AssetCheckKey | None:
    name = line.check
    if name.startswith("gx_") and line.severity == "WARN":
        name = f"{name}_warnings"
    candidates = by_name.get(name, [])
    target = dg.AssetKey(line.target.split("/")) if "/" in line.target else None
    matching = [key for key in candidates if target is None or key.asset_key == target]
    return matching[0] if len(matching) == 1 else None


def _upstream(graph: AssetGraph, asset_key: dg.AssetKey) -> set[dg.AssetKey]:
    return {key for key in graph.get_ancestor_asset_keys(asset_key) if graph.has(key)}
