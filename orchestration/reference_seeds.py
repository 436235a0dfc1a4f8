"""The reference seeds are loaded only when they changed (issue 17): they rarely do, and every
run that loads them again pays their load, their 34 tests and as many check events.

What the seeds are is fingerprinted from the prepared dbt manifest and the seed files: each
seed's file content, its configuration (column types, schema, quoting), its descriptions, and
the versions of dbt and its DuckDB adapter that load it. The fingerprint of the seeds the
warehouse holds is kept in the warehouse itself (`reference.seed_fingerprint`), so it travels
with the data it describes: a warehouse restored from a backup or built by hand has its own,
or none.

Before a build that loads the seeds, the kept fingerprint is forgotten, and it is recorded
again only after the dbt call succeeded: a call that fails half-way, or seeds that change back,
never leave a fingerprint that the tables do not match.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb

from core.files import sha256_of

FINGERPRINT_TABLE = "reference.seed_fingerprint"
SEEDS_SCHEMA = "reference"
# What of a seed's manifest node decides its table: its file, configuration and descriptions.
SEED_FIELDS = (
    "unique_id", "checksum", "config", "description", "columns", "database", "schema", "alias",
)  # fmt: skip


def seed_nodes(manifest: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return sorted(
        (node for node in manifest["nodes"].values() if node.get("resource_type") == "seed"),
        key=lambda node: node["unique_id"],
    )


def seed_fingerprint(manifest: Mapping[str, Any], project_dir: Path) -> str:
    """SHA-256 of everything that decides what the seeds' tables hold. The files are read
    from the project as it is now (each seed, its properties file and dbt_project.yml, which
    holds the column types), not taken from the manifest: seeds or their configuration edited
    after a long-lived process prepared its manifest still count as changed."""
    described = [
        {name: node.get(name) for name in SEED_FIELDS}
        | {
            "content": sha256_of(project_dir / node["original_file_path"]),
            "properties": _file_digest(project_dir, node.get("patch_path")),
        }
        for node in seed_nodes(manifest)
    ]
    versions = {name: importlib.metadata.version(name) for name in ("dbt-core", "dbt-duckdb")}
    project = sha256_of(project_dir / "dbt_project.yml")
    text = json.dumps([versions, project, described], sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _file_digest(project_dir: Path, patch_path: str | None) -> str | None:
    """The SHA-256 of a properties file named as dbt names it (`<project>://<path>`)."""
    if not patch_path:
        return None
    return sha256_of(project_dir / patch_path.split("://", 1)[-1])


def seeds_loaded(
    con: duckdb.DuckDBPyConnection, manifest: Mapping[str, Any], fingerprint: str
) -> bool:
    """Whether the warehouse holds every seed's table, loaded from seeds of this fingerprint."""
    if not _fingerprint_table_exists(con):
        return False
    kept = con.execute(f"select fingerprint from {FINGERPRINT_TABLE}").fetchall()
    if kept != [(fingerprint,)]:
        return False
    tables = {
        (schema, name)
        for schema, name in con.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
    }
    return all(
        (node["schema"], node["alias"] or node["name"]) in tables for node in seed_nodes(manifest)
    )


def forget_seed_fingerprint(con: duckdb.DuckDBPyConnection) -> None:
    if _fingerprint_table_exists(con):
        con.execute(f"delete from {FINGERPRINT_TABLE}")


def record_seed_fingerprint(con: duckdb.DuckDBPyConnection, fingerprint: str) -> None:
    con.execute(f"create schema if not exists {SEEDS_SCHEMA}")
    con.execute(
        f"create table if not exists {FINGERPRINT_TABLE} "
        "(fingerprint varchar not null, recorded_at timestamp not null)"
    )
    con.execute("begin transaction")
    con.execute(f"delete from {FINGERPRINT_TABLE}")
    con.execute(
        f"insert into {FINGERPRINT_TABLE} values (?, current_localtimestamp())", [fingerprint]
    )
    con.execute("commit")


def _fingerprint_table_exists(con: duckdb.DuckDBPyConnection) -> bool:
    schema, name = FINGERPRINT_TABLE.split(".")
    return bool(
        con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = ? and table_name = ?",
            [schema, name],
        ).fetchone()[0]
    )
