"""Shared fixtures: every test gets its own data directory and a real DuckDB file in it."""

from __future__ import annotations

from pathlib import Path

import pytest

TEST_PSEUDONYMISATION_KEY = "test-secret-key-0123456789"


@pytest.fixture
def crimestat_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("CRIMESTAT_HOME", str(home))
    monkeypatch.setenv("CRIMESTAT_PSEUDONYMISATION_KEY", TEST_PSEUDONYMISATION_KEY)
    monkeypatch.delenv("CRIMESTAT_DEMO", raising=False)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    # Test landings are a few rows a month: starting worker processes would cost more than it
    # saves. test_ingestion_runs loads with workers on purpose.
    monkeypatch.setenv("CRIMESTAT_INGESTION_WORKERS", "1")
    return home


@pytest.fixture(scope="session", autouse=True)
def shared_dir(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A directory every test worker of this run sees (pytest-xdist gives each worker its own
    base temporary directory, inside the run's), for builds the workers share."""
    import dashboards_fixtures

    base = tmp_path_factory.getbasetemp()
    shared = base if worker_id == "master" else base.parent
    dashboards_fixtures.SHARED_DIR = shared
    return shared
