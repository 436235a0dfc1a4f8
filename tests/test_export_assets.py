"""The SDMX export assets over a range of reference years in one run (a backfill, or the
command line's full build): every year with data is delivered and recorded as its own
partition; a year the mart lacks fails the run naming it, without holding back the others."""

from __future__ import annotations

import contextlib
from pathlib import Path

import dagster as dg
import duckdb
from dashboards_fixtures import build_warehouse_before_releases

from core.settings import load_settings

CRIM_OFF_CAT = dg.AssetKey(["exports", "crim_off_cat"])


def test_a_range_of_years_delivers_each_year_and_names_the_missing_one(
    crimestat_home: Path,
) -> None:
    from orchestration.export_assets import build_export_assets
    from orchestration.partitions import partitions_from
    from orchestration.resources import WarehouseResource
    from orchestration.run_events import PARTITION_RANGE_END_TAG, PARTITION_RANGE_START_TAG
    from orchestration.runs import dagster_instance

    build_warehouse_before_releases(crimestat_home)
    with contextlib.closing(duckdb.connect(str(crimestat_home / "warehouse.duckdb"))) as con:
        years = [row[0] for row in con.execute(
            "select distinct ref_year from marts.recorded_offences_annual order by 1"
        ).fetchall()]  # fmt: skip
    assert len(years) >= 2
    missing = years[-1] + 1
    settings = load_settings()
    instance = dagster_instance(settings)
    exports = build_export_assets(partitions_from(settings.first_month).yearly)

    result = dg.materialize(
        [next(a for a in exports if a.key == CRIM_OFF_CAT)],
        resources={"warehouse": WarehouseResource(settings=settings)},
        instance=instance,
        tags={PARTITION_RANGE_START_TAG: str(years[0]), PARTITION_RANGE_END_TAG: str(missing)},
        raise_on_error=False,
    )  # fmt: skip

    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    description = failure.step_failure_data.user_failure_data.description
    assert f"CRIM_OFF_CAT not delivered for {missing}:" in description
    assert f"marts.recorded_offences_annual has no rows for {missing}" in description
    assert instance.get_materialized_partitions(CRIM_OFF_CAT) == {str(y) for y in years}
    for year in years:
        assert (crimestat_home / f"exports/CRIM_OFF_CAT/{year}/v1/manifest.json").exists()
