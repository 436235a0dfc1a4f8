"""One asset per register, partitioned by month, with the nothing-lost check.

A run over a range of months loads each month in its own transaction. When some files cannot
be read, the other months (and the readable files) are kept and recorded as materialized, and
the run fails naming each unreadable file.
"""

from collections.abc import Iterator

import dagster as dg
from dagster import AssetExecutionContext

from ingestion.errors import PartitionLoadError, SourceDatabaseError
from ingestion.loading import PartitionReport
from ingestion.reconciliation import unreconciled_files
from orchestration.partition_results import partition_results
from orchestration.quality_checks import check_specs, run_recorded_suite, suite_check_results
from orchestration.resources import WAREHOUSE, RegisterSource, WarehouseResource, source_key

ROWS_RECONCILE = "rows_reconcile"


def raw_asset_key(register: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", register])


def _partition_metadata(report: PartitionReport) -> dict[str, dg.MetadataValue]:
    return {
        "files": dg.MetadataValue.int(report.files.height),
        "rows_read": dg.MetadataValue.int(report.rows_read),
        "rows_loaded": dg.MetadataValue.int(report.rows_loaded),
        "rows_quarantined": dg.MetadataValue.int(report.rows_quarantined),
        "quarantined_by_rule": dg.MetadataValue.json(report.quarantined_by_rule),
        "rows_by_table": dg.MetadataValue.json(report.rows_by_table),
    }


def build_register_asset(
    register: str, monthly_partitions: dg.PartitionsDefinition
) -> dg.AssetsDefinition:
    """The register's asset; its records come from the resource `<register>_source` (landing
    files or the register's database, `orchestration.resources`)."""
    key = raw_asset_key(register)

    @dg.asset(
        key=key,
        group_name="ingestion",
        partitions_def=monthly_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        kinds={"python", "duckdb"},
        # Each register's own source: resource parameters would need one name for all three.
        required_resource_keys={WAREHOUSE, source_key(register)},
        description=f"Every version row of the {register} register for the month, from its "
        f"landing files or, when CRIMESTAT_{register.upper()}_DB_URL is set, pulled from its "
        "database; validated, pseudonymised; failing rows in raw.quarantine.",
        check_specs=[
            *check_specs(f"raw_{register}"),
            dg.AssetCheckSpec(
                ROWS_RECONCILE,
                asset=key,
                description="Per landing file or database pull batch: rows read = rows "
                "loaded + rows quarantined, counted in the warehouse tables.",
                blocking=True,
            ),
        ],
    )
    def register_asset(context: AssetExecutionContext) -> Iterator[object]:
        warehouse: WarehouseResource = context.resources.warehouse
        source: RegisterSource = getattr(context.resources, source_key(register))
        partitions = context.partition_keys
        failures: list[PartitionLoadError | SourceDatabaseError] = []
        loaded: list[PartitionReport] = []
        try:
            for report in source.ingest(partitions):
                context.log.info(
                    f"{register} {report.partition}: {report.files.height} files, "
                    f"{report.rows_read} rows read, {report.rows_loaded} loaded, "
                    f"{report.rows_quarantined} quarantined"
                )
                loaded.append(report)
                if report.failures:
                    failures.append(PartitionLoadError(register, report.partition, report.failures))
                    context.log.error(str(failures[-1]))
        except SourceDatabaseError as error:
            # The database is unreachable or misshapen: later months would fail alike.
            failures.append(error)
            context.log.error(str(error))
        with warehouse.connect(read_only=False) as con:
            mismatches = unreconciled_files(con, register, partitions)
        yield dg.AssetCheckResult(
            check_name=ROWS_RECONCILE,
            passed=mismatches.is_empty(),
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "partitions": dg.MetadataValue.text(f"{partitions[0]}..{partitions[-1]}"),
                "files_checked": dg.MetadataValue.int(sum(r.files.height for r in loaded)),
                "unreconciled_files": dg.MetadataValue.json(mismatches.to_dicts()),
            },
        )  # fmt: skip
        yield from suite_check_results(
            run_recorded_suite(context, f"raw_{register}", warehouse, partitions)
        )
        failed = {f.partition for f in failures if isinstance(f, PartitionLoadError)}
        yield from partition_results(
            key,
            {r.partition: _partition_metadata(r) for r in loaded if r.partition not in failed},
            [str(f) for f in failures],
            summary={
                "partitions": dg.MetadataValue.int(len(loaded)),
                "rows_loaded": dg.MetadataValue.int(sum(r.rows_loaded for r in loaded)),
                "rows_quarantined": dg.MetadataValue.int(sum(r.rows_quarantined for r in loaded)),
            },
            failure_metadata={"unreadable_files": dg.MetadataValue.json(
                [{"file": u.file, "problem": u.problem} for f in failures
                 if isinstance(f, PartitionLoadError) for u in f.failures]
            )},
        )  # fmt: skip

    return register_asset
