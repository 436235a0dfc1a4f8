"""Quality gates in real Dagster runs: a failing blocking check stops publication (and says which
check failed) and raises an alert. That a failing warning does not is tested on the shared
Dagster build of test_dbt_dagster."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import dagster as dg
from landing_files import INCIDENT, land_three_months
from landing_files import write_incidents as write_incident_file

from core.settings import load_settings
from orchestration.dbt_assets import FAILED_CALLS_KEPT, INVOCATION_FOLDER, PARTIAL_PARSE_FILE


def land_registers(landing: Path, **incident_changes: str) -> None:
    land_three_months(landing)
    write_incident_file(landing, "2022-02-14", [INCIDENT | {
        "event_id": "E-odd", "written_at": "2022-02-14T10:00:00",
        "registered_at": "2022-02-14T09:00:00", "occurred_from": "2022-02-13T22:00:00",
        "status": "pretrial_started", "pretrial_started_at": "2022-02-14T09:30:00",
    } | incident_changes])  # fmt: skip


def test_failing_blocking_check_stops_publication(crimestat_home: Path) -> None:
    from orchestration.definitions import defs
    from orchestration.runs import materialize_selection

    land_registers(crimestat_home / "landing", offence_code="BK999")  # well formed, unmapped
    settings = load_settings()
    earlier_failures = plant_failed_calls(settings.dbt_target_dir, FAILED_CALLS_KEPT + 5)
    (settings.dbt_target_dir / "notes").mkdir()  # not a dbt call's: never pruned

    outcomes = materialize_selection(defs(), settings, None, None)

    assert not outcomes[-1].success
    assert any("unmapped_offence_codes" in p for p in outcomes[-1].problems)
    # The failed dbt call keeps its folder, with dbt's own log, for the diagnosis ...
    target = settings.dbt_target_dir
    [kept] = [p for p in target.iterdir() if f"-{outcomes[-1].run_id[:7]}-" in p.name]
    assert (kept / "dbt.log").exists()
    assert INVOCATION_FOLDER.fullmatch(kept.name)  # a name the pruning below recognises
    # ... beside the newest earlier failures only: the calls before it pruned the oldest.
    folders = {p for p in target.iterdir() if p.is_dir()}
    assert folders == {kept, target / "notes", *earlier_failures[-FAILED_CALLS_KEPT:]}
    assert (target / PARTIAL_PARSE_FILE).is_file()
    # The run stopped by the blocking check raised an alert naming it.
    [alert] = alerts(settings.alert_log_path)
    assert alert["alert"]["run_id"] == outcomes[-1].run_id
    assert "blocking check failed" in alert["subject"]
    assert (
        "marts/unmapped_offence_codes:is_empty_unmapped_offence_codes_"
        in (alert["alert"]["failed_blocking_checks"])
    )
    # The daemon's run-failure sensor raises the same alert for the same run.
    evaluate_failure_sensor(outcomes[-1].run_id)
    assert [a["alert"]["problems"] for a in alerts(settings.alert_log_path)] == (
        [alert["alert"]["problems"]] * 2
    )
    # Publication asked for on its own is refused by the gate, naming the failed check.
    refused = materialize_selection(defs(), settings, "key:serving/snapshot", None)
    assert [o.success for o in refused] == [False]
    message = " ".join(refused[0].problems)
    assert "serving/snapshot not published: blocking checks failed" in message
    assert "on marts/unmapped_offence_codes failed" in message
    assert not (settings.serving_dir / "current.json").exists()
    assert not (settings.serving_dir / "public" / "current.json").exists()


def plant_failed_calls(target: Path, count: int, *, days_apart: int = 1) -> list[Path]:
    """Folders as failed dbt calls of earlier runs leave them, oldest first."""
    folders = []
    for day in range(count):
        folder = target / f"dbt_annual_marts-{day:07x}-0123abc"
        folder.mkdir(parents=True)
        (folder / "dbt.log").write_text("failed\n")
        moment = time.time() - (count - day) * 86_400 * days_apart
        os.utime(folder, (moment, moment))
        folders.append(folder)
    return folders


def test_folders_of_calls_that_may_still_run_are_not_pruned(tmp_path: Path) -> None:
    """A folder changed within the last hour may be another run's call on the same data
    directory: kept, however many there are; older ones beyond the newest kept go."""
    from orchestration.dbt_assets import prune_failed_invocations

    recent = plant_failed_calls(tmp_path, FAILED_CALLS_KEPT + 3, days_apart=0)
    prune_failed_invocations(tmp_path)
    assert sorted(tmp_path.iterdir()) == recent
    for folder in recent[:3]:
        os.utime(folder, (time.time() - 7200, time.time() - 7200))
    prune_failed_invocations(tmp_path)
    assert sorted(tmp_path.iterdir()) == recent[3:]


def alerts(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def evaluate_failure_sensor(run_id: str) -> None:
    from orchestration.definitions import defs
    from orchestration.runs import dagster_instance
    from orchestration.sensors import alert_on_failed_run

    definitions = defs()
    instance = dagster_instance(load_settings())
    run = instance.get_run_by_id(run_id)
    [failure] = [
        entry.dagster_event
        for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    ]
    with dg.build_run_status_sensor_context(
        sensor_name=alert_on_failed_run.name,
        dagster_event=failure,
        dagster_instance=instance,
        dagster_run=run,
        repository_def=definitions.get_repository_def(),
        resources=definitions.resources,  # as the daemon gives them to the sensor
    ) as context:
        alert_on_failed_run(context.for_run_failure())
