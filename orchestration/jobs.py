"""The jobs that schedules and sensors start (the UI can start them too).

- `month_refresh`: one month partition of the registers, and everything the dashboards need
  downstream of it: reference seeds, staging, marts, quality checks, the serving snapshot.
- `partner_extracts`: the partner packages of one month.
- `annual_delivery`: the SDMX deliveries to Eurostat and Eurojust of one reference year.
"""

import dagster as dg

from orchestration.publication_assets import SERVING_SNAPSHOT

PUBLICATION_GROUP = "publication"
PARTNER_EXTRACTS_PREFIX = "extracts"
SDMX_EXPORTS_PREFIX = "exports"

month_refresh_selection = (
    dg.AssetSelection.all() - dg.AssetSelection.groups(PUBLICATION_GROUP)
) | dg.AssetSelection.assets(SERVING_SNAPSHOT)

month_refresh_job = dg.define_asset_job(
    "month_refresh",
    selection=month_refresh_selection,
    description="Ingest one month of the registers, rebuild the warehouse and its checks for "
    "it, and publish the serving snapshot.",
)

partner_extracts_job = dg.define_asset_job(
    "partner_extracts",
    selection=dg.AssetSelection.key_prefixes(PARTNER_EXTRACTS_PREFIX),
    description="The month's partner packages (SPEC 9), behind the quality gate.",
)

annual_delivery_job = dg.define_asset_job(
    "annual_delivery",
    selection=dg.AssetSelection.key_prefixes(SDMX_EXPORTS_PREFIX),
    description="The reference year's SDMX deliveries to Eurostat and Eurojust (SPEC 8).",
)

jobs = [month_refresh_job, partner_extracts_job, annual_delivery_job]
