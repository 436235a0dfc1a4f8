"""Disclosure control for tables of person counts (SPEC 7): primary and secondary
suppression, audited as intervals, returning CONF_STATUS per cell (F free, C primary,
D secondary) and each suppressed cell's feasible interval.

Primary: a cell counting 1 .. threshold-1 persons is confidential. A cell of 0 is not
(documented choice): it says nobody is in the group, so there is no person to identify, and
suppressing zeros would hide most of a sparse table without protecting anyone. Zeros are
never chosen for secondary suppression either, so an intruder knows every suppressed cell
is at least 1, and the audit gives the intruder exactly that knowledge.

The intruder's model (tau-ARGUS, sdcTable's `attack()`, Statistics Norway's
GaussSuppression `interval_suppression`): every published cell is known; every relation of
the table is known, exact ones (TOTAL = M + F) as equations and partial ones (an ICCS
section is at least the sum of its published sub-codes) as inequalities; cells a dimension
never publishes (`Dimension.unpublished`, e.g. offences not classified) are unknowns >= 0;
every suppressed cell is >= 1. Earlier publications of the same cells (earlier vintages of
the reference period, months already delivered) are tables of their own in the same
system, with their relations, and a cell whose value has not changed since is one unknown
in both (the intruder assumes unchanged what mostly is). Other tables published of the same
population (`Publication`: the other dataflow of persons convicted, partners' monthly
tables) are in the system too, with their relations and `Link`s to this table's cells and to
each other's: equations and inequalities across tables (a crime area of EJ_XB_CONV is the
sum of CRIM_JUST's codes it covers; a year counts at least the persons of any of its
months). A link is given to the intruder wherever it holds on the true values of the two
publications (the intruder may assume what is true), and left out where a revision between
them broke it. For every suppressed cell, linear
programming (HiGHS) minimises and maximises its value over all of that: its feasible
interval [lower, upper].

Requirement (`core.settings.Requirement`, configurable): a primary cell's interval
reaches the threshold (upper >= threshold) and spans at least the primary span (default
the threshold); a secondary cell's spans at least the secondary span (default 1: not a
point). It holds for the cells of earlier publications too: a new table may not undo them.

Secondary suppression:
1. What earlier publications fixed stays: a cell they suppressed stays suppressed (else
   the new table would reveal it), a cell they published with today's value stays
   published (it is known anyway). Linked publications are fixed as they were published:
   only the new table's cells can be suppressed to protect theirs.
2. Fixed point of the classic rule on exact relations: a relation whose only hidden cell
   is a suppressed one gets its smallest non-zero published cell suppressed too (a relation
   whose only hidden cell is never published has nothing to protect).
3. Audit. For every cell that fails its requirement, a repair: the smallest-cost deviation
   d of the cells' values that keeps every relation true, keeps every suppressed cell >= 1
   (unpublished ones >= 0), changes no published zero and no locked cell, and moves the
   failing cell up by what it lacks (upper must reach lower + span); a secondary cell that
   cannot move up (a published table caps it) may move down instead. Cost per unit of
   deviation of a published cell: 1 + ln(value), so small cells and few cells are chosen.
   Every published cell the deviation moves is suppressed: the deviated values are then a
   solution the intruder cannot exclude, so the failing cell's upper bound reaches its
   target, and every cell added has an interval wider than a point. Suppressions only
   grow and intervals only widen as they do, so the method ends. A failing cell whose
   repair is infeasible means the table cannot be protected: `ProtectionError`, which the
   publication gate turns into a refusal.

Public outputs then carry one flag for every suppressed cell (C, never C vs D) and no value
(`public_values`); Eurostat files keep the true values with C/D, as the transmission
requires. `audit_records` gives the audit for a release manifest.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import highspy
import numpy as np
import polars as pl

from core.reference import CodeListSpec
from core.settings import DEFAULT_THRESHOLD, Requirement

FREE, PRIMARY, SECONDARY = "F", "C", "D"
PUBLIC_SUPPRESSED = PRIMARY
STATUS = "CONF_STATUS"
LOWER, UPPER, IS_PRIMARY = "AUDIT_LOWER", "AUDIT_UPPER", "AUDIT_PRIMARY"
AUDIT_COLUMNS = (LOWER, UPPER, IS_PRIMARY)
INTRUDER = (
    "every published cell; every relation of the code lists, exact (total = sum of parts) or "
    "partial (a code >= the sum of its published sub-codes); unpublished codes as unknowns "
    ">= 0; every earlier publication of the same reference period with its relations, a cell "
    "unchanged since being the same unknown; every other published table of the same "
    "population with its relations and its links to this one wherever they hold on the true "
    "values; every suppressed cell is >= 1 (zeros are never suppressed)"
)
CURRENT = "the table"
TOLERANCE = 1e-7
PRIMAL_SIMPLEX = 4  # HiGHS option simplex_strategy
REPAIR_HOPS = 2


class ProtectionError(ValueError):
    """A table whose suppressed cells cannot be protected by suppressing more of it."""


@dataclass(frozen=True)
class Relation:
    """total = sum(parts) along one dimension; with `exact=False`, total >= sum(parts)
    (a parent code of which only some children are published)."""

    total: str
    parts: tuple[str, ...]
    exact: bool = True


@dataclass(frozen=True)
class Dimension:
    """A table dimension: its column, every code it takes, its additive relations, and the
    codes it never publishes (counted in a total, left out of every output)."""

    column: str
    codes: tuple[str, ...]
    relations: tuple[Relation, ...] = ()
    unpublished: tuple[str, ...] = ()

    @classmethod
    def from_code_list(cls, column: str, code_list: CodeListSpec) -> Dimension:
        """The parent links of an additive code list as relations (parent = sum of children)."""
        if not code_list.additive:
            raise ValueError(
                f"code list {code_list.id} is not additive; give its relations explicitly"
            )
        children: dict[str, list[str]] = {}
        for code in code_list.codes:
            if code.parent is not None:
                children.setdefault(code.parent, []).append(code.id)
        return cls(
            column,
            tuple(code.id for code in code_list.codes),
            tuple(Relation(total, tuple(parts)) for total, parts in children.items()),
        )


@dataclass(frozen=True)
class Publication:
    """Another table published of the same population, as delivered: its cells with true
    values and CONF_STATUS, and its dimensions. `name` is how `Link`s and messages name it."""

    name: str
    frame: pl.DataFrame
    dimensions: tuple[Dimension, ...]
    value: str


@dataclass(frozen=True)
class Cell:
    """One cell of a table of the system: the table's name (CURRENT for the table being
    protected, a Publication's name, or `earlier_vintage(i)`) and its code per dimension."""

    table: str
    codes: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, table: str, **codes: str) -> Cell:
        return cls(table, tuple(codes.items()))


