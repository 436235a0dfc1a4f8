"""The landing zone as the registers fill it: which files each register has delivered for
which month, and which of them the warehouse has not loaded yet.

A file counts as loaded when `raw.file_loads` records its name with the same SHA-256 for the
same register and month: a file re-delivered with other bytes is new again, a file merely
touched is not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from core.contracts import MONTH_PATTERN, REGISTERS
from core.files import sha256_of
from core.warehouse import relation_exists
from ingestion.registers import REGISTER_MODULES


@dataclass(frozen=True)
class LandingMonth:
    """One register's files for one month; `stamp` changes whenever a file is added, removed
    or rewritten (name, size and modification time), without reading the files."""

    register: str
    month: str
    files: tuple[Path, ...]
    stamp: str

    @property
    def key(self) -> str:
        return f"{self.register}/{self.month}"


def landing_label(path: Path, landing_dir: Path) -> str:
    """How lineage names a landing file: its path relative to the landing directory."""
    return path.relative_to(landing_dir).as_posix()


def landing_months(landing_dir: Path, registers: tuple[str, ...] = REGISTERS) -> list[LandingMonth]:
    """Every (register, month) folder with at least one file of the register's delivery
    pattern, oldest month first."""
    found = []
    for register in registers:
        for month in _month_folders(landing_dir / register):
            files = tuple(REGISTER_MODULES[register].partition_files(landing_dir, month))
            if files:
                found.append(LandingMonth(register, month, files, _stamp(files, landing_dir)))
    return sorted(found, key=lambda m: (m.month, m.register))


@dataclass(frozen=True)
class LandingFile:
    label: str
    sha256: str


def landed_months(landing_dir: Path, registers: Sequence[str] = REGISTERS) -> list[str]:
    """Months for which any of the registers has delivered files, oldest first."""
    return sorted({landing.month for landing in landing_months(landing_dir, tuple(registers))})


def unloaded_files(
    con: duckdb.DuckDBPyConnection | None, landing: LandingMonth, landing_dir: Path
) -> list[LandingFile]:
    """The month's files whose name and SHA-256 the warehouse has not recorded as loaded
    (every file when there is no warehouse yet: `con` None)."""
    loaded: set[tuple[str, str]] = set()
    if con is not None and relation_exists(con, "raw", "file_loads"):
        loaded = set(
            con.execute(
                "select _file, sha256 from raw.file_loads where register = ? and _partition = ?",
                [landing.register, landing.month],
            ).fetchall()
        )
    files = [LandingFile(landing_label(p, landing_dir), sha256_of(p)) for p in landing.files]
    return [f for f in files if (f.label, f.sha256) not in loaded]


def _month_folders(register_dir: Path) -> Iterator[str]:
    if not register_dir.is_dir():
        return
    for folder in sorted(register_dir.iterdir()):
        if folder.is_dir() and MONTH_PATTERN.match(folder.name):
            yield folder.name


def _stamp(files: tuple[Path, ...], landing_dir: Path) -> str:
    digest = hashlib.sha256()
    for path in files:
        status = path.stat()
        digest.update(
            f"{landing_label(path, landing_dir)}|{status.st_size}|{status.st_mtime_ns}\n".encode()
        )
    return digest.hexdigest()[:16]
