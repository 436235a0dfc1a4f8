"""Publication assets: what leaves the warehouse. Each runs only when every blocking check
upstream of it passed (orchestration.gates)."""

from collections.abc import Sequence

import dagster as dg
from dagster import AssetExecutionContext

from core.snapshot_layout import public_serving_dir
from orchestration.gates import require_upstream_checks_passed
from orchestration.resources import WarehouseResource
from publication.public_snapshot import publish_public_snapshot
from publication.serving import publish_snapshot

SERVING_SNAPSHOT = dg.AssetKey(["serving", "snapshot"])


def build_serving_snapshot(mart_keys: Sequence[dg.AssetKey]) -> dg.AssetsDefinition:
    """The serving snapshot, after every mart (`DbtAssets.mart_keys`)."""

    @dg.asset(
        key=SERVING_SNAPSHOT,
        group_name="publication",
        deps=mart_keys,
        kinds={"duckdb", "streamlit"},
        description="The dashboards' read-only copy of the marts and summaries, swapped in "
        "atomically (serving/current.json) so the dashboards never open the warehouse; and "
        "the public face's snapshot made from it (serving/public/: disclosure-controlled "
        "figures and public release files only), swapped in the same way.",
    )
    def serving_snapshot(
        context: AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        require_upstream_checks_passed(context, SERVING_SNAPSHOT, warehouse)
        settings = warehouse.settings
        path = publish_snapshot(
            settings.warehouse_path, settings.serving_dir, exports_dir=settings.exports_dir
        )
        public = publish_public_snapshot(
            path, public_serving_dir(settings.serving_dir), exports_dir=settings.exports_dir
        )
        return dg.MaterializeResult(
            metadata={
                "snapshot": dg.MetadataValue.path(str(path)),
                "size_mb": dg.MetadataValue.float(round(path.stat().st_size / 1e6, 2)),
                "public_snapshot": dg.MetadataValue.path(str(public)),
            }
        )

    return serving_snapshot
