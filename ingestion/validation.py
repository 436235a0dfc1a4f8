"""Row contracts as data: each field says its type, whether it is mandatory and its code list.

From those declarations come the generic rules (missing_field, malformed_value, unknown_code);
each register adds its own rules (date order, check digits). Every row is judged by the first
rule it breaks, in declaration order, so a quarantined row carries one field and one reason
that a person can act on. All of it runs as polars expressions over the whole file at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

from core.settings import CountryProfile
from ingestion.pseudonymisation import MASK

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S"
DATE_FORMAT = "%Y-%m-%d"
DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
INTEGER_PATTERN = r"^-?[0-9]+$"
BOOLEAN_VALUES = ("true", "false")
# What a raw INTEGER column holds (core/contracts.py): every integer field is one.
INTEGER_RANGE = (-(2**31), 2**31 - 1)
# A date or time more than this after the load is impossible (the raw GX suite allows as much).
FUTURE_SLACK = timedelta(days=1)
CONTROL_CHARACTERS = r"[\x00-\x1F\x7F]"


@dataclass(frozen=True)
class Field:
    """One column of a register's contract, read as text and typed after validation."""

    name: str
    kind: str = "text"  # text, integer, decimal, float, boolean, timestamp, date
    mandatory: bool = False
    codes: tuple[str, ...] | None = None
    pattern: str | None = None
    code_list_name: str | None = None  # how the reason names the code list
    # Personal data (SPEC 4): no reason ever shows the value, only the field's name.
    personal: bool = False
    # The largest plausible value of a number (a count, an amount), stated by the contract:
    # above it a value is absurd, and it must stay within what the raw column's type holds.
    maximum: float | None = None

    def typed(self) -> pl.Expr:
        """The column cast to its type; unparseable text becomes null (caught by a rule)."""
        text = pl.col(self.name)
        match self.kind:
            case "integer":
                return text.cast(pl.Int64, strict=False)
            case "float":
                return text.cast(pl.Float64, strict=False)
            case "boolean":
                return pl.when(text == "true").then(True).when(text == "false").then(False)
            case "timestamp":
                return text.str.strptime(pl.Datetime("us"), TIMESTAMP_FORMAT, strict=False)
            case "date":
                return text.str.strptime(pl.Date, DATE_FORMAT, strict=False)
            case _:  # text and decimal stay text; DuckDB casts decimals exactly on insert
                return text

    def is_malformed(self) -> pl.Expr:
        text = pl.col(self.name)
        present = text.is_not_null()
        match self.kind:
            case "decimal":
                return present & ~text.str.contains(DECIMAL_PATTERN)
            case "integer":
                return present & ~text.str.contains(INTEGER_PATTERN)
            case "boolean":
                return present & ~text.is_in(BOOLEAN_VALUES)
            case "text":
                if self.pattern is None:
                    return pl.lit(False)
                return present & ~text.str.contains(self.pattern)
            case _:
                return present & self.typed().is_null()

    def expected(self) -> str:
        return {
            "integer": "a whole number",
            "decimal": "a decimal number",
            "float": "a number",
            "boolean": "true or false",
            "timestamp": "a timestamp YYYY-MM-DDTHH:MM:SS",
            "date": "a date YYYY-MM-DD",
        }.get(self.kind, f"text matching {self.pattern}")


@dataclass(frozen=True)
class Rule:
    """A condition a row must not meet; `reason` explains it with the offending value."""

    field: str | None
    rule: str
    broken: pl.Expr
    reason: pl.Expr


def contract_rules(fields: Sequence[Field]) -> list[Rule]:
    """missing_field for every mandatory field first, then malformed values, then code lists."""
    rules = [
        Rule(
            f.name,
            "missing_field",
            pl.col(f.name).is_null(),
            pl.lit(f"mandatory field {f.name} is empty"),
        )
        for f in fields
        if f.mandatory
    ]
    rules += [
        Rule(
            f.name,
            "malformed_value",
            f.is_malformed(),
            message(f"{f.name} ", shown(f), f" is not {f.expected()}"),
        )
        for f in fields
    ]
    rules += [
        Rule(
            f.name,
            "malformed_value",
            pl.col(f.name).str.contains(CONTROL_CHARACTERS).fill_null(False),
            message(
                f"{f.name} ",
                shown(f, value=pl.col(f.name).str.replace_all(CONTROL_CHARACTERS, "?")),
                " holds a control character (NUL or another, shown as ?)",
            ),
        )
        for f in fields
        if f.kind == "text"
    ]
    rules += [
        Rule(
            f.name,
            "unknown_code",
            pl.col(f.name).is_not_null() & ~pl.col(f.name).is_in(f.codes),
            pl.format(f"{f.name} {{}} is not in the code list{code_list_suffix(f)}", shown(f)),
        )
        for f in fields
        if f.codes is not None
    ]
    return rules


def range_rules(fields: Sequence[Field], now: datetime) -> list[Rule]:
    """Values outside what a column can hold or the contract finds plausible: numbers within
    their field's `maximum` and the INTEGER type, dates and times no later than a day after
    the load (`now`). Judged after every other rule, so a row keeps its most precise reason."""
    rules = []
    latest = now + FUTURE_SLACK
    for f in fields:
        if f.kind in ("integer", "decimal"):
            value = pl.col(f.name).cast(pl.Float64, strict=False)
            low, high = INTEGER_RANGE if f.kind == "integer" else (None, None)
            if f.maximum is not None:
                high = min(high, f.maximum) if high is not None else f.maximum
            for bound, word in ((high, "above"), (low, "below")):
                if bound is None:
                    continue
                broken = value > bound if word == "above" else value < bound
                rules.append(
                    Rule(
                        f.name,
                        "malformed_value",
                        broken.fill_null(False),
                        message(
                            f"{f.name} ",
                            shown(f, quote=False),
                            f" is {word} {_number(bound)}, "
                            + ("the most the contract admits" if word == "above" else "the least"),
                        ),
                    )
                )
        elif f.kind in ("timestamp", "date"):
            value = f.typed()
            bound = pl.lit(latest) if f.kind == "timestamp" else pl.lit(latest.date())
            rules.append(
                Rule(
                    f.name,
                    "impossible_date",
                    (value > bound).fill_null(False),
                    message(
                        f"{f.name} ",
                        shown(f, quote=False, value=value.cast(pl.String)),
                        " is more than a day after the load time",
                    ),
                )
            )
    return rules


