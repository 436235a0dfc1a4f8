"""The Dagster definitions of crimestat, built when they are loaded, never at import.

`dagster dev -m orchestration.definitions` (what `crimestat ui` starts) and every run's process
load `defs`, which reads the settings once and builds from them the partitions, the dbt assets
(over a manifest that dagster-dbt's `DbtProject` prepares), one asset per partner, the
schedules and the resources. The command line calls `build_definitions` with the settings it
has read. Nothing else imports this module: the publication gate takes the asset graph from
its run's context.
"""

from __future__ import annotations

import dagster as dg

from core.contracts import REGISTERS
from core.settings import Settings, load_settings
from orchestration.dbt_assets import build_dbt_assets, prepared_dbt_project
from orchestration.export_assets import build_export_assets
from orchestration.extract_assets import build_extract_assets
from orchestration.ingestion_assets import build_register_asset
from orchestration.jobs import jobs
from orchestration.partitions import partitions_from
from orchestration.publication_assets import build_serving_snapshot
from orchestration.quality_checks import mart_quality_checks
from orchestration.resources import WAREHOUSE, WarehouseResource, register_source, source_key
from orchestration.schedules import build_schedules
from orchestration.sensors import sensors
from publication.partners.config import load_partners


def build_definitions(settings: Settings) -> dg.Definitions:
    """Everything Dagster runs, for the deployment these settings describe."""
    partitions = partitions_from(settings.first_month)
    dbt = build_dbt_assets(prepared_dbt_project(settings), partitions.monthly)
    return dg.Definitions(
        assets=[
            *(build_register_asset(register, partitions.monthly) for register in REGISTERS),
            *dbt.definitions,
            build_serving_snapshot(dbt.mart_keys),
            *build_export_assets(partitions.yearly),
            *build_extract_assets(load_partners(settings.structures).values(), partitions.monthly),
        ],
        asset_checks=mart_quality_checks(dbt.monthly_mart_keys, partitions.monthly),
        resources={
            "dbt": dbt.resource,
            WAREHOUSE: WarehouseResource(settings=settings),
            **{source_key(register): register_source(register, settings) for register in REGISTERS},
        },
        jobs=jobs,
        schedules=build_schedules(settings, partitions),
        sensors=sensors,
    )


@dg.definitions
def defs() -> dg.Definitions:
    """The definitions under the settings of this process's environment."""
    return build_definitions(load_settings())
