"""What a Dagster run's events say went wrong: failed steps and failed checks, one line each.

The CLI prints these lines after each run and the alerts send them, so an engineer reads the
same words in the terminal, in the alert log and in the e-mail.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import dagster as dg

# Dagster's own run tags for a run's partition or partition range (single-run backfills), as
# its documentation names them: the library exports no public constant for them.
PARTITION_TAG = "dagster/partition"
PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"


@dataclass
class RunEventSummary:
    """`problems` stop publication (failed steps, failed ERROR checks); `warnings` do not."""

    checks_passed: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    failed_blocking_checks: list[str] = field(default_factory=list)


def summarise_run_events(events: Iterable[dg.DagsterEvent]) -> RunEventSummary:
    summary = RunEventSummary()
    for event in events:
        if event.is_step_failure:
            summary.problems.append(f"step {event.step_key} failed: {failure_text(event)}")
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if evaluation.passed:
                summary.checks_passed += 1
                continue
            target = evaluation.asset_key.to_user_string()
            line = f"check {evaluation.check_name} on {target} failed"
            if evaluation.severity == dg.AssetCheckSeverity.ERROR:
                summary.problems.append(line)
                summary.failed_blocking_checks.append(f"{target}:{evaluation.check_name}")
            else:
                summary.warnings.append(line + " (warning)")
    return summary


def failure_text(event: dg.DagsterEvent) -> str:
    """The user's own failure description, else the first line of each error in the chain
    (the stack traces stay in the Dagster event log)."""
    data = event.step_failure_data
    if data.user_failure_data and data.user_failure_data.description:
        return data.user_failure_data.description
    lines, error = [], data.error
    while error is not None:
        first = error.message.strip().splitlines()[0] if error.message.strip() else ""
        if first and first not in lines:
            lines.append(first)
        error = error.cause
    return " <- ".join(lines)


def partition_span(first: str, last: str) -> str:
    """How a run's partitions read in messages: one key, or first..last."""
    return first if first == last else f"{first}..{last}"


def run_events(instance: dg.DagsterInstance, run_id: str) -> list[dg.DagsterEvent]:
    """Every Dagster event of a finished run, from the instance's event log."""
    return [entry.dagster_event for entry in instance.all_logs(run_id) if entry.dagster_event]
