"""The warehouse remembers which pseudonymisation key it was loaded with.

Person keys are HMACs of personal codes under CRIMESTAT_PSEUDONYMISATION_KEY: loaded with
another key, the same person would get a second key, and persons would be split and counted
twice (persons convicted, repeat offenders) without any error. So the first load records the
key's fingerprint (`ingestion.pseudonymisation.key_fingerprint`, an HMAC of a constant) in
`raw.key_fingerprint`, and every load compares it before it writes anything: a load with
another key is refused, naming the setting. Messages show an 8-character prefix of the
fingerprints, enough to tell keys apart, never the key.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from core.settings import SettingsError
from ingestion.pseudonymisation import key_fingerprint

KEY_FINGERPRINT_TABLE = "raw.key_fingerprint"
SHOWN = 8


class KeyMismatchError(SettingsError):
    """The pseudonymisation key is not the one the warehouse was loaded with."""


def check_pseudonymisation_key(con: duckdb.DuckDBPyConnection, secret: bytes) -> None:
    """Record the key's fingerprint on the warehouse's first load; refuse another key."""
    fingerprint = key_fingerprint(secret)
    con.execute("create schema if not exists raw")
    con.execute(
        f"create table if not exists {KEY_FINGERPRINT_TABLE} "
        "(fingerprint varchar not null, recorded_at timestamp not null)"
    )
    # One statement (its own transaction): recorded only when the table is empty. DuckDB
    # admits one writing process, so no other load can record another key in between.
    con.execute(
        f"insert into {KEY_FINGERPRINT_TABLE} select ?, ? "
        f"where not exists (select 1 from {KEY_FINGERPRINT_TABLE})",
        [fingerprint, datetime.now()],
    )
    [(expected, recorded_at)] = con.execute(
        f"select fingerprint, recorded_at from {KEY_FINGERPRINT_TABLE}"
    ).fetchall()
    if expected != fingerprint:
        raise KeyMismatchError(
            "CRIMESTAT_PSEUDONYMISATION_KEY is not the key this warehouse was loaded with "
            f"(key fingerprint {fingerprint[:SHOWN]}..., the warehouse's {expected[:SHOWN]}... "
            f"recorded {recorded_at:%Y-%m-%d %H:%M}): the same persons would get other keys "
            "and be counted twice. Nothing was loaded; set the warehouse's key, or load into a "
            "new warehouse."
        )
