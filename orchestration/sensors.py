"""Sensors (SPEC 11): ingestion started by new landing files, alerts on failed runs.

The landing sensor remembers, per register and month, a stamp of the files it has seen (names,
sizes, modification times) in its cursor, so a tick reads no file whose folder did not change.
For a folder that changed, the files the warehouse has not loaded (same name and SHA-256 in
raw.file_loads) are new; each month with new files gets one run request of `month_refresh`,
for the registers that have them and everything downstream, under a run key made from those
files, so the same files start a run exactly once, and files already loaded (by the command
line, say) start nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections import defaultdict
from pathlib import Path

import dagster as dg
import duckdb

from core.contracts import REGISTERS
from ingestion.landing import LandingFile, LandingMonth, landing_months, unloaded_files
from orchestration.alerts import alert_for_run, send_alert
from orchestration.ingestion_assets import raw_asset_key
from orchestration.jobs import month_refresh_job, month_refresh_selection
from orchestration.resources import WAREHOUSE, LandingFilesSource, WarehouseResource, source_key

LANDING_SENSOR_INTERVAL_SECONDS = 60
# A tick never waits long for a run that is writing the warehouse: the next tick will see.
WAREHOUSE_WAIT_SECONDS = 5.0
INGESTION_GROUP = "ingestion"


def new_files_by_month(
    changed: list[LandingMonth], con: duckdb.DuckDBPyConnection | None, landing_dir: Path
) -> dict[str, dict[str, list[LandingFile]]]:
    """month -> register -> files not loaded yet."""
    found: dict[str, dict[str, list[LandingFile]]] = defaultdict(dict)
    for landing in changed:
        files = unloaded_files(con, landing, landing_dir)
        if files:
            found[landing.month][landing.register] = files
    return found


@dg.sensor(
    name="new_landing_files",
    job=month_refresh_job,
    minimum_interval_seconds=LANDING_SENSOR_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts month_refresh once for each month with landing files the warehouse "
    "has not loaded (by name and SHA-256).",
    required_resource_keys={WAREHOUSE, *(source_key(register) for register in REGISTERS)},
)
def new_landing_files(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    warehouse: WarehouseResource = context.resources.warehouse
    settings = warehouse.settings
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    # Registers read from their databases are pulled by the schedule, not by files landing.
    file_registers = tuple(
        r
        for r in REGISTERS
        if isinstance(getattr(context.resources, source_key(r)), LandingFilesSource)
    )
    changed = [
        m
        for m in landing_months(settings.landing_dir, file_registers)
        if seen.get(m.key) != m.stamp
    ]
    if not changed:
        return dg.SkipReason("no new or changed landing files")
    try:
        with contextlib.ExitStack() as stack:
            con = (
                stack.enter_context(
                    warehouse.connect(read_only=True, wait_seconds=WAREHOUSE_WAIT_SECONDS)
                )
                if settings.warehouse_path.exists()
                else None
            )
            new = new_files_by_month(changed, con, settings.landing_dir)
    except duckdb.IOException as error:
        return dg.SkipReason(f"the warehouse is busy ({error}); trying again at the next tick")
    downstream = (month_refresh_selection - dg.AssetSelection.groups(INGESTION_GROUP)).resolve(
        context.repository_def.asset_graph
    )
    requests = [
        dg.RunRequest(
            run_key=f"landing-{month}-{_digest(registers)}",
            partition_key=month,
            asset_selection=[
                *(raw_asset_key(register) for register in sorted(registers)),
                *sorted(downstream),
            ],
            tags={"crimestat/new_landing_files": str(sum(map(len, registers.values())))},
        )
        for month, registers in sorted(new.items())
    ]
    cursor = json.dumps(seen | {m.key: m.stamp for m in changed}, sort_keys=True)
    if not requests:
        return dg.SensorResult(
            skip_reason="the changed landing files are already loaded", cursor=cursor
        )
    return dg.SensorResult(run_requests=requests, cursor=cursor)


def _digest(registers: dict[str, list[LandingFile]]) -> str:
    """Names the exact bytes to load: the same files never make a second run key."""
    lines = sorted(f"{f.label}|{f.sha256}" for files in registers.values() for f in files)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


@dg.run_failure_sensor(
    name="alert_on_failed_run",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Every failed run (a failed step or a failed blocking check) raises an alert: "
    "the alert log and, when configured, e-mail.",
)
def alert_on_failed_run(context: dg.RunFailureSensorContext, warehouse: WarehouseResource) -> None:
    send_alert(alert_for_run(context.instance, context.dagster_run), warehouse.settings)


sensors = [new_landing_files, alert_on_failed_run]
