"""The serving snapshot: what the dashboards read instead of the warehouse (SPEC 2, 10).

DuckDB admits one writing process per file, and a reader of the warehouse would block the
pipeline (or be blocked by it). So publication copies what the dashboards need into a new,
self-contained DuckDB file and then swaps a pointer to it:

1. `serving/snapshots/.snapshot-<UTC time>.duckdb.partial` is created; the warehouse is
   ATTACHed READ_ONLY (waiting while a writer holds it), the tables are copied with
   CREATE TABLE AS, the warehouse is detached at once, the breakdowns of persons convicted
   are derived from the copies of the releases (publication.public: released figures only,
   embargoes judged at this publication's time), so are their revisions
   (publication.revisions), the exported files are copied to `serving/files/` (each once:
   they are immutable) and listed, and the file is checkpointed and closed;
2. the file is renamed to `snapshot-<UTC time>.duckdb` (complete or absent, never half);
3. `serving/current.json` is written to a temporary file and `os.replace`d: readers see the
   old pointer or the new one, never a torn one;
4. snapshots older than the newest `keep` are removed (never the current one), and files the
   new snapshot no longer lists. A reader that still has an old snapshot open keeps reading
   it: an unlinked file lives on while open.

Crash safety (SPEC 13, README "Faults"): `current.json` is the publication's commit record. It
is replaced atomically, and only after the new file is complete, fsynced, renamed and read
back, so at every instant it names a complete, readable snapshot (or none before the first).
A publication killed half-way leaves only files of the names this module gives: the partial
file (and its `.wal`), the temporary pointer, or a renamed snapshot the pointer never named
(published after the current one). `reconcile_snapshots`, run by the next publication before
it writes, removes exactly those; snapshots once current (the `keep` newest) stay, and no
other name is touched, nor a link or a directory. Publications of one directory are
serialised by an exclusive lock on `snapshots/` (the kernel's, released if killed), so the
clean-up never takes a file another publication is writing.

No intent row in the warehouse is needed, unlike releases and packages: those have a
record in the warehouse that must agree with files placed elsewhere, so the files' intended
paths and bytes are journalled first. A snapshot's only record is the pointer beside it;
whether a file was ever published follows from the pointer and the file names alone, and
the clean-up needs nothing but the serving directory. The public snapshot is made from the
internal one and its directory may live without the warehouse, so it could not use one.
Kill points for crash tests (CRIMESTAT_KILL_AT, `publication.intents.kill_point`):
`snapshot:after_write`, `snapshot:after_rename`, `snapshot:after_pointer` (before the old
snapshots are removed); `public_snapshot:...` the same for the public snapshot.

Only aggregates leave the warehouse: marts (among them dbt's summaries of quarantine, file
loads and register freshness, with no record and no reason text, which may quote personal
values, and the customs points rounded to about a kilometre), reference tables, the quality
gates' results and the release tables. The layout of the serving directory and the pointer's
format are core.snapshot_layout's, which the dashboards read too.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from core.disclosure import DEFAULT_THRESHOLD
from core.files import fsync, sha256_of
from core.snapshot_layout import (
    POINTER_FILE,
    SNAPSHOT_DIR,
    files_dir,
    pointed_name,
    pointer_text,
)
from core.warehouse import LOCK_WAIT_SECONDS, attach_waiting
from publication import public
from publication.intents import kill_point
from publication.releases import SOURCES
from publication.revisions import write_revisions_table

SNAPSHOT_PREFIX = "snapshot-"
SNAPSHOT_SUFFIX = ".duckdb"
AUDITED_DATASETS_TABLE = "serving.audited_datasets"
KIND = "snapshot"  # of the kill points
# The names this module gives (`%Y%m%dT%H%M%S%fZ`): the only ones its clean-up removes.
SNAPSHOT_NAME = re.compile(r"snapshot-\d{8}T\d{12}Z\.duckdb")
PARTIAL_NAME = re.compile(r"\.snapshot-\d{8}T\d{12}Z\.duckdb\.partial(\.wal)?")
POINTER_TEMPORARY_NAME = re.compile(r"\.current\.json\.\d+\.tmp")
log = logging.getLogger(__name__)


class SnapshotError(RuntimeError):
    """The warehouse lacks what a snapshot needs; the message says what."""


@dataclass(frozen=True)
class Copy:
    """One table of the snapshot: `target` (schema.table) made by `query`, in which
    `{source}` stands for the attached warehouse. `needs` names the warehouse relations the
    query reads; an optional copy whose relations are absent is skipped, a required one
    fails."""

    target: str
    query: str
    needs: tuple[str, ...]
    required: bool = False


# Reference tables and the quality gates' results; marts (the summaries the app needs among
# them, dbt models like every other) and releases are copied whole.
COPIES = (
    Copy("reference.iccs_codes", "select * from {source}.reference.iccs_codes",
         ("reference.iccs_codes",), required=True),
    Copy("reference.iccs_hierarchy", "select * from {source}.intermediate.int_iccs_hierarchy",
         ("intermediate.int_iccs_hierarchy",), required=True),
    Copy("reference.municipalities", "select * from {source}.reference.municipalities",
         ("reference.municipalities",), required=True),
    Copy("reference.county_population", "select * from {source}.reference.county_population",
         ("reference.county_population",), required=True),
    Copy("reference.population_by_year",
         "select * from {source}.intermediate.int_population_by_year",
         ("intermediate.int_population_by_year",), required=True),
    Copy("reference.municipality_population",
         "select * from {source}.reference.municipality_population",
         ("reference.municipality_population",)),
    # Every quality run's outcomes, without the sample of failing rows' keys and values.
    Copy("quality.check_results",
         "select columns(lambda c: c <> 'failing_values') from {source}.quality.check_results",
         ("quality.check_results",)),
)  # fmt: skip


def publish_snapshot(
    warehouse_path: Path,
    serving_dir: Path,
    *,
    extra_tables: Sequence[str] = (),
    exports_dir: Path | None = None,
    keep: int = 3,
    threshold: int = DEFAULT_THRESHOLD,
    lock_wait_seconds: float = LOCK_WAIT_SECONDS,
) -> Path:
    """Copy the warehouse's marts and what the app needs into a new snapshot, make it the
    current one, and return its path.

    `extra_tables` (schema.table, must exist) are copied as they are; every file of
    `exports_dir` is copied beside the snapshots (`files/`) and listed (path, size, SHA-256)
    so the releases page offers the files without reading outside its serving directory.
    `threshold` is recorded for the pages' notes on suppressed cells: the threshold the
    releases of persons were protected with (StructureSettings.disclosure).
    """
    if keep < 1:
        raise ValueError("keep must be at least 1: the current snapshot is always kept")
    warehouse_path = Path(warehouse_path)
    if not warehouse_path.is_file():
        raise SnapshotError(f"no warehouse at {warehouse_path}: run the pipeline first")
    snapshots = Path(serving_dir) / SNAPSHOT_DIR
    snapshots.mkdir(parents=True, exist_ok=True)
    files = files_dir(serving_dir)
    with publication_lock(snapshots):
        reconcile_snapshots(Path(serving_dir))
        published_at = datetime.now(UTC)
        final, partial = snapshot_names(snapshots, published_at)
        try:
            with contextlib.closing(duckdb.connect(str(partial))) as con:
                tables = _copy_from_warehouse(con, warehouse_path, extra_tables, lock_wait_seconds)
                tables += public.write_breakdown_tables(con, published_at.replace(tzinfo=None))
                tables += write_revisions_table(con)
                tables.append(_write_audited_datasets(con))
                if exports_dir is not None:
                    listed = copy_files(_exports(Path(exports_dir)), Path(exports_dir), files)
                    tables.append(_list_exports(con, Path(exports_dir), listed))
                _write_info(con, published_at, warehouse_path, threshold)
                con.execute("checkpoint")
            place_snapshot(KIND, partial, final)
        finally:
            remove_partial(partial)
        _point_to(Path(serving_dir), final, published_at, tables)
        kill_point(f"{KIND}:after_pointer")
        _remove_old_snapshots(snapshots, final, keep)
        if exports_dir is not None:
            remove_unlisted_files(files, {path for path, _, _ in listed})
    return final


def snapshot_names(snapshots: Path, published_at: datetime) -> tuple[Path, Path]:
    """The new snapshot's final name and the partial name it is written under."""
    final = snapshots / f"{SNAPSHOT_PREFIX}{published_at:%Y%m%dT%H%M%S%fZ}{SNAPSHOT_SUFFIX}"
    return final, final.with_name(f".{final.name}.partial")


