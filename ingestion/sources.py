"""Where a register's records come from: its database when its URL is set, else landing
files. Both land the same raw rows through the same loader (ingestion/loading.py)."""

from __future__ import annotations

from crimestat.settings import Settings
from ingestion.database.pull import pull_partition
from ingestion.loading import PartitionReport, load_partition


def ingest_partition(register: str, partition: str, settings: Settings) -> PartitionReport:
    if settings.database_url(register) is not None:
        return pull_partition(register, partition, settings)
    return load_partition(register, partition, settings)