@dataclass(frozen=True)
class Link:
    """sum(totals) = sum(parts), or >= with `exact=False`, between cells of different tables."""

    totals: tuple[Cell, ...]
    parts: tuple[Cell, ...]
    exact: bool = True


def earlier_vintage(index: int) -> str:
    """The name of the `index`-th table of `protect(published=...)` in `Cell`s."""
    return f"earlier publication {index + 1}"


def protect(
    table: pl.DataFrame,
    dimensions: Sequence[Dimension],
    *,
    value: str,
    threshold: int = DEFAULT_THRESHOLD,
    requirement: Requirement | None = None,
    published: Sequence[pl.DataFrame] = (),
    linked: Sequence[Publication] = (),
    links: Sequence[Link] = (),
) -> pl.DataFrame:
    """Every published cell of the cross product of the dimensions' codes (absent cells
    count 0; cells of unpublished codes are left out), in code order, with `value`,
    CONF_STATUS and, for suppressed cells, the audit (AUDIT_COLUMNS: the interval, upper
    +inf when unbounded, and whether the cell is primary, which a public table's single flag
    no longer says).

    `published`: earlier publications of the same kind of table as delivered, with true
    values (dimension columns, `value`, CONF_STATUS). `linked`: other tables of the same
    population as published, and `links`: the relations between their cells and this
    table's (or the earlier publications', `earlier_vintage`). Raises ValueError if a table
    does not add up or a link names a table or cell that does not exist, and
    ProtectionError if the table cannot be protected."""
    requirement = requirement or Requirement(threshold)
    current = _Cells.of_table(table, dimensions, value)
    earlier = [
        _Cells.of_publication(frame, dimensions, value, earlier_vintage(i))
        for i, frame in enumerate(published)
    ]
    others = [_Cells.of_publication(p.frame, p.dimensions, p.value, p.name) for p in linked]
    state = _State.of(current, earlier, requirement, others, links)
    _lock_what_is_known(state)
    _single_suppression_rule(state)
    bounds = _secure(state, requirement)
    return current.frame(state.status[: current.size], bounds)


def public_values(table: pl.DataFrame, *, value: str) -> pl.DataFrame:
    """`table` as the public may see it: every suppressed cell (C or D) flagged C alone,
    with no value, so the flags cannot tell primary from secondary cells apart."""
    hidden = pl.col(STATUS) != FREE
    return table.with_columns(
        pl.when(hidden).then(None).otherwise(pl.col(value)).alias(value),
        pl.when(hidden).then(pl.lit(PUBLIC_SUPPRESSED)).otherwise(pl.col(STATUS)).alias(STATUS),
    )


def audit_records(
    protected: pl.DataFrame,
    series: Sequence[str],
    requirement: Requirement,
    *,
    time: str | None = None,
) -> dict[str, object]:
    """The audit of a protected table for a release manifest: the threshold, the
    requirement, what the intruder was given, and per suppressed cell its series key (the
    `series` columns joined by dots, as in release_cells), its period, whether it is primary
    and the interval the audit proved (upper null when unbounded; `_audit`)."""
    rows = protected.filter(pl.col(STATUS) != FREE).sort([*series, *([time] if time else [])])
    return {
        "threshold": requirement.threshold,
        "requirement": requirement.describe(),
        "intruder_knows": INTRUDER,
        "bounds": (
            "lower and upper are values of the cell in solutions the intruder cannot exclude "
            "(the true values are one): its exact feasible interval contains [lower, upper]; "
            "upper null: unbounded"
        ),
        "suppressed_cells": [
            {
                "series_key": ".".join(str(row[k]) for k in series),
                **({"time_period": str(row[time])} if time else {}),
                "primary": row[IS_PRIMARY],
                "lower": _bound(row[LOWER]),
                "upper": _bound(row[UPPER]),
            }
            for row in rows.iter_rows(named=True)
        ],
    }


