"""Where synthetic events happen: municipalities weighted by population, points inside them.

Maps and rates per 100,000 inhabitants only look right if events follow the population, and
coordinates only look right if they fall inside the municipality that the row names.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from core.settings import REFERENCE_DIR, CountryProfile

CALIBRATION_DIR = Path(__file__).resolve().parent / "calibration"

# Events are placed at a sampled interior point plus this much jitter (degrees, ~300 m), so no
# two events share coordinates yet points stay inside their municipality.
_JITTER_DEGREES = 0.003


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@dataclass(frozen=True)
class Geography:
    """The municipalities (seed order), their population weights and interior points."""

    names: tuple[str, ...]
    weights: np.ndarray  # share of the country's population, sums to 1
    point_lat: np.ndarray  # (municipality, point)
    point_lon: np.ndarray
    lat_range: tuple[float, float]
    lon_range: tuple[float, float]

    def sample_municipalities(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.choice(len(self.names), size=n, p=self.weights)

    def sample_points(
        self, rng: np.random.Generator, municipality: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Coordinates inside each given municipality, clipped to the country's bounding box."""
        point = rng.integers(0, self.point_lat.shape[1], size=len(municipality))
        lat = self.point_lat[municipality, point] + rng.normal(0, _JITTER_DEGREES, len(point))
        lon = self.point_lon[municipality, point] + rng.normal(0, _JITTER_DEGREES, len(point))
        return np.clip(lat, *self.lat_range), np.clip(lon, *self.lon_range)


def _municipality_weights(names: list[str], county_of: dict[str, str]) -> np.ndarray:
    """Split each county's official population over its municipalities by their approximate
    sizes, so the county totals of the seed are kept exactly."""
    county_population = {
        row["nuts3"]: float(row["population_2023"])
        for row in read_csv_rows(REFERENCE_DIR / "county_population.csv")
    }
    approx = {
        row["municipality"]: float(row["population_approx"])
        for row in read_csv_rows(CALIBRATION_DIR / "municipality_population.csv")
    }
    county_approx: dict[str, float] = {}
    for name in names:
        county_approx[county_of[name]] = county_approx.get(county_of[name], 0.0) + approx[name]
    population = np.array(
        [
            county_population[county_of[name]] * approx[name] / county_approx[county_of[name]]
            for name in names
        ]
    )
    return population / population.sum()


def _interior_points(names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    points: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    for row in read_csv_rows(CALIBRATION_DIR / "municipality_points.csv"):
        points[row["municipality"]].append((float(row["lat"]), float(row["lon"])))
    grid = np.array([points[name] for name in names])
    return grid[:, :, 0], grid[:, :, 1]


@cache
def load_geography() -> Geography:
    """Municipalities of the reference seed; cached because every month needs it."""
    rows = read_csv_rows(REFERENCE_DIR / "municipalities.csv")
    names = [row["municipality_name"] for row in rows]
    county_of = {row["municipality_name"]: row["nuts3"] for row in rows}
    lat, lon = _interior_points(names)
    country = CountryProfile()
    return Geography(
        names=tuple(names),
        weights=_municipality_weights(names, county_of),
        point_lat=lat,
        point_lon=lon,
        lat_range=country.lat_range,
        lon_range=country.lon_range,
    )
