"""The backup manifest: what a backup holds, and the one way its files are copied and hashed.

A backup directory mirrors the part of `$CRIMESTAT_HOME` it holds (HOME_ENTRIES), with
`backup-manifest.json` beside them: every file with its size and SHA-256, when and from which
home it was taken, the code that took it, and the row count of every warehouse table. The
manifest is written last, so a directory without it is an incomplete backup and restore
refuses it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from tqdm import tqdm

from core.files import fsync, write_atomically

MANIFEST_NAME = "backup-manifest.json"
FORMAT = "crimestat-backup"
FORMAT_VERSION = 1
WAREHOUSE_FILE = "warehouse.duckdb"
WAREHOUSE_WAL = f"{WAREHOUSE_FILE}.wal"
# What a backup may hold, as names under the home: the warehouse (and DuckDB's write-ahead log
# when one is pending), the released files, the partner packages, the Dagster instance (the
# publication gate reads check history from it) and the GX validation results kept per run.
# The landing zone is not among them (the registers deliver again), nor serving/ (derived from
# the warehouse) or logs/.
HOME_FOLDERS = ("exports", "outbox", "dagster", "quality")
HOME_ENTRIES = (WAREHOUSE_FILE, WAREHOUSE_WAL, *HOME_FOLDERS)
CHUNK_BYTES = 1 << 20
# Every file of a backup, and every file restored into a home, is its owner's only.
OWNER_ONLY_FILE = 0o600
OWNER_ONLY_DIRECTORY = 0o700


class BackupError(RuntimeError):
    """A backup cannot be taken or restored; `problems` lists every reason found."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = list(problems or [])
        super().__init__("\n".join([message, *(f"  - {p}" for p in self.problems)]))


@dataclass(frozen=True)
class BackupFile:
    """One file of a backup: its path relative to the backup (= relative to the home)."""

    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    taken_at: str
    home: str
    crimestat_version: str | None
    git_commit: str | None
    tables: dict[str, int]
    files: list[BackupFile] = field(default_factory=list)

    def to_json(self) -> str:
        content = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "taken_at": self.taken_at,
            "home": self.home,
            "crimestat_version": self.crimestat_version,
            "git_commit": self.git_commit,
            "warehouse": {"file": WAREHOUSE_FILE, "tables": self.tables},
            "files": [asdict(f) for f in sorted(self.files, key=lambda f: f.path)],
        }
        return json.dumps(content, indent=2, ensure_ascii=False) + "\n"

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def by_path(self) -> dict[str, BackupFile]:
        return {f.path: f for f in self.files}

    def entry_totals(self) -> dict[str, tuple[int, int]]:
        """Files and bytes per entry of the home (warehouse.duckdb, exports, ...)."""
        totals: dict[str, tuple[int, int]] = {}
        for name in HOME_ENTRIES:
            held = [f for f in self.files if PurePosixPath(f.path).parts[0] == name]
            if held:
                totals[name] = (len(held), sum(f.size for f in held))
        return totals


def read_manifest(backup: Path) -> Manifest:
    """The manifest of `backup`, or a BackupError saying why it cannot be trusted."""
    path = backup / MANIFEST_NAME
    if not path.is_file():
        raise BackupError(
            f"{backup}: no {MANIFEST_NAME}: not a crimestat backup, or one that was never completed"
        )
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise BackupError(f"{path}: damaged, not UTF-8 text ({error})") from None
    except json.JSONDecodeError as error:
        raise BackupError(
            f"{path}: damaged, not valid JSON (line {error.lineno}, column {error.colno}: "
            f"{error.msg})"
        ) from None
    try:
        return _parse(content)
    except (KeyError, TypeError, ValueError) as error:
        raise BackupError(f"{path}: damaged: {error}") from None


def _parse(content: Any) -> Manifest:
    if not isinstance(content, dict) or content.get("format") != FORMAT:
        raise ValueError(f"'format' is not {FORMAT!r}")
    if content.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"format_version {content.get('format_version')!r}, this crimestat reads "
            f"{FORMAT_VERSION}"
        )
    tables = _field(_field(content, "warehouse", dict), "tables", dict)
    for name, rows in tables.items():
        if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
            raise ValueError(f"warehouse.tables[{name!r}] is {rows!r}, not a row count")
    files = []
    for index, entry in enumerate(_field(content, "files", list)):
        where = f"files[{index}]"
        if not isinstance(entry, dict):
            raise ValueError(f"{where} is not an object")
        path = _field(entry, "path", str)
        if not is_home_path(path):
            raise ValueError(f"{where}.path {path!r} is not a file a backup may hold")
        size, digest = _field(entry, "size", int), _field(entry, "sha256", str)
        if size < 0 or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(f"{where} ({path}): size {size!r} / sha256 {digest!r} malformed")
        files.append(BackupFile(path, size, digest))
    if len({f.path for f in files}) != len(files):
        raise ValueError("a file is listed twice")
    return Manifest(
        taken_at=_field(content, "taken_at", str),
        home=_field(content, "home", str),
        crimestat_version=content.get("crimestat_version"),
        git_commit=content.get("git_commit"),
        tables=tables,
        files=files,
    )


def _field(content: dict[str, Any], name: str, kind: type) -> Any:
    if name not in content:
        raise KeyError(f"field {name!r} is missing")
    value = content[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TypeError(f"field {name!r} is {type(value).__name__}, not {kind.__name__}")
    return value


def is_home_path(path: str) -> bool:
    """A relative path inside one of HOME_ENTRIES, with no way out of it (no '..')."""
    parts = PurePosixPath(path).parts
    return (
        bool(parts)
        and not PurePosixPath(path).is_absolute()
        and parts[0] in HOME_ENTRIES
        and ".." not in parts
        and (len(parts) == 1) == (parts[0] not in HOME_FOLDERS)
    )


def write_manifest(backup: Path, manifest: Manifest) -> None:
    """Written whole or not at all, and last: present means complete."""
    with write_atomically(backup / MANIFEST_NAME) as stream:
        stream.write(manifest.to_json().encode("utf-8"))
    fsync(backup)


def copy_hashing(source: Path, target: Path, relative: str, bar: tqdm) -> BackupFile:
    """Copy one file, hashing the bytes as they pass (one read of the source), keeping its
    modification time; owner-only (0600) whatever the source's mode, as every file of a
    backup and of a home; synced before it counts as copied."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as writing:
        size, digest = _read_hashing(source, bar, writing.write)
        writing.flush()
        os.fsync(writing.fileno())
    shutil.copystat(source, target)
    target.chmod(OWNER_ONLY_FILE)
    return BackupFile(relative, size, digest)


def file_digest(path: Path, relative: str, bar: tqdm) -> BackupFile:
    """Size and SHA-256 of a file as it is on disk."""
    size, digest = _read_hashing(path, bar, None)
    return BackupFile(relative, size, digest)


def _read_hashing(path: Path, bar: tqdm, sink: Callable[[bytes], object] | None) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as reading:
        while chunk := reading.read(CHUNK_BYTES):
            digest.update(chunk)
            if sink is not None:
                sink(chunk)
            size += len(chunk)
            bar.update(len(chunk))
    return size, digest.hexdigest()


def progress_bar(total: int, description: str, enabled: bool) -> tqdm:
    return tqdm(total=total, desc=description, unit="B", unit_scale=True, disable=not enabled)
