"""Polars expressions that render XML fragments for many rows at once.

The writers build the body of a data message (series and observations) batch by batch as
text in polars (Rust), which is an order of magnitude faster than one lxml call per
observation; lxml still writes the envelope. Values are escaped for XML attributes here,
and characters XML 1.0 cannot carry are refused, so the output stays well-formed.
"""

from __future__ import annotations

import polars as pl

NEEDS_ESCAPE = r'[&<>"\t\n\r]'
NOT_XML = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"
ESCAPES = (
    ("&", "&amp;"),
    ("<", "&lt;"),
    (">", "&gt;"),
    ('"', "&quot;"),
    ("\t", "&#9;"),
    ("\n", "&#10;"),
    ("\r", "&#13;"),
)


def escaped(text: pl.DataFrame) -> pl.DataFrame:
    """`text` (all String columns) with every value safe inside a double-quoted attribute.

    Only columns that contain a special character are rewritten: codes (SDMX IDs) never do,
    so the common case costs one scan per column.
    """
    replacements = []
    for name in text.columns:
        column = pl.col(name)
        if text.select(column.str.contains(NOT_XML).any()).item():
            raise ValueError(f"column {name} holds a control character XML 1.0 cannot carry")
        if text.select(column.str.contains(NEEDS_ESCAPE).any()).item():
            for character, entity in ESCAPES:
                column = column.str.replace_all(character, entity, literal=True)
            replacements.append(column.alias(name))
    return text.with_columns(replacements) if replacements else text


def attribute(name: str) -> pl.Expr:
    """' NAME="value"' for the column NAME, or '' where it is null (attribute left out)."""
    return (
        pl.when(pl.col(name).is_null())
        .then(pl.lit(""))
        .otherwise(pl.concat_str([pl.lit(f' {name}="'), pl.col(name), pl.lit('"')]))
    )


def generic_value(tag: str, name: str, indent: str) -> pl.Expr:
    """'<tag id="NAME" value="v"/>' on its own line, or '' where the column is null."""
    return (
        pl.when(pl.col(name).is_null())
        .then(pl.lit(""))
        .otherwise(
            pl.concat_str(
                [pl.lit(f'{indent}<{tag} id="{name}" value="'), pl.col(name), pl.lit('"/>\n')]
            )
        )
    )
