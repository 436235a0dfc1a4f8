"""How a database is named in messages: user, host, port and database, never a secret.

Every message that names a register database (errors, Dagster event logs, alert e-mails, the
command line, `repr(Settings)`) goes through `masked_url`. It parses the URL or key=value
connection string with libpq's own parser (psycopg's `conninfo_to_dict`), so it sees exactly
what a connection would use, and rebuilds a canonical `postgresql://user@host:port/dbname`
from those four parts only: a password in the user part, in the query (`?password=`,
`?sslpassword=`) or in a key=value string can never reach the text, whatever characters it
holds. When the text cannot be parsed, or parses into something that shows a password leaked
into another part (a `/` in an unencoded password makes libpq read part of it as the port or
the database), the answer is a fixed placeholder, never the input.
"""

from __future__ import annotations

import re
from urllib.parse import quote

UNPARSEABLE = "<unparseable database URL>"
MASK = "***"
# Parameters of a libpq connection string that hold secrets (scrubbed from error texts).
SECRET_PARAMETERS = ("password", "sslpassword")
PORTS = re.compile(r"^[0-9]*(,[0-9]*)*$")


def conninfo_parts(url: str) -> dict[str, str] | None:
    """The connection's parameters as libpq reads them, or None when it cannot."""
    from psycopg import Error
    from psycopg.conninfo import conninfo_to_dict

    try:
        parts = conninfo_to_dict(url)
    except (Error, TypeError, ValueError):
        return None
    return {key: str(value) for key, value in parts.items() if value is not None}


def masked_url(url: str) -> str:
    """`postgresql://user@host:port/dbname` of a SQL URL or conninfo, with nothing else."""
    parts = conninfo_parts(url)
    if parts is None or not _plausible(parts):
        return UNPARSEABLE
    user = parts.get("user", "")
    hosts = parts.get("host", parts.get("hostaddr", "")).split(",")
    ports = parts.get("port", "").split(",")
    if len(ports) == 1:
        ports = ports * len(hosts)
    servers = ",".join(
        _host(host) + (f":{port}" if port else "")
        for host, port in zip(hosts, ports + [""] * len(hosts), strict=False)
    )
    who = f"{quote(user, safe='')}@" if user else ""
    database = quote(parts.get("dbname", ""), safe="")
    return f"postgresql://{who}{servers}/{database}"


def _plausible(parts: dict[str, str]) -> bool:
    """False when a password has visibly leaked into another part: a port that is not a
    number, or a database name that holds what follows the password's `/` (`...@host/db`)
    or another connection string."""
    database = parts.get("dbname", "")
    return bool(PORTS.match(parts.get("port", ""))) and not any(
        mark in database for mark in ("@", "=", "://")
    )


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host else quote(host, safe=".-_~")


def connection_secrets(url: str) -> list[str]:
    """Every secret the connection string carries (to scrub from texts that may echo one)."""
    parts = conninfo_parts(url) or {}
    return [parts[name] for name in SECRET_PARAMETERS if parts.get(name)]


def scrubbed(text: str, secrets: list[str]) -> str:
    """`text` with every occurrence of each secret replaced by ***."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text