def _bound(value: float | None) -> float | int | None:
    if value is None or math.isinf(value):
        return None
    nearest = round(value)
    return nearest if abs(value - nearest) < 1e-6 else round(value, 6)


class _Cells:
    """One table as a flat array of cells in code order: values, which cells it never
    publishes, and (for an earlier publication) the status each cell was published with."""

    def __init__(
        self,
        dimensions: Sequence[Dimension],
        value: str,
        values: np.ndarray,
        status: np.ndarray | None = None,
    ) -> None:
        self.dimensions = list(dimensions)
        self.value = value
        self.shape = tuple(len(d.codes) for d in self.dimensions)
        self.values = values
        self.status = status
        self.size = values.size
        grid = np.indices(self.shape).reshape(len(self.shape), -1)
        self.absent = np.zeros(self.size, dtype=bool)
        self.unpublished = np.zeros(self.size, dtype=bool)
        for axis, dimension in enumerate(self.dimensions):
            hidden_codes = [dimension.codes.index(code) for code in dimension.unpublished]
            self.unpublished |= np.isin(grid[axis], hidden_codes)
        self.name = CURRENT

    @classmethod
    def of_table(cls, table: pl.DataFrame, dimensions: Sequence[Dimension], value: str) -> _Cells:
        shape = tuple(len(d.codes) for d in dimensions)
        values = np.zeros(int(np.prod(shape)), dtype=np.int64)
        flat = _positions(table, dimensions, shape)
        if np.unique(flat).size != flat.size:
            raise ValueError("the table has the same cell more than once")
        counts = table[value].to_numpy()
        if (counts < 0).any():
            raise ValueError(f"{value} has negative counts")
        values[flat] = counts
        return cls(dimensions, value, values)

    @classmethod
    def of_publication(
        cls, frame: pl.DataFrame, dimensions: Sequence[Dimension], value: str, name: str
    ) -> _Cells:
        """An earlier publication as delivered (true values and flags); cells of unpublished
        codes, absent from it, come back from its exact relations."""
        shape = tuple(len(d.codes) for d in dimensions)
        size = int(np.prod(shape))
        values = np.full(size, -1, dtype=np.int64)
        status = np.full(size, FREE, dtype=object)
        flat = _positions(frame, dimensions, shape)
        if frame[value].null_count():
            raise ValueError("an earlier publication is given without its true values")
        values[flat] = frame[value].to_numpy()
        status[flat] = frame[STATUS].to_numpy()
        cells = cls(dimensions, value, values, status)
        cells.name = name
        cells.complete()
        return cells

    def complete(self) -> None:
        """Fill cells left out of a publication (unpublished codes) from exact relations:
        total minus the other parts, or the sum of the parts; the rest is `absent`."""
        missing = self.values < 0
        while missing.any():
            found = False
            for rows, exact in self.relation_rows():
                if not exact:
                    continue
                gaps = missing[rows]
                single = np.flatnonzero(gaps.sum(axis=1) == 1)
                for r in single:
                    row, gap = rows[r], gaps[r]
                    known = self.values[row[~gap]]
                    signs = np.where(np.arange(row.size) == 0, 1, -1)[~gap]
                    filled = (signs * known).sum() if not gap[0] else known.sum()
                    self.values[row[gap][0]] = filled
                    missing[row[gap][0]] = False
                    found = True
            if not found:
                break
        # What is still missing lies outside this publication (a month's table among the
        # months of a year): not known from it, and no relation of it reaches there.
        self.absent = missing
        self.values[missing] = 0

    def relation_rows(self) -> list[tuple[np.ndarray, bool]]:
        """Each relation of each dimension as a block of cell-id rows (total first), without
        the rows that reach outside the table (absent cells)."""
        ids = np.arange(self.size).reshape(self.shape)
        blocks = []
        for axis, dimension in enumerate(self.dimensions):
            index = {code: i for i, code in enumerate(dimension.codes)}
            for relation in dimension.relations:
                members = [index[relation.total], *(index[p] for p in relation.parts)]
                block = np.moveaxis(np.take(ids, members, axis=axis), axis, -1).reshape(
                    -1, len(members)
                )
                blocks.append((block[~self.absent[block].any(axis=1)], relation.exact))
        return blocks

    def check_additive(self) -> None:
        for (block, exact), relation, dimension in zip(
            self.relation_rows(),
            [r for d in self.dimensions for r in d.relations],
            [d for d in self.dimensions for _ in d.relations],
            strict=True,
        ):
            total = self.values[block[:, 0]]
            parts = self.values[block[:, 1:]].sum(axis=1)
            wrong = np.flatnonzero(total != parts if exact else total < parts)
            if wrong.size:
                raise ValueError(
                    f"{self.name}: {dimension.column}: {relation.total} is "
                    f"{'not the sum' if exact else 'less than the sum'} of "
                    f"{', '.join(relation.parts)} at {self.describe(int(block[wrong[0], 0]))}"
                )

    def position(self, codes: tuple[tuple[str, str], ...]) -> int:
        """The flat index of the cell with these codes (column, code) of every dimension."""
        given = dict(codes)
        if set(given) != {d.column for d in self.dimensions}:
            raise ValueError(f"a link names a cell of {self.name} by {sorted(given)}")
        index = []
        for d in self.dimensions:
            if given[d.column] not in d.codes:
                raise ValueError(f"a link names {d.column}={given[d.column]} of {self.name}")
            index.append(d.codes.index(given[d.column]))
        return int(np.ravel_multi_index(index, self.shape))

    def describe(self, cell: int) -> str:
        position = np.unravel_index(cell, self.shape)
        return ", ".join(
            f"{d.column}={d.codes[i]}" for d, i in zip(self.dimensions, position, strict=True)
        )

    def frame(self, status: np.ndarray, bounds: dict[int, tuple[float, float]]) -> pl.DataFrame:
        grid = np.indices(self.shape).reshape(len(self.shape), -1)
        columns = {
            d.column: pl.Series(d.column, np.array(d.codes, dtype=object)[grid[i]], dtype=pl.String)
            for i, d in enumerate(self.dimensions)
        }
        lower = np.full(self.size, np.nan)
        upper = np.full(self.size, np.nan)
        for cell, (low, high) in bounds.items():
            if cell < self.size:
                lower[cell], upper[cell] = low, high
        frame = pl.DataFrame(
            {
                **columns,
                self.value: self.values,
                STATUS: pl.Series(STATUS, status, dtype=pl.String),
                LOWER: pl.Series(LOWER, lower).fill_nan(None),
                UPPER: pl.Series(UPPER, upper).fill_nan(None),
            }
        ).with_columns(
            pl.when(pl.col(STATUS) != FREE).then(pl.col(STATUS) == PRIMARY).alias(IS_PRIMARY)
        )
        return frame.filter(pl.Series(~self.unpublished))


