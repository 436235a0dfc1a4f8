"""The SDMX-ML 2.1 structure message written beside every delivery.

sdmx1 serialises the information model; sdmx1_repairs fixes what its writer gets wrong.
The header (message id, prepared time) is passed in, so the same release gives the same
bytes.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import sdmx
from sdmx.message import Header, StructureMessage

from core.files import write_atomically
from sdmx_export.sdmx1_repairs import repair_structure_xml


def structure_xml(structures: StructureMessage, *, message_id: str, prepared: datetime) -> bytes:
    """`structures` as schema-valid SDMX-ML 2.1 bytes with a fixed header."""
    sender = next(iter(structures.structure.values())).maintainer
    message = StructureMessage(
        header=Header(id=message_id, prepared=prepared, sender=sender, test=False)
    )
    for collection in (
        structures.dataflow,
        structures.codelist,
        structures.concept_scheme,
        structures.structure,
    ):
        for artefact in collection.values():
            message.add(artefact)
    return repair_structure_xml(sdmx.to_xml(message))


def write_structure_file(
    path: Path, structures: StructureMessage, *, message_id: str, prepared: datetime
) -> Path:
    """Write the structure message to `path` (atomically: a crash never leaves half a file)."""
    data = structure_xml(structures, message_id=message_id, prepared=prepared)
    with write_atomically(path) as stream:
        stream.write(data)
    return path