def place_snapshot(kind: str, partial: Path, final: Path) -> None:
    """Make the written, closed `partial` durable, check that it opens and has its
    information table, and rename it to `final` (complete or absent, never half)."""
    fsync(partial)
    with contextlib.closing(duckdb.connect(str(partial), read_only=True)) as con:
        con.execute("select count(*) from serving.snapshot_info").fetchone()
    kill_point(f"{kind}:after_write")
    os.replace(partial, final)
    fsync(final.parent)
    kill_point(f"{kind}:after_rename")


def remove_partial(partial: Path) -> None:
    partial.unlink(missing_ok=True)
    partial.with_name(partial.name + ".wal").unlink(missing_ok=True)


@contextlib.contextmanager
def publication_lock(snapshots: Path) -> Iterator[None]:
    """Hold the exclusive lock of a snapshots directory (waiting for another publication of
    it); the kernel releases it when the process ends, killed or not."""
    fd = os.open(snapshots, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def reconcile_snapshots(serving_dir: Path) -> list[str]:
    """Remove what a publication killed half-way left in `serving_dir` (internal or public):
    partial snapshot files and their `.wal`, temporary pointers, and snapshots the pointer
    never named (published after the one it names, or any when there is no pointer). Only
    regular files of this module's names; nothing when the pointer cannot be read. Call it
    holding `publication_lock`. Returns what was removed, one line each."""
    serving_dir = Path(serving_dir)
    snapshots = serving_dir / SNAPSHOT_DIR
    removed = [p for p in _own_files(serving_dir) if POINTER_TEMPORARY_NAME.fullmatch(p.name)]
    pointer, current = _pointed_name(serving_dir)
    for path in _own_files(snapshots):
        never_current = not pointer or (current is not None and path.name > current)
        if PARTIAL_NAME.fullmatch(path.name) or (
            SNAPSHOT_NAME.fullmatch(path.name) and never_current
        ):
            removed.append(path)
    done = []
    for path in removed:
        path.unlink(missing_ok=True)
        done.append(f"removed {path}: left by a publication that did not finish")
        log.warning(done[-1])
    return done


def _own_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.is_file() and not p.is_symlink())


