"""Schedules (SPEC 11): when each job runs and for which partition.

The cron strings are settings (core/settings.py, ScheduleSettings) in the country's time
zone; each schedule turns its tick's date into the partition it is about: the previous day's
month, the previous month, the previous year.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import dagster as dg

from core.settings import Settings
from orchestration.export_assets import RELEASE_STATUS_TAG
from orchestration.jobs import annual_delivery_job, month_refresh_job, partner_extracts_job
from orchestration.partitions import MONTH_FORMAT, Partitions

RUNNING = dg.DefaultScheduleStatus.RUNNING


def _tick_date(context: dg.ScheduleEvaluationContext) -> date:
    moment = context.scheduled_execution_time or datetime.now()
    return moment.date()


def _known(partitions_def: dg.TimeWindowPartitionsDefinition, key: str) -> bool:
    """Not before the first partition (keys are YYYY-MM or YYYY, ordered as text); a tick is
    always about a past period, which the partitions already hold."""
    return key >= partitions_def.get_first_partition_key()


def build_schedules(settings: Settings, partitions: Partitions) -> list[dg.ScheduleDefinition]:
    """The three schedules, at the settings' cron strings in the country's time zone."""
    timezone = settings.country.timezone
    monthly_partitions, yearly_partitions = partitions.monthly, partitions.yearly

    @dg.schedule(
        name="daily_ingestion",
        cron_schedule=settings.schedules.daily_ingestion,
        job=month_refresh_job,
        execution_timezone=timezone,
        default_status=RUNNING,
        description="Every morning: the previous day's extracts, in their month's partition.",
    )
    def daily_ingestion(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        today = _tick_date(context)
        day = today - timedelta(days=1)
        month = day.strftime(MONTH_FORMAT)
        if not _known(monthly_partitions, month):
            return dg.SkipReason(f"{month} is before the first month partition")
        return dg.RunRequest(
            run_key=f"daily-ingestion-{day.isoformat()}",
            partition_key=month,
            tags={"crimestat/ingested_day": day.isoformat()},
        )

    @dg.schedule(
        name="monthly_partner_extracts",
        cron_schedule=settings.schedules.partner_extracts,
        job=partner_extracts_job,
        execution_timezone=timezone,
        default_status=RUNNING,
        description="The 5th of each month: every partner's package for the previous month.",
    )
    def monthly_partner_extracts(
        context: dg.ScheduleEvaluationContext,
    ) -> dg.RunRequest | dg.SkipReason:
        today = _tick_date(context)
        month = (today.replace(day=1) - timedelta(days=1)).strftime(MONTH_FORMAT)
        if not _known(monthly_partitions, month):
            return dg.SkipReason(f"{month} is before the first month partition")
        return dg.RunRequest(run_key=f"partner-extracts-{month}", partition_key=month)

    @dg.schedule(
        name="annual_sdmx_delivery",
        cron_schedule=settings.schedules.annual_delivery,
        job=annual_delivery_job,
        execution_timezone=timezone,
        default_status=RUNNING,
        description="Once a year: the final SDMX deliveries of the previous reference year to "
        "Eurostat (CRIM_OFF_CAT, CRIM_JUST) and Eurojust (EJ_XB_CONV).",
    )
    def annual_sdmx_delivery(
        context: dg.ScheduleEvaluationContext,
    ) -> dg.RunRequest | dg.SkipReason:
        today = _tick_date(context)
        year = str(today.year - 1)
        if not _known(yearly_partitions, year):
            return dg.SkipReason(f"{year} is before the first reference year")
        return dg.RunRequest(
            run_key=f"annual-delivery-{year}",
            partition_key=year,
            tags={RELEASE_STATUS_TAG: "final"},
        )

    return [daily_ingestion, monthly_partner_extracts, annual_sdmx_delivery]
