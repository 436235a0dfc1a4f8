"""Register freshness through a real dbt build: what its unit tests cannot show.

The verdicts (fresh, stale with a warning or an error, missing, at the thresholds) are dbt
unit tests (dbt_project/models/marts/quality/_quality__unit_tests.yml), which give the model
dbt's graph by hand. Here a real build reads the thresholds from the sources' own freshness
config and measures ages against the real clock, written_at being the registers' local time.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest
import yaml
from dbt_fixtures import (
    DBT_PROJECT_DIR,
    RawWriter,
    create_raw_warehouse,
    fetch,
    run_dbt,
    warehouse_path,
)

from core.contracts import REGISTERS
from core.settings import CountryProfile

LOCAL = ZoneInfo(CountryProfile().timezone)


def local_now() -> datetime:
    """Wall-clock time in the registers' zone, as they write written_at."""
    return datetime.now(LOCAL).replace(tzinfo=None, microsecond=0)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Incidents written an hour ago and loaded half an hour ago, convictions written five
    days ago and loaded an hour later, customs never; then `dbt build` of the model and what
    it reads."""
    home = tmp_path_factory.mktemp("freshness")
    create_raw_warehouse(home)
    writer = RawWriter(home)
    written = {"incidents": local_now() - timedelta(hours=1),
               "convictions": local_now() - timedelta(days=5)}  # fmt: skip
    writer.incidents(
        [{"event_id": "E1", "version": 1, "written_at": f"{written['incidents']}",
          "municipality": "Kauno m. sav.", "offence_code": "BK178-1", "status": "registered"}]
    )  # fmt: skip
    writer.convictions(
        [{"conviction_id": "C1", "version": 1, "written_at": f"{written['convictions']}",
          "person_key": "a" * 52, "age_at_judgment": 30, "final_at": "2023-03-15",
          "sanction": "fine", "offences": [("BK182", False, True)]}]
    )  # fmt: skip
    loaded_at = {"incidents": local_now() - timedelta(minutes=30),
                 "convictions": written["convictions"] + timedelta(hours=1)}  # fmt: skip
    with contextlib.closing(duckdb.connect(str(warehouse_path(home)))) as con:
        for register, when in loaded_at.items():  # the writer loaded them now
            con.execute("update raw.file_loads set loaded_at = ? where register = ?",
                        [when, register])  # fmt: skip
    before = local_now()
    run = run_dbt(home, "build", "--select", "+register_freshness")
    after = local_now() + timedelta(seconds=1)
    rows = fetch(home, "select * from marts.register_freshness")
    yield {
        "home": home,
        "run": run,
        "rows": {row["register"]: row for row in rows},
        "written": written,
        "loaded_at": loaded_at,
        "built_between": (before, after),
    }


def test_build_passes_with_the_model_tests(built: dict[str, Any]) -> None:
    run = built["run"]
    assert run.success, run.failed_nodes()
    assert run.statuses["register_freshness"] == "success"
    assert run.statuses["unique_register_freshness_register"] == "pass"


def test_one_row_per_register(built: dict[str, Any]) -> None:
    assert set(built["rows"]) == set(REGISTERS)


def test_thresholds_are_the_sources_own(built: dict[str, Any]) -> None:
    """warn/error after days are those sources.yml declares (as the manifest holds them)."""
    manifest = json.loads((built["home"] / "dbt_target" / "manifest.json").read_text())
    declared = {
        source["source_name"]: (
            source["freshness"]["warn_after"]["count"],
            source["freshness"]["error_after"]["count"],
        )
        for source in manifest["sources"].values()
        if source["source_name"] in REGISTERS and source["loaded_at_field"]
    }
    assert declared == {
        register: (row["warn_after_days"], row["error_after_days"])
        for register, row in built["rows"].items()
    }


def test_ages_are_local_time_against_the_build(built: dict[str, Any]) -> None:
    """An hour-old record is 0.04 days old, not skewed by the zone's 2-3 hours off UTC."""
    rows, (before, after) = built["rows"], built["built_between"]
    incidents, convictions, customs = (rows[r] for r in ("incidents", "convictions", "customs"))
    assert before <= incidents["computed_at"] <= after
    assert incidents["last_written_at"] == built["written"]["incidents"]
    assert incidents["age_days"] == pytest.approx(1 / 24, abs=0.006)
    assert (incidents["status"], incidents["severity"]) == ("fresh", None)
    assert (incidents["last_loaded_at"], incidents["last_partition"]) == (
        built["loaded_at"]["incidents"], f"{built['written']['incidents']:%Y-%m}",
    )  # fmt: skip
    assert convictions["age_days"] == pytest.approx(5, abs=0.006)
    assert (convictions["status"], convictions["severity"]) == ("stale", "warning")
    assert convictions["last_loaded_at"] == built["loaded_at"]["convictions"]
    assert (customs["last_written_at"], customs["age_days"]) == (None, None)
    assert (customs["status"], customs["severity"]) == ("missing", "error")


def test_the_time_zone_is_the_country_profiles() -> None:
    """written_at is read in dbt's var timezone: the zone the settings give the registers."""
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())
    assert project["vars"]["timezone"] == CountryProfile().timezone
