"""Month partitions shared by ingestion and the monthly marts."""

from __future__ import annotations

import dagster as dg

from core.settings import load_settings

MONTH_FORMAT = "%Y-%m"

monthly_partitions = dg.MonthlyPartitionsDefinition(
    start_date=load_settings().first_month,
    fmt=MONTH_FORMAT,
    end_offset=1,  # the running month is loaded day by day as its extracts arrive
)
