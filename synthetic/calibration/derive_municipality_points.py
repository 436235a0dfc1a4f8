"""Derive municipality_points.csv from the shared OpenStreetMap municipality boundaries.

Run once when the boundaries change:
    python derive_municipality_points.py ../shared/reference/geo/LT_municipalities_60.topojson \
        synthetic/calibration/municipality_points.csv
The generator then places events at these interior points (plus a few hundred metres of
jitter) instead of testing points against polygons at run time, which would be slow.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np

POINTS_PER_MUNICIPALITY = 48


def _decode_arcs(topology: dict) -> list[np.ndarray]:
    """TopoJSON arcs are quantised and delta-encoded: undo both, giving lon/lat vertices."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        xy = np.cumsum(np.array(arc, dtype=float), axis=0)
        arcs.append(np.column_stack([xy[:, 0] * sx + tx, xy[:, 1] * sy + ty]))
    return arcs


def _ring(arcs: list[np.ndarray], indices: list[int]) -> np.ndarray:
    parts = [arcs[i] if i >= 0 else arcs[~i][::-1] for i in indices]
    return np.vstack([parts[0], *(part[1:] for part in parts[1:])])


def _inside(lon: np.ndarray, lat: np.ndarray, rings: list[np.ndarray]) -> np.ndarray:
    """Even-odd ray casting over all rings, so holes (enclaved cities) are excluded."""
    result = np.zeros(lon.shape, dtype=bool)
    for ring in rings:
        x1, y1, x2, y2 = ring[:-1, 0], ring[:-1, 1], ring[1:, 0], ring[1:, 1]
        crosses = (y1 > lat[:, None]) != (y2 > lat[:, None])
        x_at = (x2 - x1) * (lat[:, None] - y1) / np.where(y2 == y1, 1e-300, y2 - y1) + x1
        result ^= (crosses & (lon[:, None] < x_at)).sum(axis=1) % 2 == 1
    return result


def derive(topojson_path: Path, out_path: Path) -> None:
    topology = json.loads(topojson_path.read_text(encoding="utf-8"))
    arcs = _decode_arcs(topology)
    rng = np.random.default_rng(0)
    geometries = sorted(
        topology["objects"]["LTU"]["geometries"], key=lambda g: g["properties"]["name"]
    )
    with out_path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["municipality", "lat", "lon"])
        for geometry in geometries:
            rings = [_ring(arcs, ring) for ring in geometry["arcs"]]
            low, high = np.vstack(rings).min(axis=0), np.vstack(rings).max(axis=0)
            found: list[np.ndarray] = []
            while sum(len(points) for points in found) < POINTS_PER_MUNICIPALITY:
                lon = rng.uniform(low[0], high[0], 4000)
                lat = rng.uniform(low[1], high[1], 4000)
                keep = _inside(lon, lat, rings)
                found.append(np.column_stack([lat[keep], lon[keep]]))
            for lat, lon in np.vstack(found)[:POINTS_PER_MUNICIPALITY]:
                writer.writerow([geometry["properties"]["name"], f"{lat:.4f}", f"{lon:.4f}"])


if __name__ == "__main__":
    derive(Path(sys.argv[1]), Path(sys.argv[2]))
