"""Choropleths and point maps drawn with pydeck from the shipped TopoJSON, offline.

No GIS library and no tile server: the TopoJSON of the 60 municipalities is decoded here
(quantized, delta-encoded arcs), counties are drawn by colouring each municipality with its
county's value and tracing the arcs that separate counties, and the deck has no base map
(`map_style=None`), so a map needs nothing from the network. Geometry: OpenStreetMap, ODbL
(see dashboards/geo/README.md); pages show the attribution under every map.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from functools import cache
from html import escape
from pathlib import Path
from typing import Any

import pydeck as pdk

TOPOLOGY = Path(__file__).parent / "geo" / "LT_municipalities_60.topojson"
OBJECT = "LTU"
# ColorBrewer YlOrRd, 5 classes: light = few, dark = many.
PALETTE = ((255, 255, 178), (254, 204, 92), (253, 141, 60), (240, 59, 32), (189, 0, 38))
NO_DATA = (220, 220, 220)
VIEW = pdk.ViewState(latitude=55.2, longitude=23.9, zoom=5.9)
POINT_COLOURS = {
    "cigarettes": (31, 119, 180), "alcohol": (255, 127, 14), "fuel": (44, 160, 44),
    "drugs": (214, 39, 40), "weapons": (148, 103, 189), "cash": (140, 86, 75),
    "counterfeit": (227, 119, 194), "other": (127, 127, 127),
}  # fmt: skip

Ring = list[tuple[float, float]]


@dataclass(frozen=True)
class Municipality:
    name: str
    rings: tuple[Ring, ...]  # the polygon's outer ring first, then its holes
    arcs: tuple[int, ...]  # every arc of its boundary, as a non-negative index


@dataclass(frozen=True)
class Legend:
    """Class limits and their colours, for the caption under a map."""

    limits: tuple[float, ...]
    colours: tuple[tuple[int, int, int], ...]


@cache
def _topology() -> tuple[tuple[Municipality, ...], tuple[Ring, ...]]:
    topology = json.loads(TOPOLOGY.read_text(encoding="utf-8"))
    arcs = _decode_arcs(topology)
    municipalities = []
    for geometry in topology["objects"][OBJECT]["geometries"]:
        polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        rings = tuple(_ring(indices, arcs) for polygon in polygons for indices in polygon)
        used = tuple(i if i >= 0 else ~i for p in polygons for r in p for i in r)
        municipalities.append(Municipality(geometry["properties"]["name"], rings, used))
    return tuple(municipalities), tuple(arcs)


def _decode_arcs(topology: dict[str, Any]) -> list[Ring]:
    """Quantized TopoJSON arcs: each point is a delta from the previous one, in grid units."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    decoded = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((round(x * sx + tx, 6), round(y * sy + ty, 6)))
        decoded.append(points)
    return decoded


def _ring(indices: list[int], arcs: list[Ring]) -> Ring:
    """A ring from its arcs; a negative index ~i is arc i reversed. Consecutive arcs share
    their joining point, kept once."""
    ring: Ring = []
    for index in indices:
        points = arcs[index] if index >= 0 else arcs[~index][::-1]
        ring.extend(points if not ring else points[1:])
    return ring


def municipality_names() -> list[str]:
    return [m.name for m in _topology()[0]]


def _legend_for(values: list[float | None]) -> Legend:
    """Five equal-width classes from the smallest to the largest value: rates of areas are
    often close to each other, and classes from 0 would paint every area alike."""
    known = [v for v in values if v is not None] or [0.0]
    low, high = min(known), max(known)
    step = (high - low) / len(PALETTE) if high > low else 1.0
    return Legend(tuple(low + step * k for k in range(len(PALETTE) + 1)), PALETTE)


def _colour(value: float | None, legend: Legend) -> list[int]:
    if value is None:
        return [*NO_DATA, 200]
    for upper, colour in zip(legend.limits[1:], legend.colours, strict=True):
        if value <= upper:
            return [*colour, 220]
    return [*legend.colours[-1], 220]


