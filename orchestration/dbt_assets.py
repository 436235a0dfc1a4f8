"""The dbt project as Dagster assets (dagster-dbt): models are assets, dbt tests are checks.

The project is cut into four ops so that the op graph follows the data and never loops:
reference seeds -> staging and intermediate views (over the raw register assets) -> monthly
marts (partitioned by month; the month range of a run is passed as vars month_from/month_to)
-> annual and other marts.
"""

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from core.contracts import REGISTERS
from core.settings import load_settings
from orchestration.ingestion_assets import raw_asset_key
from orchestration.partitions import MONTH_FORMAT, monthly_partitions

SOURCE_TABLE_REGISTER = {
    "incident_versions": "incidents",
    "conviction_versions": "convictions",
    "conviction_offences": "convictions",
    "customs_violation_versions": "customs",
    "customs_seizures": "customs",
}
# Written by every register's ingestion: models reading them depend on all three.
SHARED_RAW_TABLES = ("quarantine", "file_loads")
# Selections name models only: a path selector would also pick the tests written in that
# folder's YAML, including tests of models another op builds.
MONTHLY_MODELS = "config.materialized:incremental"
PARTIAL_PARSE_FILE = "partial_parse.msgpack"


def dbt_executable() -> str:
    """The dbt installed beside this interpreter (the project's venv), else the one on PATH."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


def dbt_environment() -> dict[str, str]:
    """dbt reads the data directory and DuckDB's memory limit from the environment
    (profiles.yml). Tests that also
    reference models of a later op (relationships to a mart) wait for that op: `buildable`
    runs a test once all its parents are selected or upstream of the selection."""
    settings = load_settings()
    return {
        "CRIMESTAT_HOME": str(settings.home),
        "CRIMESTAT_DUCKDB_MEMORY_LIMIT": settings.duckdb_memory_limit,
        "CRIMESTAT_LOCK_WAIT_SECONDS": str(settings.lock_wait_seconds),
        "DBT_INDIRECT_SELECTION": "buildable",
    }


def prepare_manifest(project_dir: Path) -> Path:
    """Parse the project when its manifest is missing or older than any of its sources, so a
    fresh checkout (CI, a new machine) loads the definitions without a manual `dbt parse`."""
    manifest = project_dir / "target" / "manifest.json"
    sources = [
        p
        for folder in ("models", "macros", "seeds", "tests")
        for p in (project_dir / folder).rglob("*")
        if p.is_file()
    ] + [project_dir / "dbt_project.yml", project_dir / "profiles.yml"]
    newest = max(p.stat().st_mtime for p in sources)
    if manifest.exists() and manifest.stat().st_mtime >= newest:
        return manifest
    subprocess.run(
        [dbt_executable(), "parse", "--quiet", "--project-dir", str(project_dir),
         "--profiles-dir", str(project_dir)],
        check=True,
        env={**os.environ, **dbt_environment()},
    )  # fmt: skip
    return manifest


class CrimestatDbtTranslator(DagsterDbtTranslator):
    """Keys say the layer (`reference/...`, `staging/...`, `marts/...`); raw sources point at
    the register ingestion assets that write them."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            register = SOURCE_TABLE_REGISTER.get(dbt_resource_props["name"])
            return dg.AssetKey(["raw", register or dbt_resource_props["name"]])
        return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_resource_props["schema"]

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        shared = {dg.AssetKey(["raw", table]) for table in SHARED_RAW_TABLES}
        deps = [dep for dep in spec.deps if dep.asset_key not in shared]
        if len(deps) < len(spec.deps):
            deps += [dg.AssetDep(raw_asset_key(register)) for register in REGISTERS]
        if _is_annual_mart(manifest["nodes"].get(unique_id, {})):
            # Annual marts reconcile with the monthly ones (quality gate): build them after.
            deps += [
                dg.AssetDep(self.get_asset_key(node))
                for node in manifest["nodes"].values()
                if _is_monthly_mart(node)
            ]
        # A model's tests that read a seed (relationships to a code list) need it built first:
        # so selecting the model and its upstream (`+key:...`) brings the seed along.
        known = {dep.asset_key for dep in deps}
        deps += [
            dg.AssetDep(key)
            for key in (
                self.get_asset_key(manifest["nodes"][seed])
                for seed in _seeds_read_by_tests_of(manifest, unique_id)
            )
            if key not in known
        ]
        return spec.replace_attributes(deps=deps) if deps != list(spec.deps) else spec


def _seeds_read_by_tests_of(manifest: Mapping[str, Any], unique_id: str) -> list[str]:
    """Seeds that tests of the model `unique_id` read (seeds test each other in their own op)."""
    if manifest["nodes"].get(unique_id, {}).get("resource_type") != "model":
        return []
    tests = (
        node
        for node in manifest["nodes"].values()
        if node.get("resource_type") == "test"
        and unique_id in node.get("depends_on", {}).get("nodes", ())
    )
    return sorted(
        {
            parent
            for test in tests
            for parent in test["depends_on"]["nodes"]
            if parent != unique_id
            and manifest["nodes"].get(parent, {}).get("resource_type") == "seed"
        }
    )


def _is_mart(node: Mapping[str, Any]) -> bool:
    return node.get("resource_type") == "model" and node.get("path", "").startswith("marts/")


def _is_monthly_mart(node: Mapping[str, Any]) -> bool:
    return _is_mart(node) and node.get("config", {}).get("materialized") == "incremental"


def _is_annual_mart(node: Mapping[str, Any]) -> bool:
    return _is_mart(node) and not _is_monthly_mart(node)


