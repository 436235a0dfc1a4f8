"""Where a register's records come from: its database when its URL is set, else landing
files. Both land the same raw rows through the same loader (ingestion/loading.py)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from core.settings import Settings
from ingestion.database.pull import pull_partition
from ingestion.loading import PartitionReport, load_partitions


def ingest_partitions(
    register: str, partitions: Sequence[str], settings: Settings
) -> Iterator[PartitionReport]:
    """The months in order, one report each as it is committed."""
    if settings.database_url(register) is not None:
        for partition in partitions:
            yield pull_partition(register, partition, settings)
    else:
        yield from load_partitions(register, partitions, settings)
