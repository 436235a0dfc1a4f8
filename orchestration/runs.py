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

from core.contracts import MONTH_PATTERN
from core.settings import Settings
from ingestion.database.pull import database_months
from ingestion.landing import landed_months
from orchestration.alerts import LAUNCHED_BY_TAG, alert_for_run, send_alert
from orchestration.dbt_assets import DBT_OPS
from orchestration.run_events import (
    PARTITION_RANGE_END_TAG,
    PARTITION_RANGE_START_TAG,
    partition_span,
    summarise_run_events,
)

# The warehouse admits one writer: runs started by schedules and sensors queue, one at a time.
DAGSTER_YAML = """\
telemetry:
  enabled: false
run_queue:
  max_concurrent_runs: 1
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
    full_refresh: bool = False,
) -> RunOutcome:
    tags: dict[str, str] = {LAUNCHED_BY_TAG: "cli"}
    partitions = "-"
    if step.partitioned:
        first, last = step_range(step, months)
        tags[PARTITION_RANGE_START_TAG], tags[PARTITION_RANGE_END_TAG] = first, last
        partitions = partition_span(first, last)
    result = dg.materialize(
        [*(defs.assets or []), *(defs.asset_checks or [])],
        resources=dict(defs.resources or {}),
        # checks defined apart from their assets (the GX suites) are selected explicitly
        selection=dg.AssetSelection.assets(*step.keys)
        | dg.AssetSelection.checks_for_assets(*step.keys),
        instance=instance,
        tags=tags,
        raise_on_error=False,
        run_config={
            "loggers": {"console": {"config": {"log_level": "WARNING"}}},
            **full_refresh_config(defs, step, full_refresh),
        },
    )
    summary = summarise_run_events(result.all_events)
    return RunOutcome(
        step,
        result.run_id,
        partitions,
        result.success and not summary.failed_blocking_checks,
        summary.checks_passed,
        summary.problems,
        summary.warnings,
    )


def full_refresh_config(defs: dg.Definitions, step: RunStep, full_refresh: bool) -> dict:
    """Run config asking the step's staging op (orchestration.dbt_assets.StagingBuild) to
    rebuild whole; nothing when not asked or when the step has no staging asset."""
    graph = defs.resolve_asset_graph()
    ops = {graph.get(key).assets_def.op.name for key in step.keys}
    if not full_refresh or DBT_OPS[0] not in ops:
        return {}
    return {"ops": {DBT_OPS[0]: {"config": {"full_refresh": True}}}}


def materialize_selection(
    defs: dg.Definitions,
    settings: Settings,
    selection: str | None,
    partition: str | None,
    full_refresh: bool = False,
) -> list[RunOutcome]:
    """Run the steps of the selection in order, stopping after a failed one (and alerting):
    marts must never be built on top of an ingestion that did not complete. `full_refresh`
    rebuilds the incremental staging models whole."""
    steps = plan_steps(defs, selection)
    if full_refresh and not any(full_refresh_config(defs, step, True) for step in steps):
        raise ValueError(
            f"--full-refresh rebuilds the staging models, and the selection {selection!r} has "
            "none: add them (e.g. --select 'group:staging') or leave the flag out"
        )
    months = month_range(settings, partition) if any(s.partitioned for s in steps) else ("", "")
    instance = dagster_instance(settings)
    outcomes: list[RunOutcome] = []
    for step in steps:
        outcomes.append(run_step(defs, step, instance, months, full_refresh))
        if not outcomes[-1].success:
            run = instance.get_run_by_id(outcomes[-1].run_id)
            send_alert(alert_for_run(instance, run), settings)
            break
    return outcomes
