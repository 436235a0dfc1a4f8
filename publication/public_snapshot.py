"""The public snapshot: what the public face of the dashboards reads (SPEC 7, 10, 13).

Built from the internal snapshot just published (never from the warehouse), into its own
directory `serving/public/`, and swapped in the same way (a new file under `snapshots/`, then
`current.json` replaced). It holds only what may be public, chosen table by table (an
allow-list: a new mart or table stays internal until it is added here):

- reference tables (code lists, municipalities, populations);
- the marts that count offences and customs cases, not persons (PUBLIC_MARTS), and the
  customs violations located to about a kilometre;
- `public.persons_convicted_breakdowns`: the breakdowns of persons convicted as released
  (publication.public), derived here from the internal snapshot's table of every vintage:
  per year and dataset the latest vintage whose embargo has passed at publication, every
  suppressed cell with no value and the one flag C (never C vs D);
- releases of PUBLIC_DATASETS only, and of those only the ones whose embargo has passed at
  publication: their rows, their files, and their cells (a cell not free has no value and
  flag C). CRIM_JUST and EJ_XB_CONV are transmissions to Eurostat and Eurojust with the
  true values of confidential cells, and partner tables are bilateral: never public;
  nor are disclosure audits (`releases.disclosure_audits`: intervals of suppressed cells),
  which only releases of persons have;
- the public files themselves, copied (checked against the SHA-256 the release recorded)
  into `serving/public/files/`, the only place the public face reads files from.

Nothing about the pipeline's internals: no quality results, no quarantine or file-load
summaries, no unmapped national codes, no warehouse path.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from core.files import fsync, sha256_of
from dashboards.face import FILES_DIR
from publication.intents import kill_point
from publication.public import PUBLIC_TABLE, SERVING_TABLE, public_rows
from publication.serving import (
    SNAPSHOT_DIR,
    SnapshotError,
    _point_to,
    _remove_old_snapshots,
    place_snapshot,
    publication_lock,
    reconcile_snapshots,
    remove_partial,
    snapshot_names,
)

PUBLIC_MARTS = (
    "recorded_offences", "recorded_offences_annual", "solved_offences", "customs_violations",
    "customs_seizures",
)  # fmt: skip
PUBLIC_DATASETS = ("CRIM_OFF_CAT",)
FREE = "F"
CONFIDENTIAL = "C"
SOURCE = "internal_snapshot"
KIND = "public_snapshot"  # of the kill points (crash safety as in publication.serving)


def publish_public_snapshot(
    internal_snapshot: Path,
    public_dir: Path,
    *,
    exports_dir: Path | None = None,
    keep: int = 3,
    now: datetime | None = None,
) -> Path:
    """Copy what may be public from `internal_snapshot` into a new public snapshot under
    `public_dir`, copy the public files from `exports_dir`, make the snapshot current, and
    return its path. `now` (UTC) decides which embargoes have passed."""
    if keep < 1:
        raise ValueError("keep must be at least 1: the current snapshot is always kept")
    internal_snapshot = Path(internal_snapshot)
    if not internal_snapshot.is_file():
        raise SnapshotError(f"no internal snapshot at {internal_snapshot}: publish it first")
    public_dir = Path(public_dir)
    snapshots = public_dir / SNAPSHOT_DIR
    snapshots.mkdir(parents=True, exist_ok=True)
    with publication_lock(snapshots):
        reconcile_snapshots(public_dir)
        published_at = (now or datetime.now(UTC)).astimezone(UTC)
        final, partial = snapshot_names(snapshots, published_at)
        try:
            with contextlib.closing(duckdb.connect(str(partial))) as con:
                con.execute(f"attach '{internal_snapshot}' as {SOURCE} (read_only)")
                try:
                    tables, files = _copy_public(con, published_at.replace(tzinfo=None))
                finally:
                    con.execute(f"detach {SOURCE}")
                listed = _copy_files(files, exports_dir, public_dir / FILES_DIR)
                tables.append(_list_files(con, listed))
                con.execute("checkpoint")
            place_snapshot(KIND, partial, final)
        finally:
            remove_partial(partial)
        _point_to(public_dir, final, published_at, tables)
        kill_point(f"{KIND}:after_pointer")
        _remove_old_snapshots(snapshots, final, keep)
        _remove_unlisted_files(public_dir / FILES_DIR, {path for path, _, _ in listed})
    return final


def _copy_public(
    con: duckdb.DuckDBPyConnection, now: datetime
) -> tuple[list[str], list[tuple[str, str | None]]]:
    """The public tables; and (relative path, recorded SHA-256 or None) of public files."""
    existing = {
        (schema, name): columns
        for schema, name, columns in con.execute(
            "select schema_name, table_name, list(column_name) from duckdb_columns() "
            "where database_name = ? group by all",
            [SOURCE],
        ).fetchall()
    }

    def copy(target: str, query: str, *params: object) -> str:
        con.execute(f"create schema if not exists {target.split('.', 1)[0]}")
        con.execute(f"create table {target} as {query}", list(params))
        return target

    tables = []
    for schema, name in sorted(existing):
        if schema == "reference" or (schema == "marts" and name in PUBLIC_MARTS):
            tables.append(copy(f"{schema}.{name}", f"select * from {SOURCE}.{schema}.{name}"))
    if ("serving", "customs_violation_points") in existing:
        tables.append(copy("serving.customs_violation_points",
                           f"select * from {SOURCE}.serving.customs_violation_points"))  # fmt: skip
    if tuple(SERVING_TABLE.split(".")) not in existing:
        raise SnapshotError("the internal snapshot has no persons_convicted_breakdowns")
    tables.append(copy(PUBLIC_TABLE, public_rows(f"{SOURCE}.{SERVING_TABLE}"), now))
    threshold = con.execute(
        f"select disclosure_threshold from {SOURCE}.serving.snapshot_info"
    ).fetchone()
    con.execute("create schema if not exists serving")
    con.execute(
        "create table serving.snapshot_info as select ?::timestamp as published_at, "
        "?::integer as disclosure_threshold, 'public' as face",
        [now, threshold[0] if threshold else None],
    )
    tables.append("serving.snapshot_info")
    files: list[tuple[str, str | None]] = []
    releases = existing.get(("releases", "releases"))
    if releases is None or not {"release_id", "dataset", "embargo_until"} <= set(releases):
        return tables, files
    datasets = ", ".join(f"'{d}'" for d in PUBLIC_DATASETS)
    tables.append(
        copy(
            "releases.releases",
            f"select * from {SOURCE}.releases.releases where dataset in ({datasets}) "
            "and (embargo_until is null or embargo_until <= ?::timestamp)",
            now,
        )
    )
    public_ids = "(select release_id from releases.releases)"
    if ("releases", "release_files") in existing:
        tables.append(copy("releases.release_files", f"select * from {SOURCE}.releases."
                           f"release_files where release_id in {public_ids}"))  # fmt: skip
        has_sha = "sha256" in existing[("releases", "release_files")]
        files = con.execute(
            f"select distinct relative_path, {'sha256' if has_sha else 'null'} "
            "from releases.release_files order by 1"
        ).fetchall()
    cells = existing.get(("releases", "release_cells"))
    # Cells without a confidentiality flag cannot be told apart: none is published.
    if cells is not None and {"obs_value", "conf_status"} <= set(cells):
        kept = [c for c in cells if c not in ("obs_value", "conf_status")]
        tables.append(
            copy(
                "releases.release_cells",
                f"select {', '.join(kept)}, "
                f"case when conf_status = '{FREE}' then obs_value end as obs_value, "
                f"case when conf_status = '{FREE}' then '{FREE}' else '{CONFIDENTIAL}' end "
                f"as conf_status from {SOURCE}.releases.release_cells "
                f"where release_id in {public_ids}",
            )
        )
    return tables, files


def _copy_files(
    files: list[tuple[str, str | None]], exports_dir: Path | None, target: Path
) -> list[tuple[str, int, str]]:
    """Copy each public file (immutable once published: an existing copy with the same
    digest stays); a file the exports directory lacks is not offered. Returns (relative
    path, size, SHA-256) of every file in place."""
    listed = []
    if exports_dir is None:
        return listed
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


def _list_files(con: duckdb.DuckDBPyConnection, listed: list[tuple[str, int, str]]) -> str:
    con.execute(
        "create table serving.export_files (relative_path varchar, size_bytes bigint, "
        "sha256 varchar)"
    )
    if listed:
        con.executemany("insert into serving.export_files values (?, ?, ?)", listed)
    return "serving.export_files"


def _remove_unlisted_files(files_dir: Path, listed: set[str]) -> None:
    """A file no longer public (its release withdrawn from the public list) goes."""
    if not files_dir.is_dir():
        return
    for path in sorted(files_dir.rglob("*"), reverse=True):
        if path.is_file() and path.relative_to(files_dir).as_posix() not in listed:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
