"""What a generation wrote: files, rows and planted defects per register, broken files.

Tests and the CLI compare it with what ingestion quarantines, so defects planted in files
that were then broken as a whole are not counted (those files are never read row by row).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from core.contracts import REGISTERS
from synthetic.defects import RULES_BY_KIND
from synthetic.files import KINDS_BY_REGISTER, WrittenFile


@dataclass(frozen=True)
class BrokenFile:
    path: str  # relative to the landing directory
    kind: str  # truncated_gzip | wrong_encoding | missing_column


@dataclass
class GenerationSummary:
    """Per register: files written, data lines per file kind (headers excluded, lines of
    broken files included), planted row defects per rule; and the files broken whole."""

    start: str
    months: int
    scale: float
    seed: int
    defect_rate: float
    files_written: dict[str, int] = field(default_factory=dict)
    rows_written: dict[str, dict[str, int]] = field(default_factory=dict)
    defects: dict[str, dict[str, int]] = field(default_factory=dict)
    broken_files: list[BrokenFile] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable data."""
        return asdict(self)


def summarise(
    parameters: dict[str, Any], written: list[WrittenFile], broken: list[BrokenFile]
) -> GenerationSummary:
    broken_paths = {b.path for b in broken}
    summary = GenerationSummary(**parameters, broken_files=broken)
    for register in REGISTERS:
        kinds = KINDS_BY_REGISTER[register]
        summary.files_written[register] = 0
        summary.rows_written[register] = {kind.name: 0 for kind in kinds}
        rules = dict.fromkeys(rule for kind in kinds for rule in RULES_BY_KIND[kind.name])
        summary.defects[register] = dict.fromkeys(rules, 0)
    for file in written:
        register = file.kind.register
        summary.files_written[register] += 1
        summary.rows_written[register][file.kind.name] += file.rows
        if file.path not in broken_paths:
            for rule, count in file.defects.items():
                summary.defects[register][rule] += count
    return summary
