"""Reading landing files into text records, one row per line, before any validation.

CSV and JSON Lines both end as a polars frame of text columns named as in the contract, plus
`_file`, `_line` and `_text` (the line as read, kept for quarantine), and a frame of lines that
could not even be split into fields (broken encoding, cut rows) already judged for quarantine.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ingestion.decoding import DecodedLines, read_lines
from ingestion.errors import UnreadableFile

QUARANTINE_COLUMNS = {
    "_file": pl.String,
    "_line": pl.Int64,
    "field": pl.String,
    "rule": pl.String,
    "reason": pl.String,
    "record": pl.String,
}


@dataclass(frozen=True)
class FileRecords:
    """The records of one file: `rows` to validate and `rejected` lines already judged."""

    label: str
    rows: pl.DataFrame
    rejected: pl.DataFrame
    # SHA-256 of the bytes parsed (a landing file's as read, a database batch's as rendered).
    sha256: str | None = None

    @property
    def rows_read(self) -> int:
        return self.rows.height + self.rejected.height


def rejected_lines(label: str, entries: Sequence[tuple[int, str, str, str]]) -> pl.DataFrame:
    """Quarantine rows for lines that never became records: (line, rule, reason, text)."""
    return pl.DataFrame(
        {
            "_file": [label] * len(entries),
            "_line": [e[0] for e in entries],
            "field": [None] * len(entries),
            "rule": [e[1] for e in entries],
            "reason": [e[2] for e in entries],
            "record": [e[3] for e in entries],
        },
        schema=QUARANTINE_COLUMNS,
    )


def _undecodable(lines: DecodedLines) -> list[tuple[int, str, str, str]]:
    """Lines that never became text records: undecodable, or longer than the limit (these
    keep only their first bytes)."""
    return [(n, "broken_encoding", problem, text) for n, text, problem in lines.undecodable] + [
        (n, "malformed_value", problem, text) for n, text, problem in lines.too_long
    ]


def read_delimited(
    path: Path,
    label: str,
    columns: Sequence[str],
    *,
    encoding: str,
    separator: str,
    max_undecodable_share: float,
    max_line_bytes: int,
) -> FileRecords:
    """A header-led delimited file; its header must name every contract column."""
    lines = read_lines(path, label, encoding, max_undecodable_share, max_line_bytes)
    if not lines.numbers or lines.numbers[0] != 1:
        raise UnreadableFile(label, "the header row is missing or unreadable")
    header = [h.strip().strip('"') for h in lines.texts[0].split(separator)]
    missing = [c for c in columns if c not in header]
    if missing:
        raise UnreadableFile(label, f"header lacks column(s) {', '.join(missing)}")
    rejected = _undecodable(lines)
    data = pl.DataFrame(
        {"_line": lines.numbers[1:], "_text": lines.texts[1:]},
        schema={"_line": pl.Int64, "_text": pl.String},
    ).with_columns(
        (pl.col("_text").str.count_matches(separator, literal=True) + 1).alias("_fields")
    )
    width = len(header)
    wrong_width = data.filter(pl.col("_fields") != width)
    for line, text, fields in wrong_width.select("_line", "_text", "_fields").iter_rows():
        cut = fields < width
        rejected.append(
            (
                line,
                "truncated_row" if cut else "malformed_value",
                f"line has {fields} fields, the header has {width}"
                + (" (row cut short)" if cut else ""),
                text,
            )
        )
    rows = (
        data.filter(pl.col("_fields") == width)
        .with_columns(
            pl.col("_text")
            .str.split_exact(separator, width - 1)
            .struct.rename_fields(header)
            .alias("_split")
        )
        .unnest("_split")
        .select(pl.lit(label).alias("_file"), "_line", "_text", *columns)
    )
    return FileRecords(label, rows, rejected_lines(label, rejected), lines.sha256)


def read_json_lines(
    path: Path,
    label: str,
    fields: Sequence[str],
    *,
    max_undecodable_share: float,
    max_line_bytes: int,
) -> FileRecords:
    """One JSON object per line; scalars become text so every register validates alike.

    Nested values (lists, objects) are kept as JSON text for the register to unpack.
    """
    lines = read_lines(path, label, "utf-8", max_undecodable_share, max_line_bytes)
    rejected = _undecodable(lines)
    last = lines.last_line_number
    records: dict[str, list[str | None]] = {f: [] for f in fields}
    numbers: list[int] = []
    texts: list[str] = []
    for number, text in zip(lines.numbers, lines.texts, strict=True):
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            cut = number == last and not lines.ends_with_newline
            rejected.append(
                (
                    number,
                    "truncated_row" if cut else "malformed_value",
                    ("JSON object cut short" if cut else "line is not valid JSON")
                    + f" ({exc.msg})",
                    text,
                )
            )
            continue
        if not isinstance(obj, dict):
            rejected.append((number, "malformed_value", "line is not a JSON object", text))
            continue
        numbers.append(number)
        texts.append(text)
        for f in fields:
            records[f].append(_as_text(obj.get(f)))
    rows = pl.DataFrame(
        {"_file": [label] * len(numbers), "_line": numbers, "_text": texts, **records},
        schema={"_file": pl.String, "_line": pl.Int64, "_text": pl.String}
        | dict.fromkeys(fields, pl.String),
    )
    return FileRecords(label, rows, rejected_lines(label, rejected), lines.sha256)


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
