"""Great Expectations suites (quality/) as Dagster asset checks.

Every suite gives two checks on the asset it guards: `gx_<suite>` (its critical expectations;
severity ERROR, blocking: a failure stops publication) and `gx_<suite>_warnings` (its warning
expectations; shown, never blocking). Results are kept per run in quality.check_results and as
GX Data Docs under $CRIMESTAT_HOME/quality/data_docs.
"""

from collections.abc import Collection, Iterator, Sequence
from datetime import datetime

import dagster as dg

from orchestration.resources import WarehouseResource
from quality import (
    CRITICAL,
    SUITES,
    WARNING,
    SuiteResult,
    build_data_docs,
    run_suite,
    store_results,
)

MAX_REPORTED_FAILURES = 20


def check_names(suite: str) -> tuple[str, str]:
    return f"gx_{suite}", f"gx_{suite}_warnings"


def check_specs(suite: str) -> list[dg.AssetCheckSpec]:
    critical, warning = check_names(suite)
    key = dg.AssetKey(list(SUITES[suite].asset_key))
    description = SUITES[suite].description
    return [
        dg.AssetCheckSpec(critical, asset=key, blocking=True,
                          description=f"{description} (critical expectations)"),
        dg.AssetCheckSpec(warning, asset=key, blocking=False,
                          description=f"{description} (warnings, not blocking)"),
    ]  # fmt: skip


def run_recorded_suite(
    context: dg.OpExecutionContext | dg.AssetCheckExecutionContext | dg.AssetExecutionContext,
    suite: str,
    warehouse: WarehouseResource,
    partitions: Sequence[str] | None = None,
) -> SuiteResult:
    """Run a suite, keep its results in the warehouse and in the Data Docs of this run."""
    now = datetime.now()
    run_id = context.run.run_id
    with warehouse.connect() as con:
        result = run_suite(
            con, suite, partitions=partitions, context=context, settings=warehouse.settings
        )
        store_results(con, run_id, [result], now)
    build_data_docs(warehouse.settings.home, [result], run_id=run_id)
    return result


def suite_check_results(result: SuiteResult) -> Iterator[dg.AssetCheckResult]:
    critical, warning = check_names(result.suite)
    key = dg.AssetKey(list(result.asset_key))
    for name, severity, passed, dagster_severity in (
        (critical, CRITICAL, result.success_critical, dg.AssetCheckSeverity.ERROR),
        (warning, WARNING, result.success_warning, dg.AssetCheckSeverity.WARN),
    ):
        failed = result.failed(severity)
        yield dg.AssetCheckResult(
            asset_key=key,
            check_name=name,
            passed=passed,
            severity=dagster_severity,
            metadata={
                "expectations": dg.MetadataValue.int(
                    sum(o.severity == severity for o in result.outcomes)
                ),
                "failed": dg.MetadataValue.int(len(failed)),
                "failed_expectations": dg.MetadataValue.json([
                    {"expectation": o.expectation, "target": o.target, "batch": o.batch,
                     "unexpected_count": o.unexpected_count, "failing_values": o.failing_values}
                    for o in failed[:MAX_REPORTED_FAILURES]
                ]),
                "seconds": dg.MetadataValue.float(round(result.seconds, 2)),
            },
        )  # fmt: skip


def _mart_check(suite: str) -> dg.AssetChecksDefinition:
    @dg.multi_asset_check(specs=check_specs(suite), name=f"gx_{suite}")
    def mart_suite_check(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> Iterator[dg.AssetCheckResult]:
        yield from suite_check_results(run_recorded_suite(context, suite, warehouse))

    return mart_suite_check


def _worst_outcome(result: SuiteResult) -> dg.AssetCheckResult:
    """One check for a suite: ERROR when a critical expectation failed, WARN when only
    warnings did (Dagster runs partitioned checks one per asset check definition)."""
    critical, warning = suite_check_results(result)
    chosen = critical if not critical.passed or warning.passed else warning
    return dg.AssetCheckResult(
        check_name=check_names(result.suite)[0],
        passed=critical.passed and warning.passed,
        severity=chosen.severity,
        metadata=chosen.metadata,
    )


def _monthly_mart_check(
    suite: str, monthly_partitions: dg.PartitionsDefinition
) -> dg.AssetChecksDefinition:
    """Monthly marts are partitioned: their check runs in the same partitioned runs."""

    @dg.asset_check(
        asset=dg.AssetKey(list(SUITES[suite].asset_key)),
        name=check_names(suite)[0],
        partitions_def=monthly_partitions,
        blocking=True,
        description=SUITES[suite].description,
    )
    def monthly_mart_suite_check(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> dg.AssetCheckResult:
        return _worst_outcome(run_recorded_suite(context, suite, warehouse))

    return monthly_mart_suite_check


def mart_quality_checks(
    monthly_mart_keys: Collection[dg.AssetKey], monthly_partitions: dg.PartitionsDefinition
) -> list[dg.AssetChecksDefinition]:
    """The checks of the mart suites; those on the monthly marts (the dbt assets of the
    monthly op, `orchestration.dbt_assets`) partitioned as their marts are."""
    return [
        _monthly_mart_check(name, monthly_partitions)
        if dg.AssetKey(list(suite.asset_key)) in monthly_mart_keys
        else _mart_check(name)
        for name, suite in SUITES.items()
        if not suite.partitioned
    ]
