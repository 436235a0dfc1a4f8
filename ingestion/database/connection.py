"""Connections to a register's database, and the check that it is shaped like the register.

Every failure becomes a `SourceDatabaseError` naming the register, the database (password
masked: URLs are printed in logs and run events) and the problem in PostgreSQL's own words.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg

from ingestion.database.tables import ACCEPTED_TYPES, SourceTable
from ingestion.errors import SourceDatabaseError

CONNECT_TIMEOUT_SECONDS = 10
MASK = "***"


def masked_url(url: str) -> str:
    """The URL with any password (in the user part or the query) replaced by ***."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.split(':', 1)[0]}:{MASK}@{host}"
    query = urlencode(
        [(k, MASK if k == "password" else v) for k, v in parse_qsl(parts.query)], safe="*"
    )
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def _problem(error: psycopg.Error, url: str) -> str:
    """PostgreSQL's message on one line, never carrying the password."""
    text = re.sub(r"\s+", " ", str(error)).strip()
    password = urlsplit(url).password
    return text.replace(password, MASK) if password else text


@contextmanager
def register_database(url: str, description: str, timezone: str) -> Iterator[psycopg.Connection]:
    """An autocommit connection whose session renders times in the registers' local zone;
    `description` names the database in messages (e.g. "the incidents register database")."""
    where = f"{description} {masked_url(url)}"
    try:
        con = psycopg.connect(
            url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS,
            application_name="crimestat",
        )  # fmt: skip
    except psycopg.Error as error:
        raise SourceDatabaseError(f"cannot connect to {where}: {_problem(error, url)}") from error
    try:
        con.execute("select set_config('TimeZone', %s, false)", [timezone])
        yield con
    except psycopg.Error as error:
        raise SourceDatabaseError(f"{where}: {_problem(error, url)}") from error
    finally:
        con.close()


def check_source_tables(
    con: psycopg.Connection, schema: str, tables: Sequence[SourceTable], where: str
) -> None:
    """Fail before reading anything when a table or column is missing or has a type that
    cannot hold the register's values."""
    found: dict[str, dict[str, str]] = {}
    for table, column, data_type in con.execute(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = %s and table_name = any(%s)",
        [schema, [t.name for t in tables]],
    ):
        found.setdefault(table, {})[column] = data_type
    problems = []
    for table in tables:
        columns = found.get(table.name)
        if columns is None:
            problems.append(
                f"table {table.qualified(schema)} does not exist (or this user may not read it)"
            )
            continue
        missing = [col.name for col in table.table_columns if col.name not in columns]
        if missing:
            problems.append(f"table {table.qualified(schema)} lacks column(s) {', '.join(missing)}")
        for col in table.table_columns:
            actual = columns.get(col.name)
            accepted = ACCEPTED_TYPES[col.family]
            if actual is not None and actual not in accepted:
                problems.append(
                    f"column {table.qualified(schema)}.{col.name} is {actual}, expected "
                    f"{' or '.join(accepted)}"
                )
    if problems:
        raise SourceDatabaseError(f"{where}: {'; '.join(problems)}")