def _number(value: float) -> str:
    """Grouped with `_`: spaces would make a long bound look like a masked personal code."""
    return f"{int(value):_}" if float(value).is_integer() else str(value)


def message(*parts: str | pl.Expr) -> pl.Expr:
    """A reason built from literal text and values (literal braces and all)."""
    return pl.concat_str([p if isinstance(p, pl.Expr) else pl.lit(p) for p in parts])


def below_rule(field: Field, minimum: int) -> Rule:
    return Rule(
        field.name,
        "malformed_value",
        field.typed() < minimum,
        message(f"{field.name} ", shown(field, quote=False), f" is below {minimum}"),
    )


def negative_rule(field: Field) -> Rule:
    """Decimals stay text until DuckDB casts them, so the sign is read from the text."""
    return Rule(
        field.name,
        "malformed_value",
        pl.col(field.name).str.starts_with("-"),
        message(f"{field.name} ", shown(field, quote=False), " is negative"),
    )


def coordinate_rules(fields: dict[str, Field], country: CountryProfile) -> list[Rule]:
    """Coordinates outside the country's bounding box cannot be where a register says."""
    return [
        Rule(
            name,
            "malformed_value",
            ~fields[name].typed().is_between(*bounds),
            message(f"{name} ", pl.col(name), f" is outside {country.code} {bounds}"),
        )
        for name, bounds in (("lat", country.lat_range), ("lon", country.lon_range))
    ]


def code_list_suffix(field: Field) -> str:
    return f" ({field.code_list_name})" if field.code_list_name else ""


def shown(field: Field, *, quote: bool = True, value: pl.Expr | None = None) -> pl.Expr:
    """How a reason shows the field's value (`value`, default its text): quoted, unless the
    field is personal, whose value no reason may repeat (it would land in raw.quarantine)."""
    if field.personal:
        return pl.lit(MASK)
    if value is None:
        value = pl.col(field.name)
    return pl.concat_str(pl.lit("'"), value, pl.lit("'")) if quote else value


def typed_columns(fields: Sequence[Field]) -> list[pl.Expr]:
    return [f.typed().alias(f.name) for f in fields]


def blank_to_null(frame: pl.DataFrame, fields: Sequence[Field]) -> pl.DataFrame:
    """Registers write null as an empty field; some wrap values in double quotes."""
    return frame.with_columns(
        pl.col(f.name).str.strip_chars().str.strip_chars('"').replace("", None) for f in fields
    )


def first_broken_rule(frame: pl.DataFrame, rules: Sequence[Rule]) -> pl.DataFrame:
    """Adds `_field`, `_rule`, `_reason` of the first rule each row breaks (null if none)."""
    if not rules:
        return frame.with_columns(
            pl.lit(None, pl.String).alias(c) for c in ("_field", "_rule", "_reason")
        )
    chain = pl.when(rules[0].broken).then(_verdict(rules[0]))
    for rule in rules[1:]:
        chain = chain.when(rule.broken).then(_verdict(rule))
    verdict = chain.otherwise(None)
    return (
        frame.with_columns(verdict.alias("_verdict"))
        .with_columns(
            pl.col("_verdict").struct.field("field").alias("_field"),
            pl.col("_verdict").struct.field("rule").alias("_rule"),
            pl.col("_verdict").struct.field("reason").alias("_reason"),
        )
        .drop("_verdict")
    )


def _verdict(rule: Rule) -> pl.Expr:
    return pl.struct(
        pl.lit(rule.field, pl.String).alias("field"),
        pl.lit(rule.rule).alias("rule"),
        rule.reason.fill_null(pl.lit(f"{rule.rule} in {rule.field}")).alias("reason"),
    )


def mark_duplicates(frame: pl.DataFrame, key: Sequence[str], label: str) -> pl.DataFrame:
    """A valid row whose key already appeared earlier in the partition is a duplicate."""
    valid = pl.col("_rule").is_null()
    earlier = (
        frame.filter(valid)
        .group_by(key)
        .agg(pl.col("_file").first().alias("_first_file"), pl.col("_line").first().alias("_first"))
    )
    ordered = frame.join(earlier, on=list(key), how="left", maintain_order="left")
    repeated = valid & ~(
        (pl.col("_file") == pl.col("_first_file")) & (pl.col("_line") == pl.col("_first"))
    )
    return ordered.with_columns(
        pl.when(repeated).then(pl.lit("duplicate")).otherwise(pl.col("_rule")).alias("_rule"),
        pl.when(repeated).then(pl.lit(label)).otherwise(pl.col("_field")).alias("_field"),
        pl.when(repeated)
        .then(
            message(
                f"duplicate of {label} first seen in ",
                pl.col("_first_file"),
                " line ",
                pl.col("_first").cast(pl.String),
            )
        )
        .otherwise(pl.col("_reason"))
        .alias("_reason"),
    ).drop("_first_file", "_first")
