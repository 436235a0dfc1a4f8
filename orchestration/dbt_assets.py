"""The dbt project as Dagster assets (dagster-dbt): models are assets, dbt tests are checks.

The project is cut into three ops so that the op graph follows the data and never loops:
reference seeds with the staging and intermediate views (over the raw register assets) -> monthly
marts (partitioned by month; the months a run rebuilds are passed as CRIMESTAT_MONTHS)
-> annual and other marts.
"""

import contextlib
import importlib.metadata
import json
import os
import re
import shutil
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster import AssetExecutionContext
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)
from packaging import version

from core.contracts import REGISTERS
from core.dbt_environment import dbt_environment, dbt_executable
from core.settings import Settings
from core.warehouse import column, ensure_raw_schema, relation_exists
from orchestration.ingestion_assets import raw_asset_key
from orchestration.partitions import MONTH_FORMAT
from orchestration.reference_seeds import (
    forget_seed_fingerprint,
    record_seed_fingerprint,
    seed_fingerprint,
    seed_nodes,
    seeds_loaded,
)
from orchestration.resources import WarehouseResource

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
# The monthly marts (incremental by month; staging is incremental too, by record). A tag, not an
# intersection of selectors: the annual op excludes the tests one step below these models
# (`MONTHLY_MODELS+1`), which an intersection would not scope.
MONTHLY_MART_TAG = "monthly_mart"
MONTHLY_MODELS = f"tag:{MONTHLY_MART_TAG}"
PARTIAL_PARSE_FILE = "partial_parse.msgpack"
# Folders of failed dbt calls kept for the diagnosis (dbt's log, compiled SQL), newest first.
FAILED_CALLS_KEPT = 20
PRUNE_AFTER_SECONDS = 3600
DBT_OPS = ("dbt_reference_and_staging", "dbt_monthly_marts", "dbt_annual_marts")
# dagster-dbt's folder of one call of an op: <op>-<run id's first 7>-<7 of a uuid4>.
INVOCATION_FOLDER = re.compile(rf"({'|'.join(DBT_OPS)})-[0-9a-f]{{7}}-[0-9a-f]{{7}}")


