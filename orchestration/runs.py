"""Running a selection of assets from the command line, as real Dagster runs.

A Dagster run covers assets of one partitioning, so a selection is cut, in topological order,
into consecutive steps of partitioned and unpartitioned assets. Partitioned steps run as one
run over the whole month range (single-run backfill), the way a backfill from the UI would.
Every run is recorded in the Dagster instance under `$CRIMESTAT_HOME/dagster`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import dagster as dg
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from crimestat.settings import Settings
from ingestion.contracts import MONTH_PATTERN
from ingestion.database.pull import database_months
from ingestion.loading import landed_months

DAGSTER_YAML = """\
telemetry:
  enabled: false
"""


@dataclass(frozen=True)
class RunStep:
    keys: tuple[dg.AssetKey, ...]
    partitions_def: dg.PartitionsDefinition | None

    @property
    def partitioned(self) -> bool:
        return self.partitions_def is not None


@dataclass
class RunOutcome:
    """What one Dagster run did; `problems` names each failed step or blocking check."""

    step: RunStep
    run_id: str
    partitions: str
    success: bool
    checks_passed: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def dagster_instance(settings: Settings) -> dg.DagsterInstance:
    """The persistent instance of this data directory (the UI shows the same runs)."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML)
    os.environ["DAGSTER_HOME"] = str(home)
    return dg.DagsterInstance.get()


def plan_steps(defs: dg.Definitions, selection: str | None) -> list[RunStep]:
    """Cut the selection into as few runs as the partitioning allows, upstream first.

    Each step takes every selected asset of one partitioning (none, monthly, yearly) whose
    selected parents are done, for as long as there are such assets; then the next
    partitioning takes over, round after round.
    """
    graph = defs.resolve_asset_graph()
    chosen = (
        dg.AssetSelection.from_string(selection) if selection else dg.AssetSelection.all()
    ).resolve(graph)
    pending = {k for k in chosen if graph.get(k).is_materializable}
    if not pending:
        raise ValueError(f"the selection {selection!r} matches no asset that can be materialized")
    order = {key: i for i, key in enumerate(graph.toposorted_asset_keys)}
    kinds = list(dict.fromkeys(graph.get(k).partitions_def for k in sorted(pending, key=order.get)))
    steps: list[RunStep] = []
    while pending:
        for kind in kinds:
            taken: list[dg.AssetKey] = []
            while ready := [
                k for k in pending
                if graph.get(k).partitions_def == kind and not (graph.get(k).parent_keys & pending)
            ]:  # fmt: skip
                taken += ready
                pending -= set(ready)
            if taken:
                steps.append(RunStep(tuple(sorted(taken, key=order.__getitem__)), kind))
    return steps


def month_range(settings: Settings, partition: str | None) -> tuple[str, str]:
    if partition is not None:
        if not MONTH_PATTERN.match(partition):
            raise ValueError(f"--partition must look like YYYY-MM, got {partition!r}")
        return partition, partition
    # Registers read from their databases have no landing months: their versions' months count.
    months = sorted({*landed_months(settings.landing_dir), *database_months(settings)})
    if not months:
        raise ValueError(
            f"no landing files under {settings.landing_dir} and no versions in a register "
            "database: run `crimestat generate` first or name a --partition"
        )
    return months[0], months[-1]


def step_range(step: RunStep, months: tuple[str, str]) -> tuple[str, str]:
    """The step's partition keys covering the months: months themselves, or their years."""
    partition_keys = step.partitions_def.get_partition_keys()
    if months[0] in partition_keys:
        return months
    return months[0][:4], months[1][:4]


def run_step(
    defs: dg.Definitions,
    step: RunStep,
    instance: dg.DagsterInstance,
    months: tuple[str, str],
) -> RunOutcome:
    tags: dict[str, str] = {"crimestat/launched_by": "cli"}
    partitions = "-"
    if step.partitioned:
        first, last = step_range(step, months)
        tags[ASSET_PARTITION_RANGE_START_TAG], tags[ASSET_PARTITION_RANGE_END_TAG] = first, last
        partitions = first if first == last else f"{first}..{last}"
    result = dg.materialize(
        [*(defs.assets or []), *(defs.asset_checks or [])],
        resources=dict(defs.resources or {}),
        # checks defined apart from their assets (the GX suites) are selected explicitly
        selection=dg.AssetSelection.assets(*step.keys)
        | dg.AssetSelection.checks_for_assets(*step.keys),
        instance=instance,
        tags=tags,
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )
    outcome = RunOutcome(step, result.run_id, partitions, result.success)
    for event in result.all_events:
        if event.is_step_failure:
            outcome.problems.append(f"step {event.step_key} failed: {_failure_text(event)}")
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if evaluation.passed:
                outcome.checks_passed += 1
                continue
            target = evaluation.asset_key.to_user_string()
            line = f"check {evaluation.check_name} on {target} failed"
            if evaluation.severity == dg.AssetCheckSeverity.ERROR:
                outcome.problems.append(line)
                outcome.success = False
            else:
                outcome.warnings.append(line + " (warning)")
    return outcome


def _failure_text(event: dg.DagsterEvent) -> str:
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


def materialize_selection(
    defs: dg.Definitions, settings: Settings, selection: str | None, partition: str | None
) -> list[RunOutcome]:
    """Run the steps of the selection in order, stopping after a failed one: marts must never
    be built on top of an ingestion that did not complete."""
    steps = plan_steps(defs, selection)
    months = month_range(settings, partition) if any(s.partitioned for s in steps) else ("", "")
    instance = dagster_instance(settings)
    outcomes: list[RunOutcome] = []
    for step in steps:
        outcomes.append(run_step(defs, step, instance, months))
        if not outcomes[-1].success:
            break
    return outcomes
