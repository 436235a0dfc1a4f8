"""The landing files: which files a month has, their names, bytes and deterministic writing.

Same arguments must give byte-identical files, so gzip streams carry no time stamp and no
file name, and lines are joined in one fixed order.
"""

from __future__ import annotations

import gzip
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from core.contracts import (
    CONVICTION_FIELDS,
    CUSTOMS_SEIZURE_COLUMNS,
    CUSTOMS_VIOLATION_COLUMNS,
    INCIDENT_COLUMNS,
)
from core.files import write_atomically
from synthetic.timeline import Month, format_day

# zlib level 6 costs four times level 1 for 25% smaller files: not worth it for extracts that
# are written once and read once.
GZIP_LEVEL = 1
# How text carries undecodable bytes: a lone surrogate U+DCxx is written as byte xx.
RAW_BYTES_ERRORS = "surrogateescape"


@dataclass(frozen=True)
class FileKind:
    """One kind of extract file of a register (contracts.py, landing layout)."""

    register: str
    name: str
    columns: tuple[str, ...]
    daily: bool
    json_lines: bool
    encoding: str
    compressed: bool
    time_column: str  # the time that decides the file a row goes to
    record_key: tuple[str, ...]  # with the time, gives the order of rows in a file
    decimal_mark: str = "."

    def path(self, month: Month, day_start: int | None = None) -> str:
        """Path relative to the landing directory."""
        if self.daily:
            assert day_start is not None
            stem = f"{self.name}_{format_day(day_start)}"
        else:
            stem = f"{self.name}_{month.label}"
        suffix = ".jsonl" if self.json_lines else ".csv"
        return f"{self.register}/{month.label}/{stem}{suffix}{'.gz' if self.compressed else ''}"

    def slots(self, month: Month) -> list[tuple[str, int]]:
        """(path, first second) of every file of the month, written even when empty."""
        if self.daily:
            return [(self.path(month, int(day)), int(day)) for day in month.day_starts()]
        return [(self.path(month), month.start)]

    @property
    def header(self) -> str | None:
        return None if self.json_lines else ";".join(self.columns)


INCIDENTS = FileKind(
    "incidents", "incidents", INCIDENT_COLUMNS, daily=True, json_lines=False,
    encoding="utf-8", compressed=True, time_column="written_at",
    record_key=("event_id", "version"),
)  # fmt: skip
CONVICTIONS = FileKind(
    "convictions", "convictions", CONVICTION_FIELDS, daily=True, json_lines=True,
    encoding="utf-8", compressed=True, time_column="written_at",
    record_key=("conviction_id", "version"),
)  # fmt: skip
VIOLATIONS = FileKind(
    "customs", "violations", CUSTOMS_VIOLATION_COLUMNS, daily=False, json_lines=False,
    encoding="cp1257", compressed=False, time_column="written_at",
    record_key=("violation_id", "version"), decimal_mark=",",
)  # fmt: skip
SEIZURES = FileKind(
    "customs", "seizures", CUSTOMS_SEIZURE_COLUMNS, daily=False, json_lines=False,
    encoding="cp1257", compressed=False, time_column="_t",
    record_key=("violation_id", "line_no"), decimal_mark=",",
)  # fmt: skip
KINDS = {kind.name: kind for kind in (INCIDENTS, CONVICTIONS, VIOLATIONS, SEIZURES)}
KINDS_BY_REGISTER = {
    "incidents": (INCIDENTS,),
    "convictions": (CONVICTIONS,),
    "customs": (VIOLATIONS, SEIZURES),
}


@dataclass
class WrittenFile:
    """What was written to one landing file, for the summary and for breaking files."""

    path: str  # relative to the landing directory
    kind: FileKind
    rows: int
    non_ascii: bool  # has letters that the file's encoding must carry
    defects: Counter[str] = field(default_factory=Counter)


def pack(kind: FileKind, raw: bytes) -> bytes:
    """The file's bytes as stored: gzip for the daily extracts."""
    return gzip.compress(raw, compresslevel=GZIP_LEVEL, mtime=0) if kind.compressed else raw


def unpack(kind: FileKind, data: bytes) -> bytes:
    return gzip.decompress(data) if kind.compressed else data


def write_landing_file(path: Path, data: bytes) -> None:
    """Readers polling the landing zone never see a half-written file. Not synced: a crash
    loses only what the generator makes again, byte for byte."""
    with write_atomically(path, durable=False) as stream:
        stream.write(data)
