"""`crimestat restore DIR`: verify a backup as a whole, and only then put it in place.

Verification touches nothing in the target home. It reads the manifest, then every file of
the backup (each listed file present with its size and SHA-256, no file that is not listed),
then opens the warehouse read-only and compares every table's row count with the manifest and
every `releases.release_files` checksum with the release file in the backup. Any problem
refuses the whole backup with one message listing each problem and the file it is in.

Placement copies every file into `<home>/.restore-<time>/`, hashing again as it copies (a
backup that changes while it is restored is refused as well), and then renames the staged
entries into the home: the old entries (with --force) are first moved aside, then the new ones
moved in, so a process opening the home finds a whole warehouse, never half a folder.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import duckdb

from core.files import fsync
from core.settings import Settings
from core.warehouse import relation_exists, warehouse_connection
from crimestat.backup import table_row_counts
from crimestat.backup_manifest import (
    HOME_ENTRIES,
    MANIFEST_NAME,
    WAREHOUSE_FILE,
    BackupError,
    BackupFile,
    Manifest,
    copy_hashing,
    file_digest,
    progress_bar,
    read_manifest,
)

RELEASE_FILES = ("releases", "release_files")


@dataclass(frozen=True)
class VerifiedBackup:
    directory: Path
    manifest: Manifest
    release_files_checked: int


@dataclass(frozen=True)
class RestoreSummary:
    home: Path
    backup: VerifiedBackup
    replaced: list[str] = field(default_factory=list)


def verify_backup(source: Path, *, progress: bool = False) -> VerifiedBackup:
    """The backup at `source`, checked whole; a BackupError lists every problem found."""
    source = _backup_directory(source)
    manifest = read_manifest(source)
    refused = f"backup {source} refused, nothing was restored"
    problems = _file_problems(source, manifest, progress)
    if problems:
        raise BackupError(f"{refused}: its files are not those of its manifest", problems)
    problems, checked = _warehouse_problems(source, manifest)
    if problems:
        raise BackupError(f"{refused}: its warehouse does not agree with it", problems)
    return VerifiedBackup(source, manifest, checked)


def restore_home(
    source: Path, settings: Settings, *, force: bool = False, progress: bool = False
) -> RestoreSummary:
    """Verify the backup at `source`, then make the home's warehouse, exports, outbox,
    Dagster instance and quality results those of the backup.

    Without `force` the home must hold none of them; with it they are replaced, and those
    the backup does not have are removed (a write-ahead log of the old warehouse would
    otherwise be replayed onto the restored one).
    """
    home = settings.home
    source = _backup_directory(source)
    if source.is_relative_to(home):
        raise BackupError(f"{source} is inside the home {home}: restore from outside it")
    occupied = [name for name in HOME_ENTRIES if _holds_something(home / name)]
    if occupied and not force:
        raise BackupError(
            f"{home} already holds {', '.join(occupied)}: restore only into a home without "
            "them, or give --force to replace them with the backup"
        )
    verified = verify_backup(source, progress=progress)
    if occupied:
        _require_no_other_process(settings.warehouse_path)
    home.mkdir(parents=True, exist_ok=True)
    staging = home / f".restore-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}"
    staging.mkdir()
    try:
        _stage(source, staging, verified.manifest, progress)
        _swap_in(home, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    fsync(home)
    return RestoreSummary(home, verified, occupied)


def _backup_directory(source: Path) -> Path:
    source = Path(source).expanduser().resolve()
    if not source.is_dir():
        raise BackupError(f"{source} is not a directory: no backup to restore")
    return source


def _file_problems(source: Path, manifest: Manifest, progress: bool) -> list[str]:
    listed = manifest.by_path()
    present = {
        path.relative_to(source).as_posix(): path
        for path in source.rglob("*")
        if path.is_file() and path != source / MANIFEST_NAME
    }
    problems = [
        f"{name}: not in the manifest (a file added to the backup)"
        for name in sorted(present.keys() - listed.keys())
    ]
    problems += [
        f"{name}: listed in the manifest but missing from the backup"
        for name in sorted(listed.keys() - present.keys())
    ]
    common = sorted(present.keys() & listed.keys())
    total = sum(listed[name].size for name in common)
    with progress_bar(total, "verify", progress) as bar:
        for name in common:
            problems += _differences(file_digest(present[name], name, bar), listed[name])
    return problems


def _differences(found: BackupFile, expected: BackupFile) -> list[str]:
    if found.size != expected.size:
        return [
            f"{found.path}: {found.size} bytes, the manifest says {expected.size} "
            f"({'truncated' if found.size < expected.size else 'grown'})"
        ]
    if found.sha256 != expected.sha256:
        return [
            f"{found.path}: SHA-256 {found.sha256}, the manifest says {expected.sha256} "
            "(content altered)"
        ]
    return []


def _warehouse_problems(source: Path, manifest: Manifest) -> tuple[list[str], int]:
    """Row counts against the manifest, release file checksums against the backup's files."""
    if WAREHOUSE_FILE not in manifest.by_path():
        return [f"{WAREHOUSE_FILE}: the backup holds no warehouse"], 0
    try:
        with contextlib.closing(
            duckdb.connect(str(source / WAREHOUSE_FILE), read_only=True)
        ) as con:
            counts = table_row_counts(con)
            recorded = _release_files(con)
    except duckdb.Error as error:
        return [f"{WAREHOUSE_FILE}: DuckDB cannot read it: {error}"], 0
    problems = [
        f"{WAREHOUSE_FILE}: table {name} has {counts.get(name)} rows, the manifest says "
        f"{manifest.tables.get(name)}"
        for name in sorted(counts.keys() | manifest.tables.keys())
        if counts.get(name) != manifest.tables.get(name)
    ]
    files = manifest.by_path()
    for release_id, relative_path, sha256 in recorded:
        path = (PurePosixPath("exports") / relative_path).as_posix()
        if path not in files:
            problems.append(
                f"{path}: file of release {release_id} (releases.release_files) is not in "
                "the backup"
            )
        elif files[path].sha256 != sha256:
            problems.append(
                f"{path}: SHA-256 {files[path].sha256}, release {release_id} recorded "
                f"{sha256} in releases.release_files"
            )
    return problems, len(recorded)