def _positions(
    table: pl.DataFrame, dimensions: Sequence[Dimension], shape: tuple[int, ...]
) -> np.ndarray:
    positions = []
    for dimension in dimensions:
        index = {code: i for i, code in enumerate(dimension.codes)}
        column = table[dimension.column].to_list()
        unknown = sorted({c for c in column if c not in index}, key=str)
        if unknown:
            raise ValueError(f"{dimension.column} has codes outside the table: {unknown[:5]}")
        positions.append(np.array([index[c] for c in column], dtype=np.int64))
    if not table.height:
        return np.array([], dtype=np.int64)
    return np.ravel_multi_index(positions, shape)


@dataclass
class _State:
    """The current table, the earlier publications and the linked ones as one system of
    cells (the current table's cells first). Relations and links are rows of `members`
    (cell ids, totals first, padded with PAD, a published zero cell past the last) with
    `signs` (+1 totals, -1 parts, 0 padding): sum(sign * value) = 0 (exact) or >= 0
    (partial). `relations_of` indexes, per
    cell, the relations it is in (CSR: ids[pointers[c]:pointers[c + 1]])."""

    values: np.ndarray  # PAD's value, 0, is the last
    members: np.ndarray
    signs: np.ndarray
    exact: np.ndarray
    suppressed: np.ndarray  # published with a flag: has a requirement, >= 1
    unpublished: np.ndarray  # never published: an unknown >= 0, no requirement
    status: np.ndarray
    locked: np.ndarray  # its status may not change
    describe: Callable[[int], str]
    pointers: np.ndarray
    ids: np.ndarray
    current: int  # the current table's cells are 0 .. current - 1

    @classmethod
    def of(
        cls,
        current: _Cells,
        earlier: Sequence[_Cells],
        requirement: Requirement,
        others: Sequence[_Cells] = (),
        links: Sequence[Link] = (),
    ) -> _State:
        tables = [current, *earlier, *others]
        names = [c.name for c in tables]
        if len(set(names)) != len(names):
            raise ValueError(f"tables of the same name: {names}")
        for cells in tables:
            cells.check_additive()
        offsets = np.cumsum([0, *(c.size for c in tables)])
        values = np.concatenate([c.values for c in tables])
        rows: list[np.ndarray] = []
        leading: list[int] = []  # how many cells of each row are totals (sign +1)
        exact: list[bool] = []
        for offset, cells in zip(offsets, tables, strict=False):
            for block, is_exact in cells.relation_rows():
                rows.extend(block + offset)
                leading.extend([1] * block.shape[0])
                exact.extend([is_exact] * block.shape[0])
        unpublished = np.concatenate([c.unpublished for c in tables])
        absent = np.concatenate([c.absent for c in tables])
        status = np.full(values.size, FREE, dtype=object)
        primary = (current.values > 0) & (current.values < requirement.threshold)
        status[: current.size][primary & ~current.unpublished] = PRIMARY
        locked = np.zeros(values.size, dtype=bool)
        for offset, cells in zip(offsets[1:-1], [*earlier, *others], strict=True):
            span = slice(offset, offset + cells.size)
            # Public tables flag every suppressed cell C: which were primary, the values say.
            small = (cells.values > 0) & (cells.values < requirement.threshold)
            flagged = np.where(small, PRIMARY, SECONDARY)
            published = cells.unpublished | cells.absent | (cells.status == FREE)
            status[span] = np.where(published, FREE, flagged)
            locked[span] = True
        for offset, cells in zip(offsets[1:], earlier, strict=False):
            was_hidden = (cells.status != FREE) & ~cells.unpublished & ~cells.absent
            same = (cells.values == current.values) & ~cells.absent
            carried = was_hidden & (current.values > 0) & (status[: current.size] == FREE)
            status[: current.size][carried] = SECONDARY
            locked[: current.size] |= was_hidden & (current.values > 0)
            locked[: current.size] |= same & ~was_hidden & (status[: current.size] == FREE)
            # An unchanged cell is one unknown in both publications.
            linked = np.flatnonzero(
                same & ~cells.unpublished & ~cells.absent & ~current.unpublished
            )
            rows.extend(np.stack([linked + offset, linked], axis=1))
            leading.extend([1] * linked.size)
            exact.extend([True] * linked.size)
        by_name = dict(zip(names, zip(offsets, tables, strict=False), strict=True))

        def cell_id(cell: Cell) -> int:
            if cell.table not in by_name:
                raise ValueError(f"a link names a table that is not given: {cell.table}")
            offset, cells = by_name[cell.table]
            return int(offset) + cells.position(cell.codes)

        for link in links:
            members = np.array([cell_id(c) for c in (*link.totals, *link.parts)])
            if absent[members].any():
                continue  # a cell outside what its publication covered
            balance = (
                values[members[: len(link.totals)]].sum()
                - values[members[len(link.totals) :]].sum()
            )
            if balance < 0 or (link.exact and balance != 0):
                continue  # a revision between the two publications broke it: not known
            rows.append(members)
            leading.append(len(link.totals))
            exact.append(link.exact)
        suppressed = (status != FREE) & ~unpublished

        def describe(cell: int) -> str:
            table = int(np.searchsorted(offsets, cell, side="right")) - 1
            where = tables[table].describe(cell - int(offsets[table]))
            return where if table == 0 else f"{where} of {names[table]}"

        pad = values.size
        width = max((row.size for row in rows), default=1)
        members = np.full((len(rows), width), pad, dtype=np.int64)
        for r, row in enumerate(rows):
            members[r, : row.size] = row
        signs = np.where(members == pad, 0.0, -1.0)
        signs[np.arange(width) < np.array(leading, dtype=np.int64).reshape(-1, 1)] = 1.0
        real = members < pad
        relation_ids = np.broadcast_to(np.arange(len(rows))[:, None], members.shape)[real]
        order = np.argsort(members[real], kind="stable")
        counts = np.bincount(members[real], minlength=pad + 1)
        return cls(
            np.append(values, 0),
            members,
            signs,
            np.array(exact, dtype=bool),
            np.append(suppressed, False),
            np.append(unpublished, False),
            np.append(status, FREE),
            np.append(locked, True),
            describe,
            np.concatenate([[0], np.cumsum(counts)]),
            relation_ids[order],
            current.size,
        )

    def relations_touching(self, cells: np.ndarray) -> np.ndarray:
        """The relations any of `cells` is in, sorted, once each."""
        starts = self.pointers[cells]
        lengths = self.pointers[cells + 1] - starts
        # positions starts[i] .. starts[i] + lengths[i] - 1 of every cell, in one array
        positions = np.arange(lengths.sum()) + np.repeat(
            starts - np.cumsum(lengths) + lengths, lengths
        )
        marked = np.zeros(self.exact.size, dtype=bool)
        marked[self.ids[positions]] = True
        return np.flatnonzero(marked)

    @property
    def hidden(self) -> np.ndarray:
        return self.suppressed | self.unpublished

    def lower_bounds(self, cells: np.ndarray) -> np.ndarray:
        """What the intruder knows of a hidden cell's least value."""
        return np.where(self.suppressed[cells], 1.0, 0.0)

    def suppress(self, cells: np.ndarray) -> None:
        self.suppressed[cells] = True
        self.status[cells] = SECONDARY


