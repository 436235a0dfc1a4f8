"""The partitions of crimestat's assets, from the first month of the deployment (a setting):
months for the registers, the monthly marts and the partner packages; reference years for the
SDMX deliveries."""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

MONTH_FORMAT = "%Y-%m"


@dataclass(frozen=True)
class Partitions:
    monthly: dg.MonthlyPartitionsDefinition
    yearly: dg.TimeWindowPartitionsDefinition


def partitions_from(first_month: str) -> Partitions:
    """Both partitionings, starting at `first_month` (YYYY-MM) and its year."""
    return Partitions(
        monthly=dg.MonthlyPartitionsDefinition(
            start_date=first_month,
            fmt=MONTH_FORMAT,
            end_offset=1,  # the running month is loaded day by day as its extracts arrive
        ),
        # Dagster has no YearlyPartitionsDefinition: a time window from 1 January to 1 January.
        yearly=dg.TimeWindowPartitionsDefinition(
            cron_schedule="0 0 1 1 *",
            start=first_month[:4],
            fmt="%Y",
            end_offset=1,  # the running year: provisional figures
        ),
    )
