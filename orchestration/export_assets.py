"""SDMX export assets (SPEC 8): one per dataflow, partitioned by reference year. Each runs
only when every blocking check upstream passed (orchestration.gates), then produces the next
vintage of its release (publication.releases), validated before it lands: provisional, unless
the run is tagged `crimestat/release_status=final` (the annual delivery schedule does)."""

from collections.abc import Iterator

import dagster as dg
from dagster import AssetExecutionContext

from orchestration.gates import require_upstream_checks_passed
from orchestration.partition_results import partition_results
from orchestration.resources import WarehouseResource
from publication.releases import SOURCES, STATUSES, Release, ReleaseError, produce_release

RELEASE_STATUS_TAG = "crimestat/release_status"


def _export_asset(
    dataflow_id: str, yearly_partitions: dg.PartitionsDefinition
) -> dg.AssetsDefinition:
    key = dg.AssetKey(["exports", dataflow_id.lower()])
    mart = dg.AssetKey(["marts", SOURCES[dataflow_id].mart])

    @dg.asset(
        key=key,
        group_name="publication",
        deps=[mart],
        partitions_def=yearly_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        kinds={"sdmx"},
        description=f"{dataflow_id} for the partition's reference year: SDMX-ML 2.1 "
        "StructureSpecificData (delivery), GenericData, SDMX-CSV, structure message and "
        "manifest under $CRIMESTAT_HOME/exports/<DATAFLOW>/<YEAR>/v<VINTAGE>/, a new "
        "vintage each run (provisional unless the run's tag crimestat/release_status says "
        "final); never overwrites an earlier vintage.",
    )
    def export(context: AssetExecutionContext, warehouse: WarehouseResource) -> Iterator[object]:
        status = context.run.tags.get(RELEASE_STATUS_TAG, "provisional")
        if status not in STATUSES:
            raise dg.Failure(
                f"run tag {RELEASE_STATUS_TAG}={status!r}: must be one of {sorted(STATUSES)}"
            )
        require_upstream_checks_passed(context, key, warehouse)
        releases: dict[str, Release] = {}
        failures: list[str] = []
        with warehouse.connect() as con:
            for year in context.partition_keys:
                try:
                    releases[year] = produce_release(
                        con,
                        warehouse.settings.exports_dir,
                        dataflow_id,
                        int(year),
                        status=status,
                        settings=warehouse.settings.structures,
                    )
                except ReleaseError as error:
                    failures.append(f"{dataflow_id} not delivered for {year}: {error}")
                    context.log.error(failures[-1])
        yield from partition_results(
            key,
            {year: _release_metadata(release) for year, release in releases.items()},
            failures,
            summary={
                "releases": dg.MetadataValue.json(
                    {year: release.release_id for year, release in releases.items()}
                )
            },
        )

    return export


def _release_metadata(release: Release) -> dict[str, dg.MetadataValue]:
    return {
        "release_id": dg.MetadataValue.text(release.release_id),
        "vintage": dg.MetadataValue.int(release.vintage),
        "status": dg.MetadataValue.text(release.status),
        "observations": dg.MetadataValue.int(release.observations),
        "files": dg.MetadataValue.json(
            [
                {"path": f.relative_path, "sha256": f.sha256, "observations": f.observations}
                for f in release.files
            ]
        ),
        "manifest": dg.MetadataValue.path(str(release.manifest_path)),
    }


def build_export_assets(yearly_partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """One asset per dataflow, partitioned by reference year."""
    return [_export_asset(dataflow_id, yearly_partitions) for dataflow_id in SOURCES]
