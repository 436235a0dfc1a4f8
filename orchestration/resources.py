"""The Dagster resources of crimestat: the warehouse, and where each register's records come
from.

Each holds the settings the definitions were built with (read once, in
`orchestration.definitions` or by the command line) as a resource dependency: Dagster rebuilds
resources from their configuration in each step, and settings (secrets included: database
URLs, the SMTP password) must never become configuration that the UI shows. (This module does
without `from __future__ import annotations`: Dagster recognises `dg.ResourceDependency` only
in evaluated annotations.) Tests swap a resource for another (a register read from a database
instead of landing files) by passing it to the run, with no environment variable to set before
an import.
"""

from abc import abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager

import dagster as dg
import duckdb

from core.dbt_environment import dbt_environment
from core.settings import Settings
from ingestion.database.pull import pull_partition
from ingestion.loading import PartitionReport, load_partitions

WAREHOUSE = "warehouse"


class WarehouseResource(dg.ConfigurableResource):
    """The data directory ($CRIMESTAT_HOME) and its warehouse, under the settings of the
    deployment: connections with its memory limit and lock wait, and the environment dbt
    runs in."""

    settings: dg.ResourceDependency[Settings]

    def connect(self, **options: object) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        """A warehouse connection (options: read_only, wait_seconds)."""
        return self.settings.warehouse(**options)

    def dbt_environment(self) -> dict[str, str]:
        return dbt_environment(self.settings)


class RegisterSource(dg.ConfigurableResource):
    """Where one register's records come from; each month is committed as it is read."""

    register_name: str
    settings: dg.ResourceDependency[Settings]

    @abstractmethod
    def ingest(self, partitions: Sequence[str]) -> Iterator[PartitionReport]:
        """The months in order, one report each as it is committed."""


class LandingFilesSource(RegisterSource):
    """The register's extracts under the landing directory."""

    def ingest(self, partitions: Sequence[str]) -> Iterator[PartitionReport]:
        yield from load_partitions(self.register_name, partitions, self.settings)


class RegisterDatabaseSource(RegisterSource):
    """The register's operational database (CRIMESTAT_<REGISTER>_DB_URL), pulled month by
    month into the same raw rows through the same loader."""

    def ingest(self, partitions: Sequence[str]) -> Iterator[PartitionReport]:
        for partition in partitions:
            yield pull_partition(self.register_name, partition, self.settings)


def source_key(register: str) -> str:
    """The resource key of a register's source: `incidents_source`, ..."""
    return f"{register}_source"


def register_source(register: str, settings: Settings) -> RegisterSource:
    """The register's database when the settings give its URL, else its landing files."""
    if settings.database_url(register) is not None:
        return RegisterDatabaseSource(register_name=register, settings=settings)
    return LandingFilesSource(register_name=register, settings=settings)
