"""Shared fixtures: every test gets its own data directory and a real DuckDB file in it."""

from __future__ import annotations

from pathlib import Path

import pytest

TEST_PSEUDONYMISATION_KEY = "test-secret-key-0123456789"


@pytest.fixture
def crimestat_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    use_home(monkeypatch, home)
    return home


def use_home(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """The settings of a test's data directory: its home, the test key, no demo mode."""
    monkeypatch.setenv("CRIMESTAT_HOME", str(home))
    monkeypatch.setenv("CRIMESTAT_PSEUDONYMISATION_KEY", TEST_PSEUDONYMISATION_KEY)
    monkeypatch.delenv("CRIMESTAT_DEMO", raising=False)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    # Test landings are a few rows a month: starting worker processes would cost more than it
    # saves. test_ingestion_runs loads with workers on purpose.
    monkeypatch.setenv("CRIMESTAT_INGESTION_WORKERS", "1")


@pytest.fixture(scope="session", autouse=True)
def shared_dir(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A directory every test worker of this run sees (pytest-xdist gives each worker its own
    base temporary directory, inside the run's), for builds the workers share."""
    import dashboards_fixtures

    base = tmp_path_factory.getbasetemp()
    shared = base if worker_id == "master" else base.parent
    dashboards_fixtures.SHARED_DIR = shared
    return shared


# The test files that run longest (Dagster runs of the whole pipeline, shared warehouses built
# by dbt), longest first. Each worker takes whole files in collection order (--dist=loadfile):
# started first, they run side by side while the many short files fill the gaps, instead of
# one worker finishing a long file alone at the end.
LONGEST_FILES = (
    "test_dbt_dagster.py",
    "test_publication_gate.py",
    "test_partner_extracts.py",
    "test_dashboards_browser.py",
    "test_personal_data.py",
    "test_schedules_sensors.py",
    "test_dbt_counting_rules.py",
    "test_disclosure.py",
    "test_ingestion_runs.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return LONGEST_FILES.index(name) if name in LONGEST_FILES else len(LONGEST_FILES)

    items.sort(key=rank)  # stable: a file's tests keep their order
