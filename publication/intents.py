"""The publication intent journal: what a publication is about to place, recorded before it
places anything, so the next run repairs a publication killed half-way.

Publishing is: stage and check the files, record the intent (kind, id, every path it will
create with its SHA-256) and commit it, place the files, then in one transaction record the
release or package and drop the intent. A kill after the intent, after placing or before the
commit leaves an intent whose record is missing; `reconcile` (called by the next
`produce_release` / `produce_package` before it picks a number) removes the files that intent
created, only those holding exactly the recorded bytes (or its own hidden temporary names),
and its staging directory (where the files were written and checked before placing), and
drops the intent. The publication is then made again under the same number: one complete
release or package, no duplicate, no number stuck on "exists already".

`kill_point` lets a test SIGKILL the process at each of these steps (CRIMESTAT_KILL_AT).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from core.files import sha256_of

INTENTS = "releases.publication_intents"
KILL_AT = "CRIMESTAT_KILL_AT"
TEMPORARY = "temporary"  # a path of the intent's own hidden name: removed whatever it holds
STAGING = "staging"  # the publication's own staging directory: removed with what it holds


@dataclass(frozen=True)
class Intent:
    kind: str  # release or package
    ident: str
    files: dict[str, str]  # absolute path -> SHA-256 (or TEMPORARY)
    directories: list[str]  # created by the intent: removed when left empty
    created_at: datetime


def ensure_intents(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists releases")
    con.execute(
        f"create table if not exists {INTENTS} (kind varchar not null, ident varchar not null, "
        "files varchar not null, directories varchar not null, created_at timestamp not null, "
        "primary key (kind, ident))"
    )


def record_intent(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    ident: str,
    files: dict[Path, str],
    directories: list[Path] = (),  # type: ignore[assignment]
    staging: Path | None = None,
) -> None:
    """Record and commit the intent: must be called outside any transaction. `staging`: the
    directory (made by the publication, e.g. with `tempfile.mkdtemp`) its files are written
    in before placing; a publication killed before it removed it leaves it to `reconcile`."""
    ensure_intents(con)
    files = {**files, staging: STAGING} if staging is not None else files
    con.execute(
        f"insert or replace into {INTENTS} values (?, ?, ?, ?, ?)",
        [kind, ident, json.dumps({str(p): s for p, s in files.items()}),
         json.dumps([str(d) for d in directories]),
         datetime.now(UTC).replace(tzinfo=None)],
    )  # fmt: skip


def clear_intent(con: duckdb.DuckDBPyConnection, kind: str, ident: str) -> None:
    """Drop the intent: in the transaction that records the publication."""
    con.execute(f"delete from {INTENTS} where kind = ? and ident = ?", [kind, ident])


def open_intents(con: duckdb.DuckDBPyConnection, kind: str) -> list[Intent]:
    ensure_intents(con)
    return [
        Intent(kind, ident, json.loads(files), json.loads(directories), created_at)
        for ident, files, directories, created_at in con.execute(
            f"select ident, files, directories, created_at from {INTENTS} where kind = ? "
            "order by created_at",
            [kind],
        ).fetchall()
    ]


def reconcile(con: duckdb.DuckDBPyConnection, kind: str) -> list[str]:
    """Undo every open intent of `kind` (its record was never committed): remove the files it
    created, never a file with other bytes, and its staging directory; drop it. Returns what
    was done, one line each."""
    done = []
    for intent in open_intents(con, kind):
        for name, sha256 in intent.files.items():
            path = Path(name)
            if sha256 == STAGING:
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                    done.append(f"{kind} {intent.ident}: removed staging directory {path}")
                continue
            if not path.is_file():
                continue
            if sha256 == TEMPORARY or sha256_of(path) == sha256:
                path.unlink()
                done.append(f"{kind} {intent.ident}: removed {path} (placed, never recorded)")
            else:
                done.append(f"{kind} {intent.ident}: kept {path}: not the bytes it placed")
        for name in intent.directories:
            directory = Path(name)
            if directory.is_dir() and not any(directory.iterdir()):
                directory.rmdir()
        clear_intent(con, kind, intent.ident)
    return done


def kill_point(name: str) -> None:
    """SIGKILL this process here when CRIMESTAT_KILL_AT names this step (crash tests)."""
    if os.environ.get(KILL_AT) == name:
        os.kill(os.getpid(), signal.SIGKILL)
