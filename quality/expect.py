"""Short constructors for the GX expectations the suites use, each with its severity.

Severity is GX's own field (critical / warning), so it travels with the expectation into the
validation results and the Data Docs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime

import great_expectations.expectations as gxe
from great_expectations.expectations.row_conditions import Condition

from quality.definitions import CRITICAL, Severity

Bound = int | float | date | datetime | None


def _instant(value: Bound) -> Bound:
    """Dates as midnight datetimes: GX compares pandas datetime columns with datetimes."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    return value


def not_null(
    column: str, *, severity: Severity = CRITICAL, when: Condition | None = None
) -> gxe.Expectation:
    return gxe.ExpectColumnValuesToNotBeNull(column=column, severity=severity, row_condition=when)


def null(column: str, *, severity: Severity = CRITICAL) -> gxe.Expectation:
    """For a column that names a problem (a derived rule column): no row may have one."""
    return gxe.ExpectColumnValuesToBeNull(column=column, severity=severity)


def in_set(column: str, values: Iterable[object], *, severity: Severity = CRITICAL):
    return gxe.ExpectColumnValuesToBeInSet(
        column=column, value_set=sorted(set(values), key=str), severity=severity
    )


def between(
    column: str,
    low: Bound = None,
    high: Bound = None,
    *,
    severity: Severity = CRITICAL,
    when: Condition | None = None,
) -> gxe.Expectation:
    return gxe.ExpectColumnValuesToBeBetween(
        column=column,
        min_value=_instant(low),
        max_value=_instant(high),
        severity=severity,
        row_condition=when,
    )


def equals(column: str, value: int, *, severity: Severity = CRITICAL) -> gxe.Expectation:
    """A computed difference or count that must be exactly `value` on every row."""
    return between(column, value, value, severity=severity)


def matches(column: str, regex: str, *, severity: Severity = CRITICAL) -> gxe.Expectation:
    """Groups made non-capturing: pandas, which GX asks, warns about capturing ones."""
    pattern = re.sub(r"\((?!\?)", "(?:", regex)
    return gxe.ExpectColumnValuesToMatchRegex(column=column, regex=pattern, severity=severity)


def pair_in_set(
    column_a: str,
    column_b: str,
    pairs: Iterable[tuple[object, object]],
    *,
    severity: Severity = CRITICAL,
) -> gxe.Expectation:
    """(column_a, column_b) one of `pairs`; a row with a null is not judged (a null cannot
    match a pair; the not-null expectations report it)."""
    return gxe.ExpectColumnPairValuesToBeInSet(
        column_A=column_a,
        column_B=column_b,
        value_pairs_set=sorted(set(pairs), key=str),
        ignore_row_if="either_value_is_missing",
        severity=severity,
    )


def pair_equal(column_a: str, column_b: str, *, severity: Severity = CRITICAL):
    return gxe.ExpectColumnPairValuesToBeEqual(
        column_A=column_a, column_B=column_b, severity=severity
    )


def at_least(column_a: str, column_b: str, *, severity: Severity = CRITICAL):
    """column_a >= column_b on every row."""
    return gxe.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A=column_a, column_B=column_b, or_equal=True, severity=severity
    )


def unique(*columns: str, severity: Severity = CRITICAL) -> gxe.Expectation:
    return gxe.ExpectCompoundColumnsToBeUnique(column_list=list(columns), severity=severity)


def no_rows(*, severity: Severity = CRITICAL) -> gxe.Expectation:
    """For a frame that lists problems: it must be empty (its rows are the failing values)."""
    return gxe.ExpectTableRowCountToEqual(value=0, severity=severity)
