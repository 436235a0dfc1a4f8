"""What a partitioned asset reports after a run over one or many partitions.

Register loads, SDMX deliveries and partner packages all work partition by partition inside
one run (single-run backfills) and go on past a partition that fails. Dagster then needs: for
a run that went through, one result (the partition's own metadata, or a summary over the
range); for a run with failures, a materialization of each partition that did go through,
then the failure naming the others.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import dagster as dg

Metadata = Mapping[str, dg.MetadataValue]


def partition_results(
    key: dg.AssetKey,
    done: Mapping[str, Metadata],
    failures: Sequence[str],
    summary: Metadata,
    failure_metadata: Metadata | None = None,
) -> Iterator[dg.MaterializeResult | dg.AssetMaterialization]:
    """`done`: partition -> metadata of each partition that went through, in order."""
    if not failures:
        yield dg.MaterializeResult(
            metadata=next(iter(done.values())) if len(done) == 1 else summary
        )
        return
    for partition, metadata in done.items():
        yield dg.AssetMaterialization(asset_key=key, partition=partition, metadata=metadata)
    raise dg.Failure(description="; ".join(failures), metadata=failure_metadata)
