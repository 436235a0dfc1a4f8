"""Partner extract assets (SPEC 9): one per configured partner, partitioned by month, key
`extracts/<partner>`. Each runs only when every blocking check upstream passed
(orchestration.gates), then makes the month's package (publication.partners): a new numbered
package when the agreed tables changed since the last one, nothing when they did not."""

from collections.abc import Iterable, Iterator

import dagster as dg
from dagster import AssetExecutionContext

from orchestration.gates import require_upstream_checks_passed
from orchestration.partition_results import partition_results
from orchestration.resources import WarehouseResource
from publication.partners.config import PartnerConfig, PartnerConfigError
from publication.partners.packages import FILES_LOADED, PackageOutcome, deliver_packages


def extract_asset_key(partner: str) -> dg.AssetKey:
    return dg.AssetKey(["extracts", partner.lower()])


def _metadata(outcome: PackageOutcome) -> dict[str, dg.MetadataValue]:
    if not outcome.created:
        return {
            "package": dg.MetadataValue.text(
                f"unchanged since package {outcome.number} ({outcome.package_id})"
            ),
            "package_number": dg.MetadataValue.int(outcome.number),
            "path": dg.MetadataValue.path(outcome.destination),
        }
    return {
        "package": dg.MetadataValue.text(outcome.package_id),
        "package_number": dg.MetadataValue.int(outcome.number),
        "path": dg.MetadataValue.path(outcome.destination),
        "sha256": dg.MetadataValue.text(outcome.sha256),
        "rows_per_table": dg.MetadataValue.json(outcome.rows),
    }


def _extract_asset(
    partner: PartnerConfig, monthly_partitions: dg.PartitionsDefinition
) -> dg.AssetsDefinition:
    key = extract_asset_key(partner.code)

    @dg.asset(
        key=key,
        group_name="publication",
        # the marts it packages, and the dbt model of the files loaded (a month no register
        # delivered is refused)
        deps=[
            *(dg.AssetKey(["marts", source]) for source in partner.sources),
            dg.AssetKey(FILES_LOADED.split(".")),
        ],
        partitions_def=monthly_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        kinds={"csv", "sdmx"},
        description=f"Monthly package for {partner.name} ({partner.code}): "
        f"{', '.join(t.id for t in partner.tables)} as agreed in {partner.path.name}; a "
        "numbered zip with its manifest, delivered through the partner's adapter (default "
        "$CRIMESTAT_HOME/outbox/<PARTNER>/); a revision is a new package, never an overwrite.",
    )
    def extract(context: AssetExecutionContext, warehouse: WarehouseResource) -> Iterator[object]:
        require_upstream_checks_passed(context, key, warehouse)
        settings = warehouse.settings
        outcomes: list[PackageOutcome] = []
        failures: list[str] = []
        with warehouse.connect() as con:
            try:
                results = deliver_packages(
                    con, partner.code, context.partition_keys, settings.outbox_dir,
                    outbox_file_mode=settings.outbox_file_mode, settings=settings.structures,
                )  # fmt: skip
            except PartnerConfigError as error:
                results = [(month, error) for month in context.partition_keys]
        for month, outcome in results:
            if isinstance(outcome, Exception):
                failures.append(f"{month}: {outcome}")
                context.log.error(failures[-1])
                continue
            outcomes.append(outcome)
            context.log.info(
                f"{partner.code} {month}: "
                + (f"package {outcome.number} at {outcome.destination}" if outcome.created
                   else f"unchanged since package {outcome.number}")
            )  # fmt: skip
        yield from partition_results(
            key,
            {outcome.month: _metadata(outcome) for outcome in outcomes},
            failures,
            summary={
                "months": dg.MetadataValue.int(len(outcomes)),
                "new_packages": dg.MetadataValue.int(sum(o.created for o in outcomes)),
                "packages": dg.MetadataValue.json(
                    {
                        o.month: o.package_id
                        if o.created
                        else f"unchanged since package {o.number}"
                        for o in outcomes
                    }
                ),
            },
        )

    return extract


def build_extract_assets(
    partners: Iterable[PartnerConfig], monthly_partitions: dg.PartitionsDefinition
) -> list[dg.AssetsDefinition]:
    """One asset per configured partner (publication/partners/config)."""
    return [_extract_asset(partner, monthly_partitions) for partner in partners]