def _pointed_name(serving_dir: Path) -> tuple[bool, str | None]:
    """Whether there is a pointer, and the name of the snapshot it names: None when it cannot
    be read or names no snapshot of ours (then no snapshot is taken for a leftover)."""
    try:
        name = pointed_name(serving_dir)
    except (OSError, ValueError, KeyError, TypeError):
        return True, None
    if name is None:
        return False, None
    directory, _, base = name.rpartition("/")
    return True, (base if directory == SNAPSHOT_DIR and SNAPSHOT_NAME.fullmatch(base) else None)


def _copy_from_warehouse(
    con: duckdb.DuckDBPyConnection,
    warehouse_path: Path,
    extra_tables: Sequence[str],
    lock_wait_seconds: float,
) -> list[str]:
    # dbt-duckdb's views name their tables with the catalog = the file's stem, so the
    # warehouse is attached under that name.
    catalog = warehouse_path.stem
    attach_waiting(con, warehouse_path, catalog, wait_seconds=lock_wait_seconds)
    try:
        existing = _relations(con, catalog)
        marts = sorted(name for schema, name in existing if schema == "marts")
        if not marts:
            raise SnapshotError(f"{warehouse_path} has no marts: run dbt build first")
        copies = [
            Copy(f"marts.{name}", f"select * from {{source}}.marts.{name}", (f"marts.{name}",))
            for name in marts
        ]
        # Every table of the release step, disclosure_audits included when the warehouse
        # has it (one from before audits were recorded does not: nothing to copy).
        copies += [
            Copy(
                f"releases.{name}",
                f"select * from {{source}}.releases.{name}",
                (f"releases.{name}",),
            )
            for schema, name in sorted(existing)
            if schema == "releases"
        ]
        copies += COPIES
        copies += [
            Copy(name, f"select * from {{source}}.{name}", (name,), required=True)
            for name in extra_tables
        ]
        written = []
        for copy in copies:
            missing = [n for n in copy.needs if tuple(n.split(".", 1)) not in existing]
            if missing and copy.required:
                raise SnapshotError(f"{warehouse_path} lacks {', '.join(missing)}")
            if missing:
                continue
            schema = copy.target.split(".", 1)[0]
            con.execute(f"create schema if not exists {schema}")
            query = copy.query.format(source=f'"{catalog}"')
            con.execute(f"create table {copy.target} as {query}")
            written.append(copy.target)
        return written
    finally:
        con.execute(f'detach "{catalog}"')


def _relations(con: duckdb.DuckDBPyConnection, catalog: str) -> set[tuple[str, str]]:
    rows = con.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = ? "
        "union select schema_name, view_name from duckdb_views() where database_name = ?",
        [catalog, catalog],
    ).fetchall()
    return {(schema, name) for schema, name in rows}


def _exports(exports_dir: Path) -> list[tuple[str, str | None]]:
    """Every file under the exports directory (relative path; no recorded digest). Hidden
    names are a publication's own temporaries (a release's `.staging-*`), never offered."""
    return [
        (p.relative_to(exports_dir).as_posix(), None)
        for p in sorted(exports_dir.rglob("*") if exports_dir.is_dir() else ())
        if p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(exports_dir).parts)
    ]


