"""A dbt-duckdb plugin: dbt's connections to the warehouse wait for its lock.

dbt-duckdb opens the DuckDB file with one attempt by default (`connect_attempts=1`), and its
`retries` setting sleeps 1, 2, 4, ... seconds, overshooting any timeout by up to as much again.
This plugin (named in `dbt_project/profiles.yml`) makes every `duckdb.connect` dbt-duckdb does
go through crimestat's own lock-wait loop (`core.warehouse.connect_waiting`), with the
same timeout, CRIMESTAT_LOCK_WAIT_SECONDS: a backup, `crimestat check` or an export that holds
the warehouse delays dbt instead of failing its steps with "Could not set lock".
"""

from __future__ import annotations

import functools
from typing import Any

import duckdb
from dbt.adapters.duckdb import environments
from dbt.adapters.duckdb.plugins import BasePlugin

from core.warehouse import LOCK_WAIT_SECONDS, connect_waiting


class _WaitingDuckDB:
    """The `duckdb` module as dbt-duckdb's environments see it, `connect` waiting its turn."""

    def __init__(self, wait_seconds: float) -> None:
        self.wait_seconds = wait_seconds
        self.connect = functools.partial(
            connect_waiting, wait_seconds=wait_seconds, connect=duckdb.connect
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(duckdb, name)


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        wait_seconds = float(plugin_config.get("lock_wait_seconds") or LOCK_WAIT_SECONDS)
        # Only dbt-duckdb's reference to the module changes, in this (dbt's) process.
        environments.duckdb = _WaitingDuckDB(wait_seconds)  # type: ignore[assignment]
