"""Schedules and the landing sensor, evaluated as the Dagster daemon would: schedules give the
right run request and partition for a given date; the sensor starts one run for new landing
files and nothing for files already loaded or already requested."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from landing_files import INCIDENT, land_three_months, write_incidents

from core.settings import load_settings

VILNIUS = ZoneInfo("Europe/Vilnius")


def repository() -> dg.RepositoryDefinition:
    from orchestration.definitions import defs

    return defs().get_repository_def()


def schedule(name: str) -> dg.ScheduleDefinition:
    return repository().get_schedule_def(name)


def schedule_context(*moment: int) -> dg.ScheduleEvaluationContext:
    return dg.build_schedule_context(
        scheduled_execution_time=datetime(*moment, tzinfo=VILNIUS), repository_def=repository()
    )


def tick(schedule: dg.ScheduleDefinition, *moment: int) -> list[dg.RunRequest]:
    return list(schedule.evaluate_tick(schedule_context(*moment)).run_requests or [])


def next_ticks(schedule: dg.ScheduleDefinition, after: datetime, count: int) -> list[datetime]:
    from dagster._utils.schedules import cron_string_iterator

    ticks = cron_string_iterator(after.timestamp(), schedule.cron_schedule, str(after.tzinfo))
    return [next(ticks) for _ in range(count)]


@pytest.mark.parametrize(
    ("moment", "partition", "day"),
    [
        ((2024, 3, 1, 6, 0), "2024-02", "2024-02-29"),  # the first of the month: last month
        ((2024, 3, 15, 6, 0), "2024-03", "2024-03-14"),
        ((2025, 1, 1, 6, 0), "2024-12", "2024-12-31"),
    ],
)
def test_daily_ingestion_runs_the_previous_days_month(moment, partition, day) -> None:
    daily_ingestion = schedule("daily_ingestion")
    [request] = tick(daily_ingestion, *moment)

    assert request.partition_key == partition
    assert request.run_key == f"daily-ingestion-{day}"
    assert request.tags["crimestat/ingested_day"] == day
    assert daily_ingestion.job_name == "month_refresh"


def test_partner_extracts_on_the_fifth_for_the_previous_month() -> None:
    monthly_partner_extracts = schedule("monthly_partner_extracts")
    ticks = next_ticks(monthly_partner_extracts, datetime(2024, 1, 1, tzinfo=VILNIUS), 3)
    assert [(t.month, t.day, t.hour) for t in ticks] == [(1, 5, 7), (2, 5, 7), (3, 5, 7)]
    [january] = tick(monthly_partner_extracts, 2024, 1, 5, 7, 0)
    [march] = tick(monthly_partner_extracts, 2024, 3, 5, 7, 0)

    assert (january.partition_key, january.run_key) == ("2023-12", "partner-extracts-2023-12")
    assert march.partition_key == "2024-02"
    assert monthly_partner_extracts.job_name == "partner_extracts"


def test_annual_delivery_is_final_for_the_previous_year() -> None:
    from orchestration.export_assets import RELEASE_STATUS_TAG

    annual_sdmx_delivery = schedule("annual_sdmx_delivery")
    ticks = next_ticks(annual_sdmx_delivery, datetime(2024, 1, 1, tzinfo=VILNIUS), 2)
    assert [(t.year, t.month, t.day) for t in ticks] == [(2024, 6, 1), (2025, 6, 1)]
    [request] = tick(annual_sdmx_delivery, 2024, 6, 1, 7, 0)

    assert request.partition_key == "2023"
    assert request.tags[RELEASE_STATUS_TAG] == "final"
    assert annual_sdmx_delivery.job_name == "annual_delivery"


def test_schedules_skip_before_the_first_partition() -> None:
    daily_ingestion = schedule("daily_ingestion")
    annual_sdmx_delivery = schedule("annual_sdmx_delivery")
    first = load_settings().first_month
    year, month = map(int, first.split("-"))
    context = schedule_context(year, month, 1, 6)
    assert daily_ingestion.evaluate_tick(context).skip_message
    assert annual_sdmx_delivery.evaluate_tick(context).skip_message


def test_schedule_crons_come_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.settings import SettingsError

    monkeypatch.setenv("CRIMESTAT_PARTNER_EXTRACTS_CRON", "0 7 6 * *")
    assert load_settings().schedules.partner_extracts == "0 7 6 * *"
    assert schedule("monthly_partner_extracts").cron_schedule == "0 7 6 * *"
    monkeypatch.setenv("CRIMESTAT_DAILY_INGESTION_CRON", "every morning")
    with pytest.raises(SettingsError, match="CRIMESTAT_DAILY_INGESTION_CRON must be a cron"):
        load_settings()


def evaluate_sensor(cursor: str | None) -> tuple[list[dg.RunRequest], str | None, str | None]:
    from orchestration.definitions import defs
    from orchestration.runs import dagster_instance
    from orchestration.sensors import new_landing_files

    definitions = defs()
    instance = dagster_instance(load_settings())
    # The definitions' resources, as the daemon gives them to the sensor.
    with dg.build_sensor_context(
        instance=instance, cursor=cursor, definitions=definitions, resources=definitions.resources
    ) as context:
        data = new_landing_files.evaluate_tick(context)
    return list(data.run_requests or []), data.cursor, data.skip_message


def keys(request: dg.RunRequest) -> set[str]:
    return {k.to_user_string() for k in request.asset_selection}


def test_sensor_starts_ingestion_for_new_files_exactly_once(crimestat_home: Path) -> None:
    from orchestration.definitions import defs
    from orchestration.runs import materialize_selection

    landing = crimestat_home / "landing"
    land_three_months(landing)

    requests, cursor, _ = evaluate_sensor(None)

    assert [r.partition_key for r in requests] == ["2022-01", "2022-02", "2022-03"]
    first = requests[0]
    assert {"raw/incidents", "raw/convictions", "raw/customs"} <= keys(first)
    assert {"marts/recorded_offences", "serving/snapshot"} <= keys(first)
    assert not any(k.startswith(("exports/", "extracts/")) for k in keys(first))
    # The same files give the same run keys (the daemon launches a run key once) ...
    again, _, _ = evaluate_sensor(None)
    assert [r.run_key for r in again] == [r.run_key for r in requests]
    # ... and with the cursor nothing is requested twice.
    nothing, cursor, skipped = evaluate_sensor(cursor)
    assert nothing == [] and "no new or changed landing files" in skipped

    # Files loaded by the command line are not requested again, even by a fresh sensor.
    settings = load_settings()
    loaded = materialize_selection(defs(), settings, "group:ingestion", None)
    assert all(o.success for o in loaded), [o.problems for o in loaded]
    nothing, fresh_cursor, skipped = evaluate_sensor(None)
    assert nothing == [] and "already loaded" in skipped
    assert json.loads(fresh_cursor).keys() == json.loads(cursor).keys()

    # A new daily file of February: one run for February's incidents only.
    write_incidents(landing, "2022-02-21", [INCIDENT | {"event_id": "E-late"}])
    [february], cursor, _ = evaluate_sensor(cursor)
    assert february.partition_key == "2022-02"
    raw_keys = {k for k in keys(february) if k.startswith("raw/")}
    assert raw_keys == {"raw/incidents"}
    assert february.tags["crimestat/new_landing_files"] == "1"
    nothing, _, _ = evaluate_sensor(cursor)
    assert nothing == []


def test_sensor_request_runs_and_then_its_files_count_as_loaded(crimestat_home: Path) -> None:
    from orchestration.definitions import defs
    from orchestration.runs import dagster_instance

    landing = crimestat_home / "landing"
    write_incidents(landing, "2022-03-02", [INCIDENT | {"event_id": "E-9"}])
    [request], _, _ = evaluate_sensor(None)

    job = defs().resolve_job_def("month_refresh")
    result = job.execute_in_process(
        instance=dagster_instance(load_settings()),
        partition_key=request.partition_key,
        asset_selection=list(request.asset_selection),
        tags=request.tags,
        raise_on_error=False,
    )

    assert result.success
    nothing, _, skipped = evaluate_sensor(None)
    assert nothing == [] and "already loaded" in skipped
