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
from core.warehouse import relation_exists, transaction

SEEDS_SCHEMA = "reference"
FINGERPRINT_TABLE = "seed_fingerprint"
FINGERPRINT = f"{SEEDS_SCHEMA}.{FINGERPRINT_TABLE}"
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
    if not relation_exists(con, SEEDS_SCHEMA, FINGERPRINT_TABLE):
        return False
    kept = con.execute(f"select fingerprint from {FINGERPRINT}").fetchall()
    return kept == [(fingerprint,)] and all(
        relation_exists(con, node["schema"], node["alias"] or node["name"])
        for node in seed_nodes(manifest)
    )


def forget_seed_fingerprint(con: duckdb.DuckDBPyConnection) -> None:
    if relation_exists(con, SEEDS_SCHEMA, FINGERPRINT_TABLE):
        con.execute(f"delete from {FINGERPRINT}")


def record_seed_fingerprint(con: duckdb.DuckDBPyConnection, fingerprint: str) -> None:
    con.execute(f"create schema if not exists {SEEDS_SCHEMA}")
    con.execute(
        f"create table if not exists {FINGERPRINT} "
        "(fingerprint varchar not null, recorded_at timestamp not null)"
    )
    with transaction(con):
        con.execute(f"delete from {FINGERPRINT}")
        con.execute(
            f"insert into {FINGERPRINT} values (?, current_localtimestamp())",
            [fingerprint],
        )
