"""Personal data stops at the door (SPEC 4, 13): keyed hashes, and masking of what is left.

`person_key`: HMAC-SHA256 with a secret from the settings: the same person gets the same key in
every register version (so persons can be counted once a year) but nobody without the secret
can recompute a key from a personal code. Keys are base32 (letters and digits 2-7) so that no
hash can ever look like a personal code.

Everything else here is the ONE place that masks personal data in what ingestion keeps about
rows it refuses (`raw.quarantine`), for every register and every source (landing files and
register databases both end in `loading.prepare_partition`, which calls `mask_quarantine`).
Masking works on the raw text, not on parsed values, because a refused row is exactly the row
whose values could not be trusted to be where the contract says: a personal code written
`3730526341 1`, `37305-263411`, with a twelfth digit, starting with 9 or cut after ten digits
(the eleventh is a check digit, so ten digits give the code back) must all disappear.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Sequence

import polars as pl

MASK = "(masked)"

# Separators people and systems put inside a long number: space, no-break and thin spaces,
# tab, hyphen, and the Unicode dashes a word processor substitutes for a hyphen.
_SEPARATOR = r"[ \t\u00a0\u2009\u202f\-\u2010-\u2015]"
# Any run of 10 to 12 digits, each digit optionally preceded by one separator, that is not
# part of a longer run of digits: an 11-digit code, its typos with a missing or extra digit, in
# any grouping. Register ids (13 or more digits after a prefix) stay readable. The one shape
# left alone is a timestamp written `YYYY-MM-DD HH:` (how reasons print times), whose digits
# would otherwise read as 10; a personal code is never followed by a colon there.
PERSONAL_DIGITS = re.compile(
    r"(?<![0-9])(?![0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:)"
    rf"[0-9](?:{_SEPARATOR}?[0-9]){{9,11}}(?![0-9])"
)
# Names a register may legitimately give a field; anything else is reported as "unnamed"
# because a key of a broken record can itself be personal text.
_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,40}$")
# A `"key":` of a JSON object, found anywhere in a line that may be cut or damaged.
_JSON_KEY = re.compile(r'"((?:[^"\\]|\\.){1,200})"\s*:\s*')
_DECODER = json.JSONDecoder()
UNREADABLE = "(unreadable)"  # a value of a broken line that could not be decoded


def person_key(personal_code: str, secret: bytes) -> str:
    digest = hmac.new(secret, personal_code.encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().rstrip("=").lower()


def mask_personal_digits(text: str | None) -> str | None:
    """`text` with every personal-code-shaped run of digits replaced by MASK.

    Defence in depth for every text ingestion keeps about a refused row (reasons, records of
    registers without personal fields): whatever field a code was typed into, it goes.
    """
    if text is None:
        return None
    return PERSONAL_DIGITS.sub(MASK, text)


def holds_personal_digits(text: str | None) -> bool:
    """True when `text` holds a personal-code-shaped run of digits (see PERSONAL_DIGITS)."""
    return text is not None and PERSONAL_DIGITS.search(text) is not None


def _json_fields(text: str) -> dict[str, object]:
    """The fields of a JSON object line, whether or not it parses as a whole.

    A line that is not valid JSON (cut short, damaged bytes, stray text) is scanned for
    `"key": value` pairs and each value is decoded on its own, so the readable fields of a
    broken line survive; a value that cannot be decoded is recorded as UNREADABLE. Keys inside
    a nested value that decoded are skipped with it.
    """
    try:
        whole = json.loads(text)
    except json.JSONDecodeError:
        whole = None
    if isinstance(whole, dict):
        return whole
    fields: dict[str, object] = {}
    position = 0
    while match := _JSON_KEY.search(text, position):
        try:
            value, position = _DECODER.raw_decode(text, match.end())
        except json.JSONDecodeError:
            value, position = UNREADABLE, match.end()
        fields.setdefault(match.group(1), value)
    return fields


def private_json_record(
    text: str | None,
    contract_fields: Sequence[str],
    personal_fields: Sequence[str],
    nested_fields: Sequence[str] = (),
) -> tuple[str | None, list[str]]:
    """What may be kept of a refused JSON record: (record as JSON text, dropped field names).

    Kept: the contract's fields that are not personal, as read (personal-code-shaped digits
    masked all the same). Of a personal field only whether it held a value (MASK) or was null
    is kept, so a `missing_field` stays understandable. Fields outside the contract are dropped
    and only named, because nobody can tell what they hold (a `full_name`, an address).

    A line that could not be parsed (cut, damaged, not JSON) is never kept as text, even masked:
    masking finds codes and dates but no pattern finds a name, and a broken line can hold
    anything. Only the values that can be attributed to a non-personal contract field are kept,
    recovered pair by pair (`_json_fields`).
    """
    if text is None:
        return None, []
    fields = _json_fields(text)
    personal = set(personal_fields)
    # Keys of a nested value (offences) met when that value could not be decoded: part of the
    # contract, not outside it, and gone with the value.
    nested = set(nested_fields)
    kept: dict[str, object] = {}
    for name in contract_fields:
        if name not in fields:
            continue
        if name in personal:
            kept[name] = None if fields[name] is None else MASK
        else:
            kept[name] = _masked_value(fields[name])
    dropped: list[str] = []
    unnamed = 0
    for name in fields:
        if name in kept or name in personal or name in nested:
            continue
        if _FIELD_NAME.match(name) and not holds_personal_digits(name):
            dropped.append(name)
        else:
            unnamed += 1
    if unnamed:
        dropped.append(f"{unnamed} unnamed")
    return json.dumps(kept, ensure_ascii=False), dropped


def _masked_value(value: object) -> object:
    """A kept value with personal-code-shaped digits masked; a number or nested value that
    held some becomes masked JSON text."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return mask_personal_digits(value)
    text = json.dumps(value, ensure_ascii=False)
    masked = mask_personal_digits(text)
    return value if masked == text else masked