@contextlib.contextmanager
def environment(variables: Mapping[str, str]) -> Iterator[None]:
    """`variables` in this process's environment for the block, restored after it.

    dagster-dbt gives dbt the process's environment and takes no other: its dbt calls see
    these variables only while the block lasts, and nothing stays behind for the process's
    other work."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def prepared_dbt_project(settings: Settings) -> DbtProject:
    """The dbt project, its manifest prepared by dagster-dbt's preparer (`dbt parse`) when it
    is missing or older than any of the project's sources: a fresh checkout (CI, a new
    machine) and a model just edited load without a manual `dbt parse`.

    Not `prepare_if_dev`: under `dagster dev` (`crimestat ui`, which also runs the schedules)
    it parses at every load of the definitions, and they are loaded again by each run's
    process and each step's process (6-9 s a parse here, a dozen steps a run), for a manifest
    that the check above already keeps up to date."""
    project = DbtProject(
        project_dir=settings.dbt_project_dir, profiles_dir=settings.dbt_project_dir
    )
    if _manifest_outdated(project):
        with environment(dbt_environment(settings)):
            project.preparer.prepare(project)
    return project


def _manifest_outdated(project: DbtProject) -> bool:
    sources = [
        p
        for folder in ("models", "macros", "seeds", "tests")
        for p in (project.project_dir / folder).rglob("*")
        if p.is_file()
    ] + [project.project_dir / "dbt_project.yml", project.profiles_dir / "profiles.yml"]
    newest = max(p.stat().st_mtime for p in sources)
    manifest = project.manifest_path
    return not manifest.exists() or manifest.stat().st_mtime < newest


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
            present = {dep.asset_key for dep in deps}
            deps += [
                dg.AssetDep(key) for key in map(raw_asset_key, REGISTERS) if key not in present
            ]
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
    return _is_mart(node) and MONTHLY_MART_TAG in node.get("tags", ())


def _is_annual_mart(node: Mapping[str, Any]) -> bool:
    return _is_mart(node) and not _is_monthly_mart(node)


TRANSLATOR = CrimestatDbtTranslator(
    settings=DagsterDbtTranslatorSettings(enable_duplicate_source_asset_keys=True)
)


def dbt_resource(project: DbtProject) -> DbtCliResource:
    return InstalledDbtCliResource(
        project_dir=project, profiles_dir=str(project.profiles_dir), dbt_executable=dbt_executable()
    )


def _build(
    context: AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    window: Mapping[str, str] | None = None,
    indirect_selection: str = "buildable",
    arguments: Sequence[str] = (),
) -> Iterator:
    """`dbt build` of the op's selection in the settings' environment. Tests that also
    reference models of a later op (relationships to a mart) wait for that op: `buildable`
    runs a test once all its parents are selected or upstream of the selection.

    The monthly marts' window goes to dbt as environment variables (macro month_window), not
    `--vars`: changed vars make dbt parse the whole project again (about 5 s here), a changed
    environment variable only the files that read it."""
    target = warehouse.settings.dbt_target_dir
    variables = warehouse.dbt_environment() | {
        "DBT_INDIRECT_SELECTION": indirect_selection,
        "DBT_TARGET_PATH": str(target),  # dagster-dbt puts each call's folder under it
    }
    variables |= {f"CRIMESTAT_{name.upper()}": month for name, month in (window or {}).items()}
    prune_failed_invocations(target)
    with environment(variables):
        invocation = dbt.cli(["build", *arguments], context=context)
    yield from invocation.stream()
    keep_partial_parse(invocation.target_path, target)
    remove_invocation_target(invocation.target_path, target)


def keep_partial_parse(invocation_target: Path, target: Path) -> None:
    """dagster-dbt gives every dbt call its own folder, seeded with the partial-parse state
    of the target folder above it. That state is only valid for the data directory (profile)
    it was parsed with: so each data directory keeps its own, and two pipelines running on
    two data directories (tests side by side) do not make each other parse everything again
    (about 10 s instead of 5 s a call)."""
    parsed = invocation_target / PARTIAL_PARSE_FILE
    if not parsed.exists():
        return
    target.mkdir(parents=True, exist_ok=True)
    staged = target / f".{PARTIAL_PARSE_FILE}.{os.getpid()}"
    shutil.copyfile(parsed, staged)
    os.replace(staged, target / PARTIAL_PARSE_FILE)


def remove_invocation_target(invocation_target: Path, target: Path) -> None:
    """The folder dagster-dbt made for a call that succeeded (compiled SQL, manifest, logs:
    about 4 MB, three calls a daily run), once its events are in Dagster's log and its
    partial-parse state is kept: left behind, they filled the disk by some GB a year. A
    failed call's folder stays, with dbt's own log, for the diagnosis."""
    if invocation_target.parent == target:
        shutil.rmtree(invocation_target, ignore_errors=True)


def prune_failed_invocations(target: Path, keep: int = FAILED_CALLS_KEPT) -> None:
    """Only the newest `keep` folders of failed calls stay (about 4 MB each): a run failing
    every night for weeks would otherwise fill the data directory's disk with them. Only
    folders named as dagster-dbt names a call of this project's ops are touched (a call that
    succeeded has removed its own), and none changed in the last PRUNE_AFTER_SECONDS: a run
    the daemon started beside a command-line run on the same data directory may still be
    writing one. Clean-up never fails a run: a folder that another process removes first is
    simply gone."""
    if not target.is_dir():
        return
    folders: list[tuple[float, Path]] = []
    for path in target.iterdir():
        if INVOCATION_FOLDER.fullmatch(path.name):
            with contextlib.suppress(OSError):
                folders.append((path.stat().st_mtime, path))
    folders.sort(reverse=True)
    settled = time.time() - PRUNE_AFTER_SECONDS
    for changed_at, folder in folders[keep:]:
        if changed_at < settled:
            shutil.rmtree(folder, ignore_errors=True)


class InstalledDbtCliResource(DbtCliResource):
    """dagster-dbt's two costs before each dbt call that this project does not use.

    It asks the dbt executable for its version before its first call in every run (`dbt
    --version`: a 3 s process here, three times in a run of the whole pipeline). The
    executable beside this interpreter is the dbt-core installed with it, whose version the
    package metadata already holds.

    It also opens a dbt adapter in this process before every call (the profile, the project
    and dbt's macros loaded again: 0.8-2.5 s a call). The adapter serves only the column and
    row-count metadata of `fetch_column_metadata` and `fetch_row_counts`, which the project's
    assets do not ask for; dagster-dbt runs without it when it has none.

    Both override private members of dagster-dbt, which has no setting for either: should a
    later release rename them, the overrides go unused and the costs come back, nothing else."""

    @cached_property
    def _cli_version(self) -> version.Version:
        if Path(self.dbt_executable).parent == Path(sys.executable).parent:
            return version.parse(importlib.metadata.version("dbt-core"))
        return super()._cli_version

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None


class StagingBuild(dg.Config):
    """How the staging op builds: incrementally (the loads since its last build, the daily
    path of schedules and sensors), or whole (`crimestat materialize --full-refresh`: after
    a change of the staging models, or to prove a build from nothing gives the same rows)."""

    full_refresh: bool = False


@dataclass(frozen=True)
class DbtAssets:
    """The dbt project as the assets of its three ops, and the resource that runs dbt."""

    reference_and_staging: dg.AssetsDefinition
    monthly_marts: dg.AssetsDefinition
    annual_marts: dg.AssetsDefinition
    resource: DbtCliResource

    @property
    def definitions(self) -> list[dg.AssetsDefinition]:
        return [self.reference_and_staging, self.monthly_marts, self.annual_marts]

    @property
    def monthly_mart_keys(self) -> set[dg.AssetKey]:
        """The monthly marts: the models the monthly op selects (MONTHLY_MODELS)."""
        return set(self.monthly_marts.keys)

    @property
    def mart_keys(self) -> list[dg.AssetKey]:
        return sorted({*self.monthly_marts.keys, *self.annual_marts.keys})


def build_dbt_assets(project: DbtProject, monthly_partitions: dg.PartitionsDefinition) -> DbtAssets:
    """The three ops over the prepared project's manifest (`prepared_dbt_project`)."""
    common = {"manifest": project.manifest_path, "project": project,
              "dagster_dbt_translator": TRANSLATOR}  # fmt: skip

    @dbt_assets(
        select="resource_type:seed path:models/staging,resource_type:model "
        "path:models/intermediate,resource_type:model",
        name=DBT_OPS[0],
        **common,
    )
    def dbt_reference_and_staging(
        context: AssetExecutionContext,
        dbt: DbtCliResource,
        warehouse: WarehouseResource,
        config: StagingBuild,
    ) -> Iterator:
        """Reference data (ICCS, correspondence, municipalities/NUTS3, population, code lists)
        and the staging and intermediate models over the raw registers, in one dbt call: each
        call costs about 5 s before dbt starts work (its start and partial parse). The seeds
        are loaded only when they changed (orchestration.reference_seeds); the staging models
        take in only the loads since their last build (dbt incremental models), unless the
        run's config asks for a full refresh."""
        manifest = json.loads(project.manifest_path.read_text(encoding="utf-8"))
        fingerprint = seed_fingerprint(manifest, project.project_dir)
        seeds = {TRANSLATOR.get_asset_key(node) for node in seed_nodes(manifest)}
        selected = seeds & context.selected_asset_keys
        arguments = []
        with warehouse.connect() as con:
            ensure_raw_schema(con)  # an older warehouse's loads get their numbers first
            predating = staging_without_load_numbers(con, manifest)
            if selected and not config.full_refresh and seeds_loaded(con, manifest, fingerprint):
                selected, arguments = set(), ["--exclude", "resource_type:seed"]
                context.log.info("reference seeds unchanged since loaded: not loaded again")
            elif selected:
                forget_seed_fingerprint(con)
        if predating:
            context.log.info(
                f"staging tables built before loads were numbered ({', '.join(predating)}): "
                "rebuilt whole"
            )
        if config.full_refresh or predating:
            arguments.append("--full-refresh")
        yield from _build(context, dbt, warehouse, arguments=arguments)
        if selected == seeds:  # a run that loaded only some seeds leaves the others unknown
            with warehouse.connect() as con:
                record_seed_fingerprint(con, fingerprint)

    @dbt_assets(
        select=MONTHLY_MODELS,
        partitions_def=monthly_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        name=DBT_OPS[1],
        **common,
    )
    def dbt_monthly_marts(
        context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
    ) -> Iterator:
        """Rebuilds the months of the run's partition range and every other month that
        versions written in those partitions touch (delete+insert by month), nothing else."""
        window = context.partition_key_range
        in_window = monthly_partitions.get_partition_keys_in_range(window)
        partitions = set(monthly_partitions.get_partition_keys())
        touched = set(months_touched(warehouse, window.start, window.end)) & partitions
        months = sorted({*in_window, *touched})
        # Eager: every test on a monthly mart runs here, relationships to seeds included (their
        # only other parents, all built before); `buildable` would drop those whose seed is not
        # upstream of the marts (iccs_codes), and no other op runs them.
        yield from _build(
            context, dbt, warehouse, {"months": ",".join(months)}, indirect_selection="eager"
        )
        for month in sorted(touched - set(in_window)):
            for key in context.selected_asset_keys:
                yield dg.AssetMaterialization(
                    asset_key=key,
                    partition=month,
                    description=f"rebuilt: versions written in {window.start}..{window.end} "
                    f"changed {month}",
                )

    @dbt_assets(
        select="path:models/marts,resource_type:model",
        # dbt's indirect selection would otherwise also pull in relationships tests of the
        # monthly marts (their other parent, a seed, is upstream), before those marts exist.
        exclude=f"{MONTHLY_MODELS} {MONTHLY_MODELS}+1,resource_type:test",
        name=DBT_OPS[2],
        **common,
    )
    def dbt_annual_marts(
        context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
    ) -> Iterator:
        yield from _build(context, dbt, warehouse)

    return DbtAssets(
        dbt_reference_and_staging,
        dbt_monthly_marts,
        dbt_annual_marts,
        dbt_resource(project),
    )


def staging_without_load_numbers(
    con: duckdb.DuckDBPyConnection, manifest: Mapping[str, Any]
) -> list[str]:
    """The incremental staging tables that exist without `_load_seq` (built before loads were
    numbered, or restored from such a backup): an incremental build cannot read them, a full
    one replaces them."""
    incremental = [
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node["config"].get("materialized") == "incremental"
        and node["schema"] == "staging"
    ]
    return [
        name
        for name in incremental
        if relation_exists(con, "staging", name)
        and column(con, "staging", name, "_load_seq") is None
    ]


def months_touched(warehouse: WarehouseResource, first: str, last: str) -> list[str]:
    """The mart months that versions written in months first..last can change
    (intermediate.int_mart_months_touched), none before staging was ever built."""
    with warehouse.connect() as con:
        if not relation_exists(con, "intermediate", "int_mart_months_touched"):
            return []
        found = con.execute(
            "select distinct ref_month from intermediate.int_mart_months_touched "
            "where written_partition between ? and ?",
            [first, last],
        ).fetchall()
    return [month.strftime(MONTH_FORMAT) for (month,) in found]
