"""Connections to a register's database, and the check that it is shaped like the register.

Every failure becomes a `SourceDatabaseError` naming the register, the database (as
`core.masking.masked_url` names it: user, host, port and database only, since messages
reach logs, run events and alert e-mails) and the problem in PostgreSQL's own words, with
every secret of the connection string scrubbed from them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import psycopg

from core.masking import UNPARSEABLE, connection_secrets, masked_url, scrubbed
from ingestion.database.tables import ACCEPTED_TYPES, SourceTable
from ingestion.errors import SourceDatabaseError

CONNECT_TIMEOUT_SECONDS = 10


def _problem(error: psycopg.Error, url: str) -> str:
    """PostgreSQL's message on one line, never carrying a secret of the connection string."""
    return scrubbed(re.sub(r"\s+", " ", str(error)).strip(), connection_secrets(url))


@contextmanager
def register_database(url: str, description: str, timezone: str) -> Iterator[psycopg.Connection]:
    """An autocommit connection whose session renders times in the registers' local zone;
    `description` names the database in messages (e.g. "the incidents register database")."""
    where = f"{description} {masked_url(url)}"
    if where.endswith(UNPARSEABLE):
        # libpq's own complaint would quote the text around the fault: a password, maybe.
        raise SourceDatabaseError(
            f"cannot connect to {where}: it is not a connection string libpq reads; "
            "percent-encode any / : @ # ? in the user name or password (/ as %2F)"
        )
    try:
        con = psycopg.connect(
            url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS,
            application_name="crimestat",
        )  # fmt: skip
    except psycopg.Error as error:
        # Not chained: the event log and alert keep only the scrubbed text.
        raise SourceDatabaseError(f"cannot connect to {where}: {_problem(error, url)}") from None
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