def _list_exports(
    con: duckdb.DuckDBPyConnection, exports_dir: Path, listed: list[tuple[str, int, str]]
) -> str:
    """The exported files copied beside the snapshot, with when each was exported."""
    con.execute("create schema if not exists serving")
    con.execute(
        "create table serving.export_files (relative_path varchar, size_bytes bigint, "
        "sha256 varchar, modified_at timestamp)"
    )
    rows = [
        (path, size, digest,
         datetime.fromtimestamp((exports_dir / path).stat().st_mtime, UTC).replace(tzinfo=None))
        for path, size, digest in listed
    ]  # fmt: skip
    if rows:
        con.executemany("insert into serving.export_files values (?, ?, ?, ?)", rows)
    return "serving.export_files"


def copy_files(
    files: Sequence[tuple[str, str | None]], exports_dir: Path, target: Path
) -> list[tuple[str, int, str]]:
    """Copy each (relative path, recorded SHA-256 or None) of `exports_dir` to `target`, the
    files directory of a serving directory. Exported files are immutable once published, so
    an existing copy with the same digest stays; a file the exports directory lacks is not
    offered; one that differs from the digest its release recorded stops the publication.
    Returns (relative path, size, SHA-256) of every file in place."""
    listed = []
    exports = Path(exports_dir).resolve()
    for relative_path, recorded in files:
        source = (exports / relative_path).resolve()
        if not source.is_relative_to(exports):
            raise SnapshotError(f"release file {relative_path!r} is outside {exports}")
        if not source.is_file():
            continue
        digest = sha256_of(source)
        if recorded is not None and digest != recorded:
            raise SnapshotError(
                f"{source} does not match the SHA-256 its release recorded: not published"
            )
        copy = target / relative_path
        if not (copy.is_file() and sha256_of(copy) == digest):
            copy.parent.mkdir(parents=True, exist_ok=True)
            partial = copy.with_name(f".{copy.name}.partial")
            try:
                shutil.copyfile(source, partial)
                fsync(partial)
                os.replace(partial, copy)
            finally:
                partial.unlink(missing_ok=True)
        listed.append((relative_path, copy.stat().st_size, digest))
    return listed


def remove_unlisted_files(files_dir: Path, listed: set[str]) -> None:
    """A file the current snapshot no longer lists (a release withdrawn from the public
    list, an export removed) goes, with the directories it leaves empty."""
    if not files_dir.is_dir():
        return
    for path in sorted(files_dir.rglob("*"), reverse=True):
        if path.is_file() and path.relative_to(files_dir).as_posix() not in listed:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def _write_audited_datasets(con: duckdb.DuckDBPyConnection) -> str:
    """The dataflows whose every release records a disclosure audit (those of person
    counts, publication.releases.SOURCES): the releases page says so when one is missing."""
    con.execute("create schema if not exists serving")
    con.execute(f"create table {AUDITED_DATASETS_TABLE} (dataset varchar not null)")
    con.executemany(
        f"insert into {AUDITED_DATASETS_TABLE} values (?)",
        [(name,) for name, source in SOURCES.items() if source.disclosure_control],
    )
    return AUDITED_DATASETS_TABLE


def _write_info(
    con: duckdb.DuckDBPyConnection, published_at: datetime, warehouse: Path, threshold: int
) -> None:
    con.execute("create schema if not exists serving")
    con.execute(
        "create table serving.snapshot_info as select ?::timestamp as published_at, "
        "?::varchar as warehouse, ?::integer as disclosure_threshold",
        [published_at.replace(tzinfo=None), str(warehouse), threshold],
    )


def _point_to(serving_dir: Path, snapshot: Path, published_at: datetime, tables: list[str]) -> None:
    pointer = serving_dir / POINTER_FILE
    temporary = serving_dir / f".{POINTER_FILE}.{os.getpid()}.tmp"
    temporary.write_text(
        pointer_text(serving_dir, snapshot, published_at, tables), encoding="utf-8"
    )
    fsync(temporary)
    os.replace(temporary, pointer)
    fsync(serving_dir)


def _remove_old_snapshots(snapshots: Path, current: Path, keep: int) -> None:
    """Snapshots of this module's names older than the newest `keep`; no other file (a
    `snapshot-by-hand.duckdb` is neither counted nor removed)."""
    published = sorted(
        (p for p in _own_files(snapshots) if SNAPSHOT_NAME.fullmatch(p.name)), reverse=True
    )
    for old in published[keep:]:
        if old != current:
            old.unlink(missing_ok=True)
