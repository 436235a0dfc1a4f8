"""The single Dagster `Definitions` of crimestat: `dagster dev -m orchestration.definitions`."""

from __future__ import annotations

import dagster as dg

from orchestration.dbt_assets import dbt_asset_definitions, dbt_resource
from orchestration.export_assets import export_assets
from orchestration.extract_assets import extract_assets
from orchestration.ingestion_assets import register_assets
from orchestration.jobs import jobs
from orchestration.publication_assets import publication_assets
from orchestration.quality_checks import mart_quality_checks
from orchestration.schedules import schedules
from orchestration.sensors import sensors

defs = dg.Definitions(
    assets=[
        *register_assets,
        *dbt_asset_definitions,
        *publication_assets,
        *export_assets,
        *extract_assets,
    ],
    asset_checks=mart_quality_checks,
    resources={"dbt": dbt_resource},
    jobs=jobs,
    schedules=schedules,
    sensors=sensors,
)