settings = load_settings()
dbt_project = DbtProject(
    project_dir=settings.dbt_project_dir, profiles_dir=settings.dbt_project_dir
)
manifest_path = prepare_manifest(settings.dbt_project_dir)
translator = CrimestatDbtTranslator(
    settings=DagsterDbtTranslatorSettings(enable_duplicate_source_asset_keys=True)
)
dbt_resource = DbtCliResource(
    project_dir=dbt_project,
    profiles_dir=str(settings.dbt_project_dir),
    dbt_executable=dbt_executable(),
)


def _build(
    context: AssetExecutionContext,
    dbt: DbtCliResource,
    dbt_vars: dict,
    indirect_selection: str = "buildable",
) -> Iterator:
    os.environ.update(dbt_environment() | {"DBT_INDIRECT_SELECTION": indirect_selection})
    args = ["build"]
    if dbt_vars:
        args += ["--vars", json.dumps(dbt_vars)]
    invocation = dbt.cli(args, context=context)
    yield from invocation.stream()
    if not dbt_vars:
        keep_partial_parse(invocation.target_path, settings.dbt_project_dir / "target")


def keep_partial_parse(invocation_target: Path, project_target: Path) -> None:
    """dagster-dbt gives every dbt call its own target folder, seeded with the project's
    partial-parse state. That state is only valid for the data directory (profile) and vars it
    was parsed with, and the parse at import time may have seen another data directory: keeping
    the last call's state lets the next calls on this data directory skip a full parse (about
    8 s -> 4 s per call). Calls with vars are not kept: vars force a full parse anyway."""
    parsed = invocation_target / PARTIAL_PARSE_FILE
    if not parsed.exists():
        return
    project_target.mkdir(parents=True, exist_ok=True)
    staged = project_target / f".{PARTIAL_PARSE_FILE}.{os.getpid()}"
    shutil.copyfile(parsed, staged)
    os.replace(staged, project_target / PARTIAL_PARSE_FILE)


@dbt_assets(
    manifest=manifest_path,
    project=dbt_project,
    dagster_dbt_translator=translator,
    select="resource_type:seed",
    name="dbt_reference_seeds",
)
def dbt_reference_seeds(context: AssetExecutionContext, dbt: DbtCliResource) -> Iterator:
    """Reference data: ICCS, correspondence, municipalities/NUTS3, population, code lists."""
    yield from _build(context, dbt, {})


@dbt_assets(
    manifest=manifest_path,
    project=dbt_project,
    dagster_dbt_translator=translator,
    select="path:models/staging,resource_type:model path:models/intermediate,resource_type:model",
    name="dbt_staging_and_intermediate",
)
def dbt_staging_and_intermediate(context: AssetExecutionContext, dbt: DbtCliResource) -> Iterator:
    yield from _build(context, dbt, {})


@dbt_assets(
    manifest=manifest_path,
    project=dbt_project,
    dagster_dbt_translator=translator,
    select=MONTHLY_MODELS,
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    name="dbt_monthly_marts",
)
def dbt_monthly_marts(context: AssetExecutionContext, dbt: DbtCliResource) -> Iterator:
    """Rebuilds the months of the run's partition range (delete+insert by month), reaching
    back to the earliest month that versions written in those partitions touch."""
    window = context.partition_key_range
    touched = earliest_month_touched(window.start, window.end) or window.start
    month_from = max(monthly_partitions.get_first_partition_key(), min(window.start, touched))
    # Eager: every test on a monthly mart runs here, relationships to seeds included (their
    # only other parents, all built before); `buildable` would drop those whose seed is not
    # upstream of the marts (iccs_codes), and no other op runs them.
    yield from _build(
        context, dbt, {"month_from": month_from, "month_to": window.end}, indirect_selection="eager"
    )
    earlier = monthly_partitions.get_partition_keys_in_range(
        dg.PartitionKeyRange(month_from, window.start)
    )[:-1]
    for month in earlier:
        for key in context.selected_asset_keys:
            yield dg.AssetMaterialization(
                asset_key=key,
                partition=month,
                description=f"rebuilt: versions written in {window.start}..{window.end} "
                f"changed {month}",
            )


def earliest_month_touched(first: str, last: str) -> str | None:
    """The earliest mart month that versions written in months first..last can change
    (intermediate.int_mart_months_touched), None before staging was ever built."""
    settings = load_settings()
    with settings.warehouse() as con:
        exists = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'intermediate' and table_name = 'int_mart_months_touched'"
        ).fetchone()[0]
        if not exists:
            return None
        earliest = con.execute(
            "select min(ref_month) from intermediate.int_mart_months_touched "
            "where written_month between cast(? as date) and cast(? as date)",
            [f"{first}-01", f"{last}-01"],
        ).fetchone()[0]
    return None if earliest is None else earliest.strftime(MONTH_FORMAT)


@dbt_assets(
    manifest=manifest_path,
    project=dbt_project,
    dagster_dbt_translator=translator,
    select="path:models/marts,resource_type:model",
    # dbt's indirect selection would otherwise also pull in relationships tests of the monthly
    # marts (their other parent, a seed, is upstream), before those marts exist.
    exclude=f"{MONTHLY_MODELS} {MONTHLY_MODELS}+1,resource_type:test",
    name="dbt_annual_marts",
)
def dbt_annual_marts(context: AssetExecutionContext, dbt: DbtCliResource) -> Iterator:
    yield from _build(context, dbt, {})


mart_asset_keys = sorted(
    key for definition in (dbt_monthly_marts, dbt_annual_marts) for key in definition.keys
)

dbt_asset_definitions = [
    dbt_reference_seeds,
    dbt_staging_and_intermediate,
    dbt_monthly_marts,
    dbt_annual_marts,
]