def _release_files(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    if not relation_exists(con, *RELEASE_FILES):
        return []
    return con.execute(
        "select release_id, relative_path, sha256 from releases.release_files order by all"
    ).fetchall()


def _holds_something(path: Path) -> bool:
    if path.is_dir() and not path.is_symlink():
        return any(path.iterdir())
    return path.exists() or path.is_symlink()


def _require_no_other_process(warehouse: Path) -> None:
    """Replacing a warehouse some process has open would leave it writing the old file."""
    if not warehouse.is_file():
        return
    try:
        with warehouse_connection(warehouse, wait_seconds=0):
            pass
    except duckdb.IOException as error:
        if "lock" in str(error).lower():
            raise BackupError(
                f"{warehouse} is open in another process: stop the pipeline, the UI and "
                f"every other user of this home before restoring over it ({error})"
            ) from None
    except duckdb.Error:
        return  # unreadable: it is about to be replaced anyway


def _stage(source: Path, staging: Path, manifest: Manifest, progress: bool) -> None:
    """Copy every file of the backup into `staging`, checking it once more on the way."""
    problems = []
    with progress_bar(manifest.total_bytes, "restore", progress) as bar:
        for expected in manifest.files:
            copied = copy_hashing(
                source / expected.path, staging / expected.path, expected.path, bar
            )
            problems += _differences(copied, expected)
    if problems:
        raise BackupError(
            f"backup {source} changed while it was being restored; nothing was restored",
            problems,
        )


def _swap_in(home: Path, staging: Path) -> None:
    """Old entries aside first, then the new ones in: each a rename within the home."""
    aside = staging / ".replaced"
    aside.mkdir()
    for name in HOME_ENTRIES:
        if (home / name).exists() or (home / name).is_symlink():
            os.replace(home / name, aside / name)
    for name in HOME_ENTRIES:
        if (staging / name).exists():
            os.replace(staging / name, home / name)