def _lock_what_is_known(state: _State) -> None:
    """Cells of the new table that what is already published determines (an area of
    EJ_XB_CONV that is the sum of published CRIM_JUST cells; a total less its published
    parts; zeros, which are never suppressed) stay published: suppressing them hides
    nothing, and no suppression could widen them. Found along exact relations, to a fixed
    point."""
    known = (~state.hidden & state.locked) | ((state.values == 0) & ~state.unpublished)
    exact = state.members[state.exact]
    while True:
        open_cells = ~known[exact]
        single = exact[open_cells.sum(axis=1) == 1]
        found = np.unique(single[~known[single]])
        if not found.size:
            return
        known[found] = True
        free = found[(state.status[found] == FREE) & ~state.unpublished[found]]
        state.locked[free] = True


def _single_suppression_rule(state: _State) -> None:
    """Step 2: no exact relation keeps a single suppressed cell hidden alone (cheap, before
    the audit). A relation whose one hidden cell is never published (UNMAPPED) has nothing
    to protect."""
    exact = state.members[state.exact]
    changed = True
    while changed:
        changed = False
        hidden = state.hidden
        single = (hidden[exact].sum(axis=1) == 1) & state.suppressed[exact].any(axis=1)
        for r in np.flatnonzero(single):
            rows = exact[r]
            if hidden[rows].sum() != 1:
                continue  # an earlier suppression of this pass reached it
            open_cells = ~hidden[rows] & (state.values[rows] > 0) & ~state.locked[rows]
            candidates = rows[open_cells]
            if not candidates.size:
                continue  # the audit finds the cell determined and repairs or refuses
            cost = state.values[candidates] + np.where(candidates == rows[0], 0.5, 0.0)
            state.suppress(np.array([candidates[np.argmin(cost)]]))
            hidden = state.hidden
            changed = True


