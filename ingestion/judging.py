"""Judging a partition's records against a register contract: valid rows or quarantine."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from ingestion.records import QUARANTINE_COLUMNS
from ingestion.validation import (
    Field,
    Rule,
    blank_to_null,
    contract_rules,
    first_broken_rule,
    mark_duplicates,
    message,
    range_rules,
    shown,
    typed_columns,
)


@dataclass(frozen=True)
class Contract:
    """What a register's rows must satisfy, and the key that identifies one version."""

    fields: tuple[Field, ...]
    key: tuple[str, ...]
    extra_rules: Callable[[dict[str, Field]], list[Rule]] = lambda _: []
    # Text clean-up specific to the register (e.g. decimal comma) before judging.
    normalise: Callable[[pl.DataFrame], pl.DataFrame] = lambda frame: frame

    @property
    def by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    # The load time that dates may not lie (more than a day) after.
    loaded_at: datetime = field(default_factory=datetime.now)

    def rules(self) -> list[Rule]:
        return (
            contract_rules(self.fields)
            + self.extra_rules(self.by_name)
            + range_rules(self.fields, self.loaded_at)
        )


@dataclass(frozen=True)
class Judgement:
    valid: pl.DataFrame  # typed contract columns + _file, _line (+ any kept text columns)
    quarantine: pl.DataFrame  # QUARANTINE_COLUMNS


def judge(records: pl.DataFrame, contract: Contract, keep_text: Sequence[str] = ()) -> Judgement:
    """Every row ends in exactly one of the two frames; the first broken rule is its reason."""
    text = contract.normalise(blank_to_null(records, contract.fields))
    judged = mark_duplicates(
        first_broken_rule(text.sort("_file", "_line"), contract.rules()),
        contract.key,
        "(" + ", ".join(contract.key) + ")",
    )
    # `_text` stays with valid rows until they are written: a row found to repeat a version
    # already in the warehouse goes to quarantine with it (ingestion/loading.py).
    valid = judged.filter(pl.col("_rule").is_null()).select(
        "_file",
        "_line",
        "_text",
        *[pl.col(c).alias(f"_text_{c}") for c in keep_text],
        *typed_columns(contract.fields),
    )
    quarantine = judged.filter(pl.col("_rule").is_not_null()).select(
        "_file",
        "_line",
        pl.col("_field").alias("field"),
        pl.col("_rule").alias("rule"),
        pl.col("_reason").alias("reason"),
        pl.col("_text").alias("record"),
    )
    return Judgement(valid, quarantine.cast(QUARANTINE_COLUMNS))


def not_before(later: pl.Expr, earlier: pl.Expr) -> pl.Expr:
    """True when both are known and `later` falls before `earlier` (an impossible order)."""
    return later.is_not_null() & earlier.is_not_null() & (later < earlier)


def date_order_rule(
    field: str, later: pl.Expr, earlier: pl.Expr, what: str, *, show_earlier: bool = True
) -> Rule:
    """`later` must not fall before `earlier`; `show_earlier=False` when `earlier` is a
    personal field (birth_date): the reason then names it without its value."""
    shown_earlier = (
        [f" is before {what} ", earlier.cast(pl.String)] if show_earlier else [f" is before {what}"]
    )
    return Rule(
        field,
        "impossible_date",
        not_before(later, earlier),
        message(f"{field} ", later.cast(pl.String), *shown_earlier),
    )


def too_old_rule(field: Field, floor: str) -> Rule:
    """Dates before the registers existed (e.g. 1899 placeholders) are impossible."""
    value = field.typed()
    floor_value = pl.lit(floor).str.strptime(pl.Date, "%Y-%m-%d")
    return Rule(
        field.name,
        "impossible_date",
        value.is_not_null() & (value.cast(pl.Date) < floor_value),
        message(
            f"{field.name} ",
            shown(field, quote=False, value=value.cast(pl.String)),
            f" is before {floor}",
        ),
    )
