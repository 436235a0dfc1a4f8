"""The dbt project as Dagster assets: landing files -> raw -> marts in real Dagster runs, dbt
tests as asset checks (a failing warning does not stop publication), and monthly marts rebuilt
for the run's month range only.

One Dagster build of the whole pipeline serves the module: the warning test reads it, then the
monthly rebuild test goes on from it, and the full-refresh test after it (the failing blocking
check is test_publication_gate's).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from conftest import use_home
from landing_files import (
    CONVICTION,
    INCIDENT,
    land_three_months,
    personal_code,
    write_convictions,
    write_incidents,
)

from core.settings import Settings, load_settings
from orchestration.reference_seeds import seed_fingerprint

# The fixture holds no final convictions of cross-border crimes, so no SDMX delivery can be
# made from it; the exports are tested in test_sdmx_releases.py.
EVERYTHING_BUT_EXPORTS = 'not key:"exports/*"'
COUNTRIES = dg.AssetKey(["reference", "countries"])


def theft(event_id: str, day: str, **changes: str) -> dict[str, str]:
    return INCIDENT | {
        "event_id": event_id, "written_at": f"{day}T10:00:00", "registered_at": f"{day}T09:00:00",
        "occurred_from": f"{day}T01:00:00", "status": "pretrial_started",
        "pretrial_started_at": f"{day}T09:30:00",
    } | changes  # fmt: skip


def recorded(warehouse: Path) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            "select strftime(ref_month, '%Y-%m'), nuts3, iccs_code, sum(offences) "
            "from marts.recorded_offences group by all order by all"
        ).fetchall()
    finally:
        con.close()


@dataclass(frozen=True)
class Pipeline:
    settings: Settings
    defs: dg.Definitions
    outcomes: list


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    """Three months of the three registers with four thefts a month (one annulled) and a
    conviction of a 13-year-old (a warning expectation fails on it), built by Dagster runs of
    everything but the exports."""
    from orchestration.definitions import build_definitions
    from orchestration.runs import materialize_selection

    home = tmp_path_factory.mktemp("dbt_dagster") / "home"
    landing = home / "landing"
    land_three_months(landing)
    for month in ("2022-01", "2022-02", "2022-03"):
        day = f"{month}-12"
        write_incidents(landing, day, [
            theft(f"T-{month}-1", day), theft(f"T-{month}-2", day), theft(f"T-{month}-3", day),
            theft(f"T-{month}-4", day, status="annulled"),
        ])  # fmt: skip
    child = personal_code("F", "2008-06-01")  # 13 at judgment: below criminal responsibility
    write_convictions(landing, "2022-03-03", [CONVICTION | {
        "conviction_id": "C-child", "written_at": "2022-03-03T12:00:00",
        "person_code": child, "birth_date": "2008-06-01", "sex": "F",
        "judgment_at": "2022-03-01", "final_at": "2022-03-02", "status": "final",
    }])  # fmt: skip
    with pytest.MonkeyPatch.context() as environment:
        use_home(environment, home)
        settings = load_settings()
        defs = build_definitions(settings)
        outcomes = materialize_selection(defs, settings, EVERYTHING_BUT_EXPORTS, None)
        yield Pipeline(settings, defs, outcomes)


def test_failing_warning_does_not_stop_publication(pipeline: Pipeline) -> None:
    settings, outcomes = pipeline.settings, pipeline.outcomes

    assert all(o.success for o in outcomes), [o.problems for o in outcomes]
    warnings = [w for o in outcomes for w in o.warnings]
    assert any("age_at_judgment" in w and "(warning)" in w for w in warnings), warnings
    published = {k.to_user_string() for o in outcomes for k in o.step.keys}
    assert "serving/snapshot" in published
    assert (settings.serving_dir / "current.json").exists()
    # The same gated asset publishes the public face's snapshot.
    assert (settings.serving_dir / "public" / "current.json").exists()
    log = settings.alert_log_path
    assert not log.exists() or [json.loads(line) for line in log.read_text().splitlines()] == []


def test_landing_to_marts_in_dagster_and_monthly_rebuild(pipeline: Pipeline) -> None:
    """Runs last in the module: it loads more versions into the shared build."""
    from orchestration.runs import dagster_instance, materialize_selection

    settings, defs, outcomes = pipeline.settings, pipeline.defs, pipeline.outcomes
    landing = settings.landing_dir

    assert all(o.success for o in outcomes), [o.problems for o in outcomes]
    assert [o.step.partitioned for o in outcomes] == [True, False, True, False]
    assert sum(o.checks_passed for o in outcomes) > 20  # dbt tests ran as asset checks
    # dbt's folder of each call that succeeded is removed (about 4 MB a call)
    runs = {o.run_id[:7] for o in outcomes}
    target = settings.dbt_target_dir
    assert not [p.name for p in target.iterdir() for run in runs if f"-{run}-" in p.name]
    assert recorded(settings.warehouse_path) == [
        ("2022-01", "LT011", "0502", 3),
        ("2022-02", "LT011", "0502", 3),
        ("2022-03", "LT011", "0502", 3),
    ]
    instance = dagster_instance(settings)
    assert instance.get_materialized_partitions(dg.AssetKey(["marts", "recorded_offences"])) == {
        "2022-01", "2022-02", "2022-03"
    }  # fmt: skip

    # In March the register reclassifies a February theft as robbery and a January one too;
    # after ingesting March and refreshing staging, rebuilding the February partition of the
    # mart changes February only.
    write_incidents(landing, "2022-03-20", [
        theft("T-2022-02-1", "2022-02-12", version="2", offence_code="BK180",
              written_at="2022-03-20T10:00:00"),
        theft("T-2022-01-1", "2022-01-12", version="2", offence_code="BK180",
              written_at="2022-03-20T10:00:00"),
    ])  # fmt: skip
    assert all(o.success for o in materialize_selection(
        defs, settings, "group:ingestion", "2022-03"))  # fmt: skip
    [staging] = materialize_selection(
        defs, settings, "group:reference or group:staging or group:intermediate", None)  # fmt: skip
    assert staging.success
    # The reference seeds did not change since the first run loaded them: not loaded again.
    assert last_run_of(settings, COUNTRIES) == outcomes[1].run_id != staging.run_id
    assert all(o.success for o in materialize_selection(
        defs, settings, "key:marts/recorded_offences", "2022-02"))  # fmt: skip
    assert recorded(settings.warehouse_path) == [
        ("2022-01", "LT011", "0502", 3),
        ("2022-02", "LT011", "0401", 1),
        ("2022-02", "LT011", "0502", 2),
        ("2022-03", "LT011", "0502", 3),
    ]

    # The daily run of March (the schedule's month_refresh) rebuilds the monthly marts from the
    # earliest month that March's versions touch: January is brought up to date too, and
    # Dagster records it as materialized by that run.
    # A seed's table gone from the warehouse (a restored older copy, a hand edit): the seeds
    # are loaded again by the next run that builds them.
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("drop table reference.countries")
    # A run that loads some of the seeds only does not vouch for the others.
    [countries] = materialize_selection(defs, settings, "key:reference/countries", None)
    assert countries.success and last_run_of(settings, COUNTRIES) == countries.run_id
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert con.execute("select count(*) from reference.seed_fingerprint").fetchone()[0] == 0
    instance = dagster_instance(settings)
    result = defs.resolve_job_def("month_refresh").execute_in_process(
        instance=instance, partition_key="2022-03", raise_on_error=False
    )
    assert result.success
    assert recorded(settings.warehouse_path) == [
        ("2022-01", "LT011", "0401", 1),
        ("2022-01", "LT011", "0502", 2),
        ("2022-02", "LT011", "0401", 1),
        ("2022-02", "LT011", "0502", 2),
        ("2022-03", "LT011", "0502", 3),
    ]
    january = instance.fetch_materializations(
        dg.AssetRecordsFilter(
            asset_key=dg.AssetKey(["marts", "recorded_offences"]), asset_partitions=["2022-01"]
        ),
        limit=1,
    ).records[0]
    assert january.run_id == result.run_id
    assert last_run_of(settings, COUNTRIES) == result.run_id
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert con.execute("select count(*) from reference.countries").fetchone()[0] > 200
        [(kept,)] = con.execute("select fingerprint from reference.seed_fingerprint").fetchall()
    manifest = settings.dbt_project_dir / "target" / "manifest.json"  # dagster-dbt's
    assert kept == seed_fingerprint(json.loads(manifest.read_text()), settings.dbt_project_dir)


def test_full_refresh_rebuilds_staging_whole(pipeline: Pipeline) -> None:
    """`crimestat materialize --full-refresh`: the staging op rebuilds its tables from the raw
    versions (a row no load delivered is gone), the same rows as the incremental builds; and
    whole, unasked, when a staging table predates load numbers."""
    from orchestration.runs import materialize_selection

    settings, defs = pipeline.settings, pipeline.defs
    events = "select * from staging.stg_incidents__events order by event_id"
    with duckdb.connect(str(settings.warehouse_path)) as con:
        built = con.execute(events).fetchall()
        con.execute(
            "insert into staging.stg_incidents__events select * replace ('STRAY' as event_id) "
            "from staging.stg_incidents__events limit 1"
        )
    [run] = materialize_selection(defs, settings, "group:staging", None, full_refresh=True)
    assert run.success, run.problems
    with duckdb.connect(str(settings.warehouse_path)) as con:
        assert con.execute(events).fetchall() == built
        # A staging table built before loads were numbered (an upgraded warehouse, a restored
        # older backup): the next ordinary run rebuilds it whole instead of failing on it.
        con.execute("alter table staging.base_incidents__event_versions drop column _load_seq")
    [run] = materialize_selection(defs, settings, "group:staging", None)
    assert run.success, run.problems
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert con.execute(events).fetchall() == built
        assert con.execute(
            "select count(_load_seq) = count(*) from staging.base_incidents__event_versions"
        ).fetchall() == [(True,)]


def test_every_dbt_test_is_a_check_of_its_node_in_one_op(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each dbt test attached to a model or seed runs as an asset check of it, in exactly one
    of the three ops: an op selector that dropped some (as the annual op's once did for the
    tests of customs_violation_points, among them the rounding of the published coordinates)
    would let a mart be published unchecked."""
    from orchestration.dbt_assets import DBT_OPS, TRANSLATOR
    from orchestration.definitions import build_definitions

    use_home(monkeypatch, tmp_path)
    settings = load_settings()
    defs = build_definitions(settings)
    manifest = json.loads((settings.dbt_project_dir / "target" / "manifest.json").read_text())
    nodes = manifest["nodes"]
    expected = {
        (TRANSLATOR.get_asset_key(nodes[node["attached_node"]]), node["name"])
        for node in nodes.values()
        if node["resource_type"] == "test" and node.get("attached_node") in nodes
    }
    dbt_ops = [assets for assets in defs.assets if assets.op.name in DBT_OPS]
    assert len(dbt_ops) == len(DBT_OPS)
    checks = [(key.asset_key, key.name) for assets in dbt_ops for key in assets.check_keys]
    assert len(checks) == len(set(checks))
    assert expected - set(checks) == set()  # singular tests may be checks too (of what they read)