# First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(text: str | None) -> str | None:
    """`text` that no spreadsheet would run if a quarantine row is ever downloaded: a leading
    formula character gets a single quote in front. Downloads neutralise cells too; this keeps
    what is stored inert whatever later reads it."""
    if text is None or not text.startswith(FORMULA_STARTS):
        return text
    return "'" + text


def mask_quarantine(
    quarantine: pl.DataFrame,
    json_fields: Sequence[str] | None = None,
    personal_fields: Sequence[str] = (),
    nested_fields: Sequence[str] = (),
) -> pl.DataFrame:
    """Quarantine rows with nothing of a person left in `record` and `reason`.

    For a register delivering JSON records with personal fields (`json_fields` = its contract),
    `record` is rebuilt by `private_json_record` and the reason names the fields dropped. For
    every register, personal-code-shaped digits are masked in record and reason (reasons are
    built so as never to show a personal field's value; this catches a code typed into another
    field), and both are made `inert`. Quarantines are small, so row-by-row Python is fine.
    """
    if not quarantine.height:
        return quarantine
    records = quarantine["record"].to_list()
    reasons = quarantine["reason"].to_list()
    if json_fields is not None:
        for i, text in enumerate(records):
            records[i], dropped = private_json_record(
                text, json_fields, personal_fields, nested_fields
            )
            if dropped:
                reasons[i] = f"{reasons[i]}; fields outside the contract dropped: " + ", ".join(
                    dropped
                )
    return quarantine.with_columns(
        pl.Series("record", [inert(mask_personal_digits(r)) for r in records], dtype=pl.String),
        pl.Series("reason", [inert(mask_personal_digits(r)) for r in reasons], dtype=pl.String),
    )


KEY_FINGERPRINT_MESSAGE = b"crimestat key fingerprint v1"


def key_fingerprint(secret: bytes) -> str:
    """HMAC-SHA256 of a constant under the key (hex): the warehouse keeps it to recognise the
    key it was loaded with, and it reveals nothing of the key or of any person's key."""
    return hmac.new(secret, KEY_FINGERPRINT_MESSAGE, hashlib.sha256).hexdigest()