def choropleth(
    values: dict[str, float | None],
    tooltips: dict[str, str],
    group_of: dict[str, str] | None = None,
) -> tuple[pdk.Deck, Legend]:
    """Municipalities coloured by `values` (keyed by municipality, or by group when
    `group_of` maps each municipality to its county); group borders drawn thicker."""
    municipalities, arcs = _topology()
    key = (lambda name: group_of[name]) if group_of else (lambda name: name)
    legend = _legend_for(list(values.values()))
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [list(r) for r in m.rings]},
            "properties": {
                "name": escape(m.name),
                "tooltip": escape(tooltips.get(key(m.name), "")),
                "fill": _colour(values.get(key(m.name)), legend),
            },
        }
        for m in municipalities
    ]
    layers = [
        pdk.Layer(
            "GeoJsonLayer",
            {"type": "FeatureCollection", "features": features},
            id="areas",
            pickable=True,
            stroked=True,
            filled=True,
            get_fill_color="properties.fill",
            get_line_color=[255, 255, 255] if group_of else [90, 90, 90],
            line_width_min_pixels=0.5,
        )
    ]
    if group_of:
        layers.append(_border_layer(municipalities, arcs, group_of))
    return _deck(layers), legend


def _border_layer(
    municipalities: tuple[Municipality, ...], arcs: tuple[Ring, ...], group_of: dict[str, str]
) -> pdk.Layer:
    """Arcs between two groups, or on the outer border (used by one municipality only)."""
    uses = Counter(i for m in municipalities for i in m.arcs)
    groups: dict[int, set[str]] = {}
    for m in municipalities:
        for i in m.arcs:
            groups.setdefault(i, set()).add(group_of[m.name])
    borders = [{"path": arcs[i]} for i in sorted(uses) if uses[i] == 1 or len(groups[i]) > 1]
    return pdk.Layer(
        "PathLayer",
        borders,
        id="borders",
        get_path="path",
        get_color=[60, 60, 60],
        width_min_pixels=1.5,
    )


def point_map(points: list[dict[str, Any]]) -> pdk.Deck:
    """Points (lat, lon, violations, tooltip, violation_type) over municipal outlines."""
    municipalities, _ = _topology()
    outline = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"name": m.name},
             "geometry": {"type": "Polygon", "coordinates": [list(r) for r in m.rings]}}
            for m in municipalities
        ],
    }  # fmt: skip
    top = max([p["violations"] for p in points] or [1])
    for point in points:
        # The tooltip is HTML: free text (a customs post's name) must not become markup.
        point["name"] = escape(str(point.get("name", "")))
        point["tooltip"] = escape(str(point.get("tooltip", "")))
        point["colour"] = [*POINT_COLOURS.get(point["violation_type"], (127, 127, 127)), 200]
        point["radius"] = 2000 + 10000 * (point["violations"] / top) ** 0.5
    layers = [
        pdk.Layer("GeoJsonLayer", outline, id="outline", stroked=True, filled=True,
                  get_fill_color=[240, 240, 240], get_line_color=[150, 150, 150],
                  line_width_min_pixels=0.5),
        pdk.Layer("ScatterplotLayer", points, id="points", pickable=True,
                  get_position=["lon", "lat"], get_fill_color="colour", get_radius="radius",
                  radius_min_pixels=3, stroked=True, get_line_color=[40, 40, 40],
                  line_width_min_pixels=0.5),
    ]  # fmt: skip
    return _deck(layers)


def _deck(layers: list[pdk.Layer]) -> pdk.Deck:
    return pdk.Deck(
        layers=layers,
        initial_view_state=VIEW,
        map_style=None,
        map_provider=None,
        tooltip={"html": "<b>{name}</b><br/>{tooltip}"},
    )
