"""The publication gate: nothing is published while a blocking check upstream has failed.

Dagster's `blocking` checks stop downstream steps inside one run; publication may run in a
later run (a schedule, the CLI's next step, a click in the UI), so every publication asset asks
the instance for the latest evaluation of every check on every asset upstream of it.
"""

import json

import dagster as dg
from dagster import AssetExecutionContext


def failed_blocking_checks(context: AssetExecutionContext, asset_key: dg.AssetKey) -> list[str]:
    """One line per upstream check whose latest evaluation failed with severity ERROR."""
    # The whole graph, not the run's job (which holds only the selected assets).
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    check_keys = [
        check_key
        for upstream in sorted(graph.get_ancestor_asset_keys(asset_key))
        for check_key in sorted(graph.get(upstream).check_keys, key=str)
    ]
    latest = context.instance.event_log_storage.get_latest_asset_check_execution_by_key(check_keys)
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
            if label in {"failing_values", "unreconciled_files", "failed_expectations"}
        }
        detail = f": {json.dumps(values, default=str)[:500]}" if values else ""
        failures.append(
            f"check {check_key.name} on {check_key.asset_key.to_user_string()} failed{detail}"
        )
    return failures


def require_upstream_checks_passed(context: AssetExecutionContext, asset_key: dg.AssetKey) -> None:
    """Fail the publication step, naming each failed blocking check and its values."""
    failures = failed_blocking_checks(context, asset_key)
    if failures:
        raise dg.Failure(
            description=f"{asset_key.to_user_string()} not published: blocking checks failed: "
            + "; ".join(failures),
            metadata={"failed_checks": dg.MetadataValue.json(failures)},
        )
