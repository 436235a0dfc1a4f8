"""One module per source register: its files, its contract, its raw tables."""

from __future__ import annotations

from types import ModuleType

from ingestion.registers import convictions, customs, incidents

REGISTER_MODULES: dict[str, ModuleType] = {
    "incidents": incidents,
    "convictions": convictions,
    "customs": customs,
}
