"""Benchmark: the streaming SDMX writer against sdmx1's object model + sdmx.to_xml.

Both write the same CRIM_JUST observations (valid codes, 5 years per series) as SDMX-ML 2.1
StructureSpecificData; the streaming writer also writes GenericData and SDMX-CSV. Every
measurement runs in its own subprocess, which reports its wall time for the work (data
generation included for both, interpreter start-up and imports excluded) and its peak
resident memory (getrusage ru_maxrss), next to the memory it had before the work began.

sdmx1 holds every observation as Python objects, so it is timed at 100,000 observations
first and at 1,000,000 only when that run, extrapolated linearly, fits in the time and
memory budget (--sdmx1-budget-seconds, half the machine's memory); the report says which.

    .venv/bin/python benchmarks/sdmx_writer.py [--observations 1000000]

Prints a Markdown table and writes benchmarks/results/sdmx_writer.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import numpy as np
import polars as pl

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from benchmarks.measuring import (  # noqa: E402
    RESULTS,
    machine,
    markdown_table,
    memory_mb,
    peak_rss_mb,
    write_report,
)
from core.settings import StructureSettings  # noqa: E402
from sdmx_export.layout import DsdLayout  # noqa: E402
from sdmx_export.structures import build_structures, dataflow  # noqa: E402
from sdmx_export.writers import (  # noqa: E402
    MessageHeader,
    write_generic,
    write_sdmx_csv,
    write_structure_specific,
)

DATAFLOW = "CRIM_JUST"
YEARS = ("2019", "2020", "2021", "2022", "2023")
BATCH = 100_000
# The default country profile's structures: the benchmark times the writers, not a deployment.
STRUCTURES = StructureSettings()
HEADER = MessageHeader("BENCHMARK", datetime(2025, 1, 1, tzinfo=UTC), STRUCTURES.agency_id)
RESULT_FILE = RESULTS / "sdmx_writer.json"
WRITERS = ("streaming_structure_specific", "streaming_generic", "streaming_csv", "sdmx1")


def observation_batches(flow, observations: int) -> Iterator[pl.DataFrame]:
    """CRIM_JUST observations in key order, generated batch by batch (never all at once)."""
    layout = DsdLayout.of(flow)
    codes = [np.array(sorted(d.codes)) for d in layout.series_dimensions]
    shape = tuple(len(c) for c in codes)
    if observations > int(np.prod(shape)) * len(YEARS):
        raise ValueError(f"{DATAFLOW} has room for {int(np.prod(shape)) * len(YEARS)} observations")
    for start in range(0, observations, BATCH):
        index = np.arange(start, min(start + BATCH, observations))
        digits = np.unravel_index(index // len(YEARS), shape)
        columns = {
            d.id: c[i] for d, c, i in zip(layout.series_dimensions, codes, digits, strict=True)
        }
        yield pl.DataFrame(
            {
                **columns,
                "TIME_PERIOD": np.array(YEARS)[index % len(YEARS)],
                "OBS_VALUE": (index * 7919) % 1000,
                "OBS_STATUS": "A",
                "CONF_STATUS": np.where(index % 11 == 0, "C", "F"),
            }
        )


def write_with_sdmx1(path: Path, flow, observations: int) -> None:
    """The object-model way: every series key and observation an sdmx1 object, then to_xml."""
    import sdmx
    from sdmx.message import DataMessage, Header
    from sdmx.model import common
    from sdmx.model import v21 as model

    dsd = flow.structure
    series_dimensions = dsd.dimensions.components[:-1]
    attributes = {a.id: a for a in dsd.attributes.components}
    measure = dsd.measures.components[0]
    data_set = model.StructureSpecificDataSet(structured_by=dsd, described_by=flow)
    for batch in observation_batches(flow, observations):
        for (key_values,), rows in batch.group_by(
            pl.concat_str([d.id for d in series_dimensions], separator="."), maintain_order=True
        ):
            series_key = model.SeriesKey(
                described_by=dsd.dimensions,
                values={
                    d.id: common.KeyValue(id=d.id, value=v, value_for=d)
                    for d, v in zip(series_dimensions, key_values.split("."), strict=True)
                },
            )
            data_set.add_obs(
                [
                    model.Observation(
                        dimension=model.Key(
                            TIME_PERIOD=row["TIME_PERIOD"], described_by=dsd.dimensions
                        ),
                        value=row["OBS_VALUE"],
                        value_for=measure,
                        attached_attribute={
                            name: common.AttributeValue(value=row[name], value_for=attribute)
                            for name, attribute in attributes.items()
                        },
                    )
                    for row in rows.iter_rows(named=True)
                ],
                series_key,
            )
    message = DataMessage(
        header=Header(
            id=HEADER.message_id, prepared=HEADER.prepared, sender=common.Agency(id=HEADER.sender)
        ),
        data=[data_set],
        observation_dimension=dsd.dimensions.get("TIME_PERIOD"),
    )
    path.write_bytes(sdmx.to_xml(message))


def child(writer: str, observations: int, path: Path) -> dict:
    """One measurement, in this (fresh) process."""
    flow = dataflow(build_structures(STRUCTURES), DATAFLOW)
    baseline = peak_rss_mb()
    started = time.perf_counter()
    if writer == "sdmx1":
        write_with_sdmx1(path, flow, observations)
    else:
        write = {
            "streaming_structure_specific": lambda b: write_structure_specific(
                path, flow, b, HEADER
            ),
            "streaming_generic": lambda b: write_generic(path, flow, b, HEADER),
            "streaming_csv": lambda b: write_sdmx_csv(path, flow, b),
        }[writer]
        write(observation_batches(flow, observations))
    seconds = time.perf_counter() - started
    return {
        "writer": writer,
        "observations": observations,
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_before_work_mb": round(baseline, 1),
        "file_mb": round(path.stat().st_size / 1e6, 1),
    }


def measure(writer: str, observations: int, directory: Path) -> dict:
    path = directory / f"{writer}_{observations}.out"
    command = [
        sys.executable,
        __file__,
        "--child",
        writer,
        "--observations",
        str(observations),
        "--path",
        str(path),
    ]
    result = subprocess.run(command, check=True, capture_output=True, text=True)
    path.unlink(missing_ok=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--observations", type=int, default=1_000_000)
    parser.add_argument("--sdmx1-sample", type=int, default=100_000)
    parser.add_argument("--sdmx1-budget-seconds", type=float, default=600.0)
    parser.add_argument("--child", choices=WRITERS)
    parser.add_argument("--path", type=Path)
    arguments = parser.parse_args()
    if arguments.child:
        print(json.dumps(child(arguments.child, arguments.observations, arguments.path)))
        return

    full, sample = arguments.observations, arguments.sdmx1_sample
    runs = []
    with tempfile.TemporaryDirectory() as directory:
        for writer in WRITERS[:3]:
            runs.append(measure(writer, full, Path(directory)))
        runs.append(measure("streaming_structure_specific", sample, Path(directory)))
        small = measure("sdmx1", sample, Path(directory))
        runs.append(small)
        factor = full / sample
        estimate = {
            "seconds": round(small["seconds"] * factor, 1),
            "extra_memory_mb": round((small["peak_rss_mb"] - small["rss_before_work_mb"]) * factor),
        }
        feasible = estimate["seconds"] <= arguments.sdmx1_budget_seconds and (
            estimate["extra_memory_mb"] <= memory_mb() / 2
        )
        if feasible:
            runs.append(measure("sdmx1", full, Path(directory)))

    speedups = {}
    for n in sorted({r["observations"] for r in runs if r["writer"] == "sdmx1"}):
        ours = next(
            r
            for r in runs
            if r["writer"] == "streaming_structure_specific" and r["observations"] == n
        )
        theirs = next(r for r in runs if r["writer"] == "sdmx1" and r["observations"] == n)
        speedups[str(n)] = round(theirs["seconds"] / ours["seconds"], 1)
    report = {
        "benchmark": "sdmx_writer",
        "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": {name: version(name) for name in ("sdmx1", "lxml", "polars")},
        "dataflow": DATAFLOW,
        "runs": runs,
        "sdmx1_at_full_size": "measured"
        if feasible
        else f"skipped: extrapolated from {sample} to {estimate}",
        "sdmx1_extrapolated_from_sample": estimate,
        "speedup_structure_specific": speedups,
    }
    write_report(RESULT_FILE, report, markdown)


def markdown(report: dict) -> str:
    lines = markdown_table(
        ("writer", "observations", "time (s)", "peak RSS (MB)", "RSS before work (MB)",
         "file (MB)"),
        (
            (run["writer"], f"{run['observations']:,}", run["seconds"], run["peak_rss_mb"],
             run["rss_before_work_mb"], run["file_mb"])
            for run in report["runs"]
        ),
    )  # fmt: skip
    lines.append("")
    for n, speedup in report["speedup_structure_specific"].items():
        lines.append(
            f"Streaming structure-specific writer vs sdmx1 at {int(n):,} observations: "
            f"{speedup}x faster"
        )
    lines.append(f"sdmx1 at full size: {report['sdmx1_at_full_size']}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
