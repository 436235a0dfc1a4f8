"""How values are written in the extracts (contracts.py), vectorised.

Generators work with numbers (seconds, days, floats); this module writes them the way each
extract does: ISO timestamps and dates, `true`/`false`, fixed decimals with a point in the
UTF-8 files and a comma in the Windows-1257 customs files, empty fields for nulls, compact JSON
objects with keys in contract order. CSV rows are written by polars' CSV writer straight to
bytes; the same writer renders the few rows that get a defect, so both agree to the byte.
"""

from __future__ import annotations

import io

import polars as pl

from synthetic.files import FileKind

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S"
DATE_FORMAT = "%Y-%m-%d"
TIMESTAMP_COLUMNS = frozenset(
    {"written_at", "registered_at", "occurred_from", "occurred_to", "pretrial_started_at",
     "decision_at", "detected_at"}
)  # fmt: skip
# Decimals written per numeric column.
DECIMALS = {"lat": 5, "lon": 5, "damage_eur": 2, "value_eur": 2}
# Quantities are written without trailing zeros: 10000 sticks, 12,5 l, 0,412 kg.
TRIMMED_DECIMALS = {"quantity": 3}


def _trimmed(column: str, decimals: int, mark: str) -> pl.Expr:
    """A non-negative number with up to `decimals` decimals, without float artefacts."""
    factor = 10**decimals
    scaled = (pl.col(column) * factor).round().cast(pl.Int64)
    whole = (scaled // factor).cast(pl.String)
    fraction = (scaled % factor).cast(pl.String).str.zfill(decimals)
    return (whole + mark + fraction).str.replace(rf"[{mark}]?0+$", "").alias(column)


def _csv_ready(column: str, kind: FileKind) -> pl.Expr:
    if column in TIMESTAMP_COLUMNS:
        return pl.from_epoch(column, time_unit="s")
    if column in DECIMALS:
        decimals = DECIMALS[column]
        return pl.col(column).round(decimals).cast(pl.Decimal(18, decimals))
    if column in TRIMMED_DECIMALS:
        return _trimmed(column, TRIMMED_DECIMALS[column], kind.decimal_mark)
    return pl.col(column)


def csv_ready(rows: pl.DataFrame, kind: FileKind) -> pl.DataFrame:
    """The contract columns typed so that the CSV writer writes them as the contract says."""
    return rows.select(_csv_ready(column, kind) for column in kind.columns)


def csv_bytes(ready: pl.DataFrame, kind: FileKind) -> bytes:
    """Rows as CSV lines (no header), each ending with a newline, in the file's encoding."""
    buffer = io.BytesIO()
    ready.write_csv(
        buffer,
        include_header=False,
        separator=";",
        quote_style="never",
        null_value="",
        datetime_format=TIMESTAMP_FORMAT,
        date_format=DATE_FORMAT,
        decimal_comma=kind.decimal_mark == ",",
    )
    data = buffer.getvalue()
    return data if kind.encoding == "utf-8" else data.decode("utf-8").encode(kind.encoding)


def csv_fields(ready: pl.DataFrame, kind: FileKind) -> list[dict[str, str | None]]:
    """Each row's fields as written (empty = None), to be changed one by one."""
    text = csv_bytes(ready, kind).decode(kind.encoding)
    return [
        {column: value or None for column, value in zip(kind.columns, line.split(";"), strict=True)}
        for line in text.splitlines()
    ]


def csv_line(fields: dict[str, str | None], kind: FileKind) -> str:
    return ";".join(fields[column] or "" for column in kind.columns)


def json_ready(rows: pl.DataFrame, kind: FileKind) -> pl.DataFrame:
    """Timestamps and dates as text; numbers, booleans and lists stay JSON values."""

    def written(column: str) -> pl.Expr:
        if column in TIMESTAMP_COLUMNS:
            return pl.from_epoch(column, time_unit="s").dt.strftime(TIMESTAMP_FORMAT)
        if rows.schema[column] == pl.Date:
            return pl.col(column).dt.strftime(DATE_FORMAT)
        return pl.col(column)

    return rows.select(written(column) for column in kind.columns)


def json_lines(ready: pl.DataFrame) -> pl.Series:
    """One compact JSON object per row, keys in column order, nulls as null."""
    return ready.select(pl.struct(ready.columns).struct.json_encode()).to_series()


def json_bytes(lines: pl.Series) -> bytes:
    """JSON lines, each ending with a newline, UTF-8."""
    buffer = io.BytesIO()
    lines.to_frame().write_csv(buffer, include_header=False, quote_style="never")
    return buffer.getvalue()