def _secure(state: _State, requirement: Requirement) -> dict[int, tuple[float, float]]:
    """Step 3: audit, repair the failing cells, until every requirement holds; returns the
    final interval of every suppressed cell. Failing cells are repaired one by one, each
    repair seeing the suppressions of the ones before (a repair that finds its cell already
    free to move adds nothing). Repairing a group's failing cells together by one deviation
    is 100x faster but suppresses about half as many cells again (measured on a year of
    CRIM_JUST), so it is not done."""
    while True:
        bounds = _audit(state, requirement)
        failing = [
            (cell, needed)
            for cell, (low, high) in sorted(bounds.items())
            if (needed := _shortfall(state, cell, low, high, requirement)) > 0
        ]
        if not failing:
            return bounds
        for cell, needed in failing:
            high = bounds[cell][1]
            added = _repair(state, {cell: needed})
            if added is None and state.status[cell] != PRIMARY:
                # A secondary cell capped from above (by a published table) can widen down.
                down = state.values[cell] - (high - requirement.secondary_span)
                added = _repair(state, {cell: -down})
            if added is None:
                # The interval is left out: it can be the cell's confidential value, and
                # this message reaches logs, run metadata and alert e-mails.
                raise ProtectionError(
                    f"the suppressed cell {state.describe(cell)} cannot be protected "
                    f"({requirement.describe()}): no further suppression widens its interval "
                    "enough"
                )
            state.suppress(added)


def _shortfall(
    state: _State, cell: int, low: float, high: float, requirement: Requirement
) -> float:
    """How far the cell's true value must be able to move up for its requirement to hold
    (0 when it holds)."""
    if state.status[cell] == PRIMARY:
        target = max(requirement.threshold, low + requirement.span_of_primary)
    else:
        target = low + requirement.secondary_span
    return 0.0 if high >= target - TOLERANCE else target - state.values[cell]


def _components(state: _State) -> list[tuple[np.ndarray, np.ndarray]]:
    """Groups of hidden cells joined by relations, each with the relations touching it."""
    hidden_mask = state.hidden
    hidden = np.flatnonzero(hidden_mask)
    parent = np.arange(state.values.size)

    def find(c: int) -> int:
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    touching = state.relations_touching(hidden)
    for row in state.members[touching]:
        joined = row[hidden_mask[row]]
        for other in joined[1:]:
            parent[find(int(joined[0]))] = find(int(other))
    roots = np.array([find(int(c)) for c in hidden], dtype=np.int64)
    return [
        (cells, state.relations_touching(cells))
        for cells in (hidden[roots == root] for root in np.unique(roots))
    ]


