"""The single Dagster `Definitions` of crimestat: `dagster dev -m orchestration.definitions`."""

from __future__ import annotations

import dagster as dg

from orchestration.dbt_assets import dbt_asset_definitions, dbt_resource
from orchestration.ingestion_assets import register_assets

defs = dg.Definitions(
    assets=[*register_assets, *dbt_asset_definitions],
    resources={"dbt": dbt_resource},
)
