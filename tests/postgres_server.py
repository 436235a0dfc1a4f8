"""A throwaway PostgreSQL server for the database-source tests and benchmark.

Debian's server binaries (installed by scripts/install-postgres.sh when missing) run initdb
into a fresh temporary directory and start on a free local port, with the unix socket in the
same directory, so nothing of the machine's own clusters is touched. PostgreSQL refuses to run
as root: as root (CI, the project's machines) the server runs as the `postgres` OS user, in a
directory that user owns. Host connections need a password (scram-sha-256), so wrong
credentials are a real refusal; the superuser connects over the socket without one.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

PROJECT = Path(__file__).resolve().parent.parent
INSTALL_SCRIPT = PROJECT / "scripts" / "install-postgres.sh"
SUPERUSER = "postgres"
ROLE = "crimestat"
# Durability is not wanted from a server that lives for one test session.
FAST_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")


@dataclass(frozen=True)
class PostgresServer:
    port: int
    socket_dir: Path
    password: str

    def url(self, database: str, *, password: str | None = None, port: int | None = None) -> str:
        """A TCP URL of the test role (a wrong password or port for failure tests)."""
        return (
            f"postgresql://{ROLE}:{password or self.password}@127.0.0.1:{port or self.port}"
            f"/{database}"
        )

    def admin(self, database: str = "postgres") -> psycopg.Connection:
        """The superuser over the unix socket, autocommit (CREATE DATABASE needs it)."""
        return psycopg.connect(
            host=str(self.socket_dir), port=self.port, user=SUPERUSER, dbname=database,
            autocommit=True,
        )  # fmt: skip

    def create_database(self, name: str) -> str:
        """A fresh database owned by the test role; returns its URL."""
        with self.admin() as con:
            con.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(name)))
            con.execute(
                sql.SQL("create database {} owner {}").format(
                    sql.Identifier(name), sql.Identifier(ROLE)
                )
            )
        return self.url(name)


def postgres_bin_dir() -> Path:
    """The newest installed server's binaries; installs Debian's package when none is."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=_major_version)
    if not found:
        subprocess.run(["bash", str(INSTALL_SCRIPT)], check=True)
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=_major_version)
    if not found:
        raise RuntimeError(f"{INSTALL_SCRIPT} ran but no /usr/lib/postgresql/*/bin/initdb exists")
    return found[-1].parent


def _major_version(initdb: Path) -> int:
    name = initdb.parent.parent.name
    return int(name) if name.isdigit() else 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", SUPERUSER, "--", *command] if os.geteuid() == 0 else command


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """initdb + start on a free port; stopped and deleted on exit."""
    bin_dir = postgres_bin_dir()
    base = Path(tempfile.mkdtemp(prefix="crimestat-postgres-"))
    if os.geteuid() == 0:
        user = pwd.getpwnam(SUPERUSER)
        os.chown(base, user.pw_uid, user.pw_gid)
    data, log = base / "data", base / "server.log"
    password = secrets.token_urlsafe(16)
    port = free_port()
    try:
        subprocess.run(
            _as_server_user([
                str(bin_dir / "initdb"), "-D", str(data), "-U", SUPERUSER, "-E", "UTF8",
                "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256",
            ]),
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        options = " ".join(
            [f"-p {port}", f"-k {base}", "-c listen_addresses=127.0.0.1"]
            + [f"-c {setting}" for setting in FAST_SETTINGS]
        )
        subprocess.run(
            _as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o",
                             options, "-w", "-t", "60", "start"]),
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        server = PostgresServer(port, base, password)
        with server.admin() as con:
            con.execute(
                sql.SQL("create role {} login password {}").format(
                    sql.Identifier(ROLE), sql.Literal(password)
                )
            )
        yield server
    except subprocess.CalledProcessError as error:
        detail = log.read_text() if log.exists() else ""
        raise RuntimeError(f"PostgreSQL did not start: {error.stderr}\n{detail}") from error
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                _as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w",
                                 "stop"]),
                capture_output=True,
            )  # fmt: skip
        shutil.rmtree(base, ignore_errors=True)