def last_run_of(settings: Settings, key: dg.AssetKey) -> str:
    from orchestration.runs import dagster_instance

    return dagster_instance(settings).get_latest_materialization_event(key).run_id


def seeds_of(**changes: object) -> dict:
    seed = {"unique_id": "seed.crimestat.countries", "resource_type": "seed",
            "checksum": {"name": "sha256", "checksum": "ab"}, "schema": "reference",
            "alias": "countries", "config": {"column_types": {"code": "varchar"}},
            "original_file_path": "seeds/countries.csv",
            "patch_path": "crimestat://seeds/_seeds.yml"}  # fmt: skip
    model = {"unique_id": "model.crimestat.m", "resource_type": "model", "checksum": "cd"}
    return {"nodes": {"seed.crimestat.countries": seed | changes, "model.crimestat.m": model}}


def test_the_seed_fingerprint_follows_what_the_seed_tables_hold(tmp_path: Path) -> None:
    """Its file and configuration as they are now (column types), its descriptions; not the
    models."""
    csv = tmp_path / "seeds" / "countries.csv"
    csv.parent.mkdir()
    csv.write_text("code\nLT\n")
    project = tmp_path / "dbt_project.yml"
    project.write_text("seeds:\n  +column_types: {code: varchar}\n")
    properties = tmp_path / "seeds" / "_seeds.yml"
    properties.write_text("seeds:\n  - name: countries\n")
    same = seed_fingerprint(seeds_of(), tmp_path)
    for changed in (
        seeds_of(checksum={"name": "sha256", "checksum": "ac"}),
        seeds_of(config={"column_types": {"code": "integer"}}),
        seeds_of(description="countries of the world"),
    ):
        assert seed_fingerprint(changed, tmp_path) != same
    model_changed = seeds_of()
    model_changed["nodes"]["model.crimestat.m"]["checksum"] = "ce"
    assert seed_fingerprint(model_changed, tmp_path) == same
    # edited after the manifest was prepared: the seed, then the project's seed configuration
    csv.write_text("code\nLV\n")
    edited = seed_fingerprint(seeds_of(), tmp_path)
    assert edited != same
    project.write_text("seeds:\n  +column_types: {code: integer}\n")
    reconfigured = seed_fingerprint(seeds_of(), tmp_path)
    assert reconfigured != edited
    properties.write_text("seeds:\n  - name: countries\n    config: {delimiter: ';'}\n")
    assert seed_fingerprint(seeds_of(), tmp_path) != reconfigured