def _rows(
    state: _State, relations: np.ndarray, column_of: np.ndarray, columns_per_cell: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The relations as HiGHS rows over the cells that have a column (column_of >= 0): row
    starts, column indices and coefficients. With two columns per cell (a repair's up and
    down), the second gets the opposite sign."""
    members = state.members[relations]
    signs = state.signs[relations]
    columns = column_of[members]
    present = columns >= 0
    counts = present.sum(axis=1) * columns_per_cell
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int32)
    picked_columns = columns[present]
    picked_signs = signs[present]
    if columns_per_cell == 1:
        return starts, picked_columns.astype(np.int32), picked_signs
    index = np.stack([picked_columns * 2, picked_columns * 2 + 1], axis=1).ravel()
    coefficients = np.stack([picked_signs, -picked_signs], axis=1).ravel()
    return starts, index.astype(np.int32), coefficients


def _audit(state: _State, requirement: Requirement) -> dict[int, tuple[float, float]]:
    """An interval [lower, upper] inside every suppressed cell's feasible interval, each
    end reached by a solution the intruder cannot exclude, wide enough for the requirement
    where the cell meets it: by linear programming over the hidden cells of each group, the
    published ones being known. The true values are one such solution; one programme
    minimises all the group's cells at once (lower ends), then programmes maximise how many
    cells reach their targets at once (upper ends), each on the same warm-started model;
    only a cell that no joint solution lifts to its target gets programmes of its own,
    which give its exact interval. Proving each cell's requirement this way takes a few
    programmes per group instead of two per cell (a year of CRIM_JUST: ~5,000 fewer).
    A group no relation joins to the new table (cells of earlier or linked publications
    only) was audited when the last of them was published and nothing of it has changed:
    it is not audited again."""
    bounds: dict[int, tuple[float, float]] = {}
    hidden = state.hidden
    for cells, relations in _components(state):
        checked = state.suppressed[cells]
        if not checked.any() or not (state.members[relations] < state.current).any():
            continue  # already published and out of the new table's reach: audited then
        size = cells.size
        column_of = np.full(state.values.size, -1, dtype=np.int64)
        column_of[cells] = np.arange(size)
        members = state.members[relations]
        known = np.where(hidden[members], 0.0, state.signs[relations] * state.values[members])
        rhs = -known.sum(axis=1)
        upper = np.where(state.exact[relations], rhs, highspy.kHighsInf)
        starts, index, coefficients = _rows(state, relations, column_of)
        # Columns x (the cells) then y (x capped at its target): rows y_j - x_j <= 0.
        caps = (
            np.arange(size) * 2 + index.size,
            np.column_stack([np.arange(size) + size, np.arange(size)]).ravel().astype(np.int32),
            np.tile([1.0, -1.0], size),
        )
        solver = _Solver(
            np.concatenate([state.lower_bounds(cells), np.zeros(size)]),
            np.full(2 * size, highspy.kHighsInf),
            (
                np.concatenate([starts, caps[0]]).astype(np.int32),
                np.concatenate([index, caps[1]]),
                np.concatenate([coefficients, caps[2]]),
            ),
            np.concatenate([rhs, np.full(size, -highspy.kHighsInf)]),
            np.concatenate([upper, np.zeros(size)]),
            warm=True,
        )
        truth = state.values[cells].astype(float)
        low = np.minimum(truth, solver.optimum(np.concatenate([checked, np.zeros(size)]))[:size])
        primary = state.status[cells] == PRIMARY
        target = np.where(
            primary,
            np.maximum(requirement.threshold, low + requirement.span_of_primary),
            low + requirement.secondary_span,
        )
        high = truth.copy()
        short = checked & (high < target - TOLERANCE)
        while short.any():
            solver.cap(target, short)
            reached = solver.optimum(np.concatenate([np.zeros(size), short]), maximise=True)
            high = np.maximum(high, reached[:size])
            lifted = short & (high >= target - TOLERANCE)
            if not lifted.any():
                break
            short &= ~lifted
        for j in np.flatnonzero(short):  # exactly, so that no cell is repaired for nothing
            low[j] = solver.extreme(j, maximise=False)
            high[j] = solver.extreme(j, maximise=True)
        for j in np.flatnonzero(checked):
            bounds[int(cells[j])] = (float(low[j]), float(high[j]))
    return bounds


def _repair(state: _State, failing: dict[int, float]) -> np.ndarray | None:
    """Published cells to suppress so that each failing cell can move up by what it needs
    (module docstring, step 3), searched in a growing neighbourhood of relations; None if
    impossible."""
    within = np.zeros(state.values.size, dtype=bool)
    frontier = np.array(sorted(failing), dtype=np.int64)
    within[frontier] = True
    hops = REPAIR_HOPS
    while True:
        for _ in range(hops):
            around = np.zeros(state.values.size, dtype=bool)
            around[state.members[state.relations_touching(frontier)]] = True
            around[-1] = False  # the padding cell
            frontier = np.flatnonzero(around & ~within)
            within[frontier] = True
        found = _cheapest_deviation(state, np.flatnonzero(within), failing)
        hops = 2
        if found is not None or not frontier.size:
            return found


def _cheapest_deviation(
    state: _State, reach: np.ndarray, failing: dict[int, float]
) -> np.ndarray | None:
    """The LP of a repair over the cells in `reach` (cells outside do not move): columns
    are each movable cell's deviation up and down; published cells pay per unit; a failing
    cell moves up by what `failing` says it needs (down, when negative)."""
    values = state.values
    hidden = state.hidden
    movable = reach[hidden[reach] | ((values[reach] > 0) & ~state.locked[reach])]
    needed = np.zeros(movable.size)
    for cell, amount in failing.items():
        needed[movable == cell] = amount
    floor = np.where(hidden[movable], state.lower_bounds(movable), 1.0)
    price = np.where(hidden[movable], 0.0, 1.0 + np.log(np.maximum(values[movable], 1)))
    cost = np.repeat(price, 2)
    col_lower = np.stack([np.maximum(needed, 0.0), np.maximum(-needed, 0.0)], axis=1).ravel()
    up = np.where(needed < 0, 0.0, highspy.kHighsInf)
    down = np.where(needed > 0, 0.0, values[movable] - floor)
    col_upper = np.stack([up, down], axis=1).ravel()
    column_of = np.full(values.size, -1, dtype=np.int64)
    column_of[movable] = np.arange(movable.size)
    relations = state.relations_touching(movable)
    slack = (state.signs[relations] * values[state.members[relations]]).sum(axis=1)
    exact = state.exact[relations]
    solver = _Solver(
        col_lower,
        col_upper,
        _rows(state, relations, column_of, columns_per_cell=2),
        np.where(exact, 0.0, -slack),
        np.where(exact, 0.0, highspy.kHighsInf),
    )
    deviation = solver.minimise(cost)
    if deviation is None:
        return None
    moved = np.abs(deviation[0::2] - deviation[1::2]) > TOLERANCE
    return movable[moved & ~hidden[movable]]


class _Solver:
    """One HiGHS model, solved again for each objective (the basis is kept between solves,
    so the audit's many min/max problems on one model are warm-started)."""

    def __init__(
        self,
        col_lower: np.ndarray,
        col_upper: np.ndarray,
        rows: tuple[np.ndarray, np.ndarray, np.ndarray],
        row_lower: np.ndarray,
        row_upper: np.ndarray,
        *,
        warm: bool = False,
    ) -> None:
        self.highs = highspy.Highs()
        self.highs.setOptionValue("output_flag", False)
        self.highs.setOptionValue("threads", 1)
        if warm:
            # The audit changes only the objective between solves: the basis stays primal
            # feasible, so primal simplex goes on from it (5x faster than the default here).
            self.highs.setOptionValue("simplex_strategy", PRIMAL_SIMPLEX)
        else:
            # A repair's programme is solved once and is small: presolve costs more than it
            # saves (halves the repairs' time on a year of CRIM_JUST).
            self.highs.setOptionValue("presolve", "off")
        size = col_lower.size
        nothing = np.array([], dtype=np.int32)
        self.highs.addCols(
            size,
            np.zeros(size),
            col_lower.astype(float),
            col_upper.astype(float),
            0,
            nothing,
            nothing,
            np.array([], dtype=float),
        )
        self.size = size
        starts, index, coefficients = rows
        if starts.size:
            self.highs.addRows(
                starts.size,
                np.asarray(row_lower, dtype=float),
                np.asarray(row_upper, dtype=float),
                index.size,
                starts,
                index,
                coefficients.astype(float),
            )

    def extreme(self, column: int, *, maximise: bool) -> float:
        """The smallest or largest value of one column; +inf when unbounded above."""
        self.highs.changeColCost(column, 1.0)
        self.highs.changeObjectiveSense(
            highspy.ObjSense.kMaximize if maximise else highspy.ObjSense.kMinimize
        )
        self.highs.run()
        status = self.highs.getModelStatus()
        extreme = math.inf
        if status == highspy.HighsModelStatus.kOptimal:
            extreme = float(self.highs.getSolution().col_value[column])
        elif status != highspy.HighsModelStatus.kUnbounded:
            raise RuntimeError(
                "the disclosure audit's linear programme ended "
                + self.highs.modelStatusToString(status)
            )
        self.highs.changeColCost(column, 0.0)
        return extreme

    def optimum(self, cost: np.ndarray, *, maximise: bool = False) -> np.ndarray:
        """The solution optimising `cost` (a feasible, bounded programme)."""
        self.highs.changeColsCost(
            self.size, np.arange(self.size, dtype=np.int32), cost.astype(float)
        )
        self.highs.changeObjectiveSense(
            highspy.ObjSense.kMaximize if maximise else highspy.ObjSense.kMinimize
        )
        self.highs.run()
        status = self.highs.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(
                "the disclosure audit's linear programme ended "
                + self.highs.modelStatusToString(status)
            )
        solution = np.array(self.highs.getSolution().col_value)
        self.highs.changeColsCost(
            self.size, np.arange(self.size, dtype=np.int32), np.zeros(self.size)
        )
        return solution

    def cap(self, target: np.ndarray, which: np.ndarray) -> None:
        """Upper bounds of the second half of the columns (the audit's capped copies)."""
        half = self.size // 2
        self.highs.changeColsBounds(
            half,
            np.arange(half, self.size, dtype=np.int32),
            np.zeros(half),
            np.where(which, target, 0.0).astype(float),
        )

    def minimise(self, cost: np.ndarray) -> np.ndarray | None:
        """The solution minimising `cost`, or None when the constraints cannot be met."""
        self.highs.changeColsCost(
            self.size, np.arange(self.size, dtype=np.int32), cost.astype(float)
        )
        self.highs.changeObjectiveSense(highspy.ObjSense.kMinimize)
        self.highs.run()
        status = self.highs.getModelStatus()
        if status in (
            highspy.HighsModelStatus.kInfeasible,
            highspy.HighsModelStatus.kUnboundedOrInfeasible,
        ):
            return None
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(
                "the disclosure repair's linear programme ended "
                + self.highs.modelStatusToString(status)
            )
        return np.array(self.highs.getSolution().col_value)
