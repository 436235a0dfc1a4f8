"""The profile of a measured build: every Dagster run it made and the wall time of each step,
read from the data directory's Dagster instance."""

from __future__ import annotations

import os
from pathlib import Path


def step_profile(dagster_home: Path, since: float) -> list[dict]:
    """Runs started after `since` (epoch seconds), oldest first, with their steps."""
    import dagster as dg

    os.environ["DAGSTER_HOME"] = str(dagster_home)
    with dg.DagsterInstance.get() as instance:
        runs = []
        for record in reversed(instance.get_run_records()):
            stats = instance.get_run_stats(record.dagster_run.run_id)
            if not stats.start_time or stats.start_time < since:
                continue
            steps = sorted(
                instance.get_run_step_stats(record.dagster_run.run_id),
                key=lambda s: s.start_time or 0,
            )
            runs.append(
                {
                    "run_id": record.dagster_run.run_id[:8],
                    "partitions": _partitions(record.dagster_run.tags),
                    "seconds": round((stats.end_time or stats.start_time) - stats.start_time, 1),
                    "steps": {
                        s.step_key: round((s.end_time or s.start_time) - s.start_time, 1)
                        for s in steps
                        if s.start_time
                    },
                }
            )
        return runs


def _partitions(tags: dict) -> str:
    start = tags.get("dagster/asset_partition_range_start")
    end = tags.get("dagster/asset_partition_range_end")
    if start:
        return start if start == end else f"{start}..{end}"
    return tags.get("dagster/partition", "-")
