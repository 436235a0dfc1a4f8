"""Every suite by name: one per register on raw data, one per mart."""

from __future__ import annotations

from types import MappingProxyType

from quality.definitions import Suite
from quality.expectations_marts import MART_SUITES
from quality.expectations_raw import RAW_SUITES

SUITES: MappingProxyType[str, Suite] = MappingProxyType(
    {suite.name: suite for suite in (*RAW_SUITES, *MART_SUITES)}
)
