"""The single Dagster `Definitions` of crimestat: `dagster dev -m orchestration.definitions`."""

from __future__ import annotations

import dagster as dg

from orchestration.ingestion_assets import register_assets

defs = dg.Definitions(assets=[*register_assets])
