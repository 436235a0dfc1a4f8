"""Disclosure control: no suppressed cell can be narrowed below what the requirement asks.

Checked the way an intruder would attack, independently of `core.disclosure`: the
published cells turn every relation into a linear equation (or inequality), every
suppressed cell is at least 1 (zeros are never suppressed), cells of an earlier publication
that did not change are the same unknowns, and scipy's linear programming (HiGHS) gives each
suppressed cell's feasible interval: a primary cell's must reach the threshold and span at
least the threshold, a secondary cell's must not be a point."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import numpy as np
import polars as pl
import pytest
from scipy.optimize import linprog

from core.disclosure import (
    CURRENT,
    LOWER,
    UPPER,
    Cell,
    Dimension,
    Link,
    ProtectionError,
    Publication,
    Relation,
    protect,
    public_values,
)
from core.settings import Requirement, StructureSettings
from publication import population
from publication.datasets import (
    crim_just_dimensions,
    crim_just_observations,
    ej_xb_conv_dimensions,
    ej_xb_conv_observations,
)
from publication.linked_tables import crim_just_area_links
from publication.partners.breakdowns import table_dimensions as partner_dimensions
from publication.partners.config import load_partners
from sdmx_export.codelists import AGE, CITIZEN, SEX
from sdmx_export.structures import build_structures
from sdmx_export.validation import read_back, validate_sdmx_file
from sdmx_export.writers import MessageHeader, write_structure_specific

SEX_DIM = Dimension.from_code_list("sex", SEX)
AGE_DIM = Dimension.from_code_list("age", AGE)
CITIZEN_DIM = Dimension.from_code_list("citizen", CITIZEN)
REGION_DIM = Dimension(
    "region", ("TOTAL", "R1", "R2", "R3", "R4"), (Relation("TOTAL", ("R1", "R2", "R3", "R4")),)
)
TABLES = [
    [SEX_DIM, AGE_DIM],
    [SEX_DIM, CITIZEN_DIM, REGION_DIM],
    [AGE_DIM, CITIZEN_DIM],
    [SEX_DIM, AGE_DIM, CITIZEN_DIM],
]
THRESHOLD = 3


def aggregate(leaves: pl.DataFrame, dimensions: list[Dimension]) -> pl.DataFrame:
    """Leaf counts summed up every exact hierarchy of the dimensions."""
    table = leaves
    for dimension in dimensions:
        parent = {part: r.total for r in dimension.relations for part in r.parts}
        ancestors = {}
        for code in dimension.codes:
            chain = [code]
            while chain[-1] in parent:
                chain.append(parent[chain[-1]])
            ancestors[code] = chain
        table = (
            table.with_columns(
                pl.col(dimension.column).replace_strict(ancestors, return_dtype=pl.List(pl.String))
            )
            .explode(dimension.column)
            .group_by([d.column for d in dimensions])
            .agg(pl.col("n").sum())
        )
    return table


def random_table(dimensions: list[Dimension], seed: int) -> pl.DataFrame:
    """Random counts in the leaf cells, many of them small, summed up every hierarchy."""
    rng = np.random.default_rng(seed)
    mean = [0.8, 1.5, 3.0, 6.0][seed % 4]
    leaves = [[c for c in d.codes if c not in {r.total for r in d.relations}] for d in dimensions]
    rows = [
        (*cell, int(rng.poisson(mean)) if rng.random() < 0.7 else 0)
        for cell in itertools.product(*leaves)
    ]
    table = pl.DataFrame(rows, schema=[*(d.column for d in dimensions), "n"], orient="row")
    return aggregate(table, dimensions)


class Intruder:
    """What an intruder can compute from published tables: one unknown per suppressed cell
    (an unchanged cell of several publications is one unknown), equations and inequalities
    from every relation of every table, bounds from the rule that zeros are published."""

    def __init__(self) -> None:
        self.unknowns: dict[tuple, int] = {}
        self.known: dict[tuple, float] = {}
        self.truth: dict[int, int] = {}
        self.primary: dict[int, bool] = {}
        self.rows: list[tuple[dict[int, float], float, bool]] = []  # coefficients, rhs, exact

    def publish(self, name: str, table: pl.DataFrame, dimensions: list[Dimension],
                value: str, same_as: dict[tuple, str] | None = None) -> None:  # fmt: skip
        """Add one published table (true values and CONF_STATUS; the intruder sees only the
        free ones). `same_as` maps a cell key to the name of an earlier table holding the same
        unknown (an unchanged cell of an earlier vintage)."""
        columns = [d.column for d in dimensions]
        cells = {tuple(r[:-2]): (r[-2], r[-1]) for r in
                 table.select(*columns, value, "CONF_STATUS").iter_rows()}  # fmt: skip
        self.known |= {(name, key): float(v) for key, (v, status) in cells.items()
                       if status == "F"}  # fmt: skip

        def term(key: tuple) -> tuple[int | None, float]:
            if key not in cells and any(
                code in d.unpublished for code, d in zip(key, dimensions, strict=True)
            ):
                return self.unknowns.setdefault((name, key), len(self.unknowns)), 0.0
            truth, status = cells.get(key, (0, "F"))
            if status == "F":
                return None, float(truth)
            owner = (same_as or {}).get(key, name)
            unknown = self.unknowns.setdefault((owner, key), len(self.unknowns))
            self.truth[unknown] = int(truth)
            self.primary[unknown] = self.primary.get(unknown, False) or status == "C"
            return unknown, 0.0

        for axis, dimension in enumerate(dimensions):
            others = [d.codes for k, d in enumerate(dimensions) if k != axis]
            for relation, rest in itertools.product(dimension.relations,
                                                    itertools.product(*others)):  # fmt: skip
                coefficients: dict[int, float] = {}
                rhs = 0.0
                for code, sign in [(relation.total, 1.0), *((p, -1.0) for p in relation.parts)]:
                    unknown, known = term((*rest[:axis], code, *rest[axis:]))
                    if unknown is None:
                        rhs -= sign * known
                    else:
                        coefficients[unknown] = coefficients.get(unknown, 0.0) + sign
                if coefficients:
                    self.rows.append((coefficients, rhs, relation.exact))

    def link(self, totals: list[tuple], parts: list[tuple], exact: bool = True) -> None:
        """sum(totals) = sum(parts) (or >=) across tables, cells named (table name, key): a
        published cell is its value, a suppressed one its unknown (zeros are published, and
        a cell a table leaves out is 0)."""
        coefficients: dict[int, float] = {}
        rhs = 0.0
        for cell, sign in [*((t, 1.0) for t in totals), *((p, -1.0) for p in parts)]:
            if cell in self.unknowns:
                j = self.unknowns[cell]
                coefficients[j] = coefficients.get(j, 0.0) + sign
            else:
                rhs -= sign * self.known.get(cell, 0.0)
        if coefficients:
            self.rows.append((coefficients, rhs, exact))

    def intervals(
        self, sample: int | None = None, table: str | None = None
    ) -> dict[tuple, tuple[float, float]]:
        """Each suppressed cell's feasible interval (of `sample` of them, chosen at random; of
        one table's)."""
        size = len(self.unknowns)
        eq = [(c, r) for c, r, exact in self.rows if exact]
        ge = [(c, r) for c, r, exact in self.rows if not exact]

        def matrix(rows):
            out = np.zeros((len(rows), size))
            for i, (coefficients, _) in enumerate(rows):
                for j, v in coefficients.items():
                    out[i, j] = v
            return out if rows else None

        a_eq, b_eq = matrix(eq), [r for _, r in eq] or None
        a_ub = -matrix(ge) if ge else None  # sum(c x) >= r  <=>  -sum(c x) <= -r
        b_ub = [-r for _, r in ge] or None
        found = {}
        bounds = [(1 if j in self.truth else 0, None) for j in range(size)]
        cells = [(key, j) for key, j in self.unknowns.items()
                 if j in self.truth and table in (None, key[0])]  # fmt: skip
        if sample is not None:
            picked = np.random.default_rng(sample).choice(len(cells), sample, replace=False)
            cells = [cells[i] for i in sorted(picked)]
        for key, j in cells:
            objective = np.zeros(size)
            objective[j] = 1.0
            low = linprog(objective, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds,
                          method="highs")  # fmt: skip
            high = linprog(-objective, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq,
                           bounds=bounds, method="highs")  # fmt: skip
            assert low.status == 0, (key, low.message)
            found[key] = (low.fun, np.inf if high.status == 3 else -high.fun)
        return found

    def unprotected(
        self,
        threshold: int = THRESHOLD,
        sample: int | None = None,
        table: str | None = None,
        found: dict[tuple, tuple[float, float]] | None = None,
    ) -> list[tuple]:
        """Every suppressed cell (of a sample, of a table; of the intervals `found` already)
        whose interval fails the requirement."""
        failing = []
        for key, (low, high) in (found or self.intervals(sample, table)).items():
            j = self.unknowns[key]
            assert low - 1e-6 <= self.truth[j] <= high + 1e-6, (key, low, high, self.truth[j])
            if self.primary[j]:
                ok = high >= threshold - 1e-6 and high - low >= threshold - 1e-6
            else:
                ok = high - low >= 1 - 1e-6
            if not ok:
                failing.append((key, self.truth[j], low, high))
        return failing


def audited(protected: pl.DataFrame, dimensions: list[Dimension], value: str = "n") -> Intruder:
    intruder = Intruder()
    intruder.publish("t", protected, dimensions, value)
    return intruder


@pytest.mark.parametrize("seed", range(12))
def test_no_suppressed_cell_can_be_narrowed(seed):
    dimensions = TABLES[seed % len(TABLES)]
    protected = protect(random_table(dimensions, seed), dimensions, value="n")
    assert (protected["CONF_STATUS"] != "F").any()
    intruder = audited(protected, dimensions)
    assert intruder.unprotected() == []
    # The interval the release records is reached at both ends by solutions the intruder
    # cannot exclude: inside the intruder's own, and wide enough by itself.
    mine = {
        ("t", tuple(r[:-3])): r[-3:]
        for r in protected.filter(pl.col("CONF_STATUS") != "F")
        .select(*(d.column for d in dimensions), "CONF_STATUS", LOWER, UPPER)
        .iter_rows()
    }
    for key, (low, high) in intruder.intervals().items():
        status, recorded_low, recorded_high = mine[key]
        assert low - 1e-6 <= recorded_low <= recorded_high <= high + 1e-6, key
        span = THRESHOLD if status == "C" else 1
        assert recorded_high - recorded_low >= span - 1e-6, key
        assert status == "D" or recorded_high >= THRESHOLD - 1e-6, key


@pytest.mark.parametrize("seed", range(4))
def test_primary_cells_are_the_small_non_zero_counts(seed):
    dimensions = TABLES[seed]
    table = random_table(dimensions, seed)
    protected = protect(table, dimensions, value="n", threshold=3)
    small = protected.filter(pl.col("n").is_between(1, 2))
    assert (small["CONF_STATUS"] == "C").all()
    assert (protected.filter(pl.col("CONF_STATUS") == "C")["n"].is_between(1, 2)).all()
    assert (protected.filter(pl.col("n") == 0)["CONF_STATUS"] == "F").all()
    assert protected.height == np.prod([len(d.codes) for d in dimensions])
    assert protect(table, dimensions, value="n").equals(protected)


def test_two_ones_under_a_published_total_take_the_total_with_them():
    """T = 2 = M 1 + F 1 (threshold 2): knowing zeros are never suppressed, M and F would
    both be 1."""
    table = pl.DataFrame({"sex": ["T", "M", "F"], "n": [2, 1, 1]})
    protected = protect(table, [SEX_DIM], value="n", threshold=2)
    assert dict(protected.select("sex", "CONF_STATUS").iter_rows()) == {
        "T": "D",
        "M": "C",
        "F": "C",
    }


def test_a_table_that_does_not_add_up_is_refused():
    table = pl.DataFrame({"sex": ["T", "M", "F"], "n": [10, 7, 2]})
    with pytest.raises(ValueError, match="sex: T is not the sum of M, F at sex=T"):
        protect(table, [SEX_DIM], value="n")


def test_a_public_table_has_no_suppressed_value():
    dimensions = TABLES[3]
    protected = protect(random_table(dimensions, 3), dimensions, value="n")
    public = public_values(protected, value="n")
    assert set(public["CONF_STATUS"].unique()) == {"F", "C"}  # one flag: C never told from D
    assert (
        public.filter(pl.col("CONF_STATUS") != "F")["n"].null_count()
        == public.filter(pl.col("CONF_STATUS") != "F").height
    )
    assert (
        public.filter(pl.col("CONF_STATUS") == "F")["n"].to_list()
        == protected.filter(pl.col("CONF_STATUS") == "F")["n"].to_list()
    )


def test_four_one_three_is_not_recoverable():
    """T=4, M=1, F=3: hiding M and F alone leaves M in [1, 3] (and with flags C and D apart,
    a D cell >= 3 gives M=1, F=3 exactly). The total has to go too."""
    table = pl.DataFrame({"sex": ["T", "M", "F"], "n": [4, 1, 3]})
    protected = protect(table, [SEX_DIM], value="n")
    assert dict(protected.select("sex", "CONF_STATUS").iter_rows()) == {
        "T": "D",
        "M": "C",
        "F": "D",
    }
    assert audited(protected, [SEX_DIM]).unprotected() == []
    public = public_values(protected, value="n")
    assert public["CONF_STATUS"].to_list() == ["C", "C", "C"]
    assert public["n"].null_count() == 3


def test_a_larger_total_keeps_a_protecting_neighbour():
    table = pl.DataFrame({"sex": ["T", "M", "F"], "n": [9, 7, 2]})
    protected = protect(table, [SEX_DIM], value="n")
    assert dict(protected.select("sex", "CONF_STATUS").iter_rows()) == {
        "T": "F",
        "M": "D",
        "F": "C",
    }
    low, high = protected.filter(pl.col("sex") == "F").select(LOWER, UPPER).row(0)
    assert 1.0 <= low <= 2.0 and high <= 8.0 and high - low >= 3


def test_partial_relations_are_an_intruders_inequalities():
    """A parent code of which only some children are published: parent >= sum(children)."""
    iccs = Dimension(
        "iccs",
        ("TOTAL", "S1", "S1a", "S1b", "S2"),
        (Relation("TOTAL", ("S1", "S2")), Relation("S1", ("S1a", "S1b"), exact=False)),
    )
    table = pl.DataFrame(
        {"iccs": ["TOTAL", "S1", "S1a", "S1b", "S2"] * 3,
         "sex": ["T"] * 5 + ["M"] * 5 + ["F"] * 5,
         "n": [40, 20, 1, 12, 20, 22, 11, 1, 6, 11, 18, 9, 0, 6, 9]}
    )  # fmt: skip
    protected = protect(table, [iccs, SEX_DIM], value="n")
    assert audited(protected, [iccs, SEX_DIM]).unprotected() == []
    too_many = {"T": 30, "M": 15, "F": 15}  # S1a now more than its parent S1
    wrong = table.with_columns(
        pl.when(pl.col("iccs") == "S1a")
        .then(pl.col("sex").replace_strict(too_many, return_dtype=pl.Int64))
        .otherwise(pl.col("n"))
        .alias("n")
    )
    with pytest.raises(ValueError, match="S1 is less than the sum of S1a, S1b at iccs=S1"):
        protect(wrong, [iccs, SEX_DIM], value="n")


def test_a_table_that_cannot_be_protected_is_refused():
    """A table published before (say under a lower threshold) fixed T=5 and F=4: with a
    threshold of 3 now, M=1 is primary but anyone can subtract, and nothing already out can
    be hidden again."""
    table = pl.DataFrame({"sex": ["T", "M", "F"], "n": [5, 1, 4]})
    earlier = table.with_columns(pl.lit("F").alias("CONF_STATUS"))
    with pytest.raises(ProtectionError, match="sex=M cannot be protected"):
        protect(table, [SEX_DIM], value="n", published=[earlier])
    relaxed = Requirement(3, primary_span=10, secondary_span=10)
    assert protect(table, [SEX_DIM], value="n", requirement=relaxed)["CONF_STATUS"].to_list() == [
        "D",
        "C",
        "D",
    ]


def revised(table: pl.DataFrame, dimensions: list[Dimension], seed: int) -> pl.DataFrame:
    """`table` after a revision: a few leaf cells change by one or two persons, every total
    follows."""
    rng = np.random.default_rng(seed + 100)
    columns = [d.column for d in dimensions]
    totals = {r.total for d in dimensions for r in d.relations}
    leaves = table.filter(~pl.any_horizontal(pl.col(c).is_in(list(totals)) for c in columns))
    change = rng.choice(leaves.height, size=3, replace=False)
    deltas = np.zeros(leaves.height, dtype=np.int64)
    deltas[change] = rng.choice([-2, -1, 1, 2], size=3)
    leaves = leaves.with_columns((pl.col("n") + pl.Series(deltas)).clip(0).alias("n"))
    return aggregate(leaves, dimensions)


def test_two_vintages_cannot_be_differenced():
    """v1 published, then a revision: v2 protected alone may hide other cells, and an intruder
    who takes v1's unchanged cells as v2's pins cells of either; protected with v1 it cannot."""
    unsafe = 0
    for seed in range(6):
        dimensions = TABLES[seed % len(TABLES)]
        v1 = protect(random_table(dimensions, seed), dimensions, value="n")
        table2 = revised(v1.select(*(d.column for d in dimensions), "n"), dimensions, seed)
        alone = protect(table2, dimensions, value="n")
        together = protect(table2, dimensions, value="n", published=[v1])
        for v2, counts in ((alone, False), (together, True)):
            intruder = Intruder()
            intruder.publish("v1", v1, dimensions, "n")
            columns = [d.column for d in dimensions]
            same = v1.join(v2, on=columns, suffix="_2").filter(
                (pl.col("n") == pl.col("n_2"))
                & (pl.col("CONF_STATUS") != "F")
                & (pl.col("CONF_STATUS_2") != "F")
            )
            unchanged = {r: "v1" for r in same.select(columns).iter_rows()}
            intruder.publish("v2", v2, dimensions, "n", same_as=unchanged)
            failing = intruder.unprotected()
            if counts:
                assert failing == [], seed
            else:
                unsafe += bool(failing)
    assert unsafe > 0, "independent protection of two vintages should be attackable"


def test_monthly_and_annual_tables_cannot_be_differenced():
    """Months published first, each protected on its own (M1's one man hidden); the annual
    table of the same persons (YEAR = the sum of the months) has no small cell, yet published
    alone it gives M1's man away: 10 men in the year less the 4 and 5 of M2 and M3. Protected
    together with the months already published, it hides what that would reveal."""
    months_codes = ("M1", "M2", "M3")
    period = Dimension("period", ("YEAR", *months_codes), (Relation("YEAR", months_codes),))
    leaves = pl.DataFrame(
        [("M1", "M", 1), ("M1", "F", 5), ("M2", "M", 4), ("M2", "F", 6), ("M3", "M", 5),
         ("M3", "F", 4)], schema=["period", "sex", "n"], orient="row",
    )  # fmt: skip
    table = aggregate(leaves, [period, SEX_DIM])
    months = [
        protect(
            table.filter(pl.col("period") == m).drop("period"), [SEX_DIM], value="n"
        ).with_columns(pl.lit(m).alias("period"))
        for m in ("M1", "M2", "M3")
    ]
    assert months[0].filter(pl.col("sex") == "M")["CONF_STATUS"].item() == "C"
    year_alone = protect(
        table.filter(pl.col("period") == "YEAR").drop("period"), [SEX_DIM], value="n"
    ).with_columns(pl.lit("YEAR").alias("period"))
    assert (year_alone["CONF_STATUS"] == "F").all()
    columns = ["period", "sex", "n", "CONF_STATUS"]
    independent = pl.concat([t.select(columns) for t in [*months, year_alone]])
    attacked = audited(independent, [period, SEX_DIM]).unprotected()
    assert (("t", ("M1", "M")), 1, 1.0, 1.0) in attacked

    together = protect(table, [period, SEX_DIM], value="n", published=months)
    assert audited(together, [period, SEX_DIM]).unprotected() == []
    for month in months:  # what was published stays as it was
        kept = together.join(month.select("period", "sex", "CONF_STATUS"), on=["period", "sex"])
        assert (kept["CONF_STATUS"] == kept["CONF_STATUS_right"]).all()
    assert (together.filter(pl.col("period") == "YEAR")["CONF_STATUS"] != "F").any()


CODE_DIM = Dimension("code", ("TOTAL", "A", "B", "C"), (Relation("TOTAL", ("A", "B", "C")),))
AREA_DIM = Dimension("area", ("ALL", "X", "Y"), (Relation("ALL", ("X", "Y")),))
CIT_DIM = Dimension("cit", ("T", "N", "O"), (Relation("T", ("N", "O")),))
# Area X is code A, area Y is code B (as EJ_XB_CONV's crime areas are CRIM_JUST's codes);
# code C is in no area, so the areas' total is at most the codes'.
AREA_LINKS = [
    ([("t2", ("X", "T"))], [("t1", ("A", "T"))], True),
    ([("t2", ("Y", "T"))], [("t1", ("B", "T"))], True),
    ([("t1", ("TOTAL", "T"))], [("t2", ("ALL", "T"))], False),
]


def linked_tables(seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The same generated persons counted twice: by code and sex, and by area and citizenship."""
    rng = np.random.default_rng(seed)
    persons = pl.DataFrame(
        [
            (code, sex, cit, int(rng.poisson([0.6, 1.5, 4.0][seed % 3])))
            for code, sex, cit in itertools.product("ABC", ("M", "F"), ("N", "O"))
        ],
        schema=["code", "sex", "cit", "n"],
        orient="row",
    )
    by_code = aggregate(persons.drop("cit"), [CODE_DIM, SEX_DIM])
    in_area = persons.filter(pl.col("code") != "C").select(
        pl.col("code").replace_strict({"A": "X", "B": "Y"}).alias("area"), "cit", "n"
    )
    return by_code, aggregate(in_area, [AREA_DIM, CIT_DIM])


def test_linked_tables_cannot_be_combined():
    """Two tables of the same persons (by code and sex; by area and citizenship, an area
    being a code): each protected on its own, an intruder who knows that X is A and Y is B
    narrows hidden cells of one with the other's; the second protected with the first as a
    linked publication, nothing can be narrowed, and the first stays as published."""
    unsafe = 0
    for seed in range(12):
        by_code, by_area = linked_tables(seed)
        first = protect(by_code, [CODE_DIM, SEX_DIM], value="n")
        links = [
            Link(tuple(map(cell_of, totals)), tuple(map(cell_of, parts)), exact)
            for totals, parts, exact in AREA_LINKS
        ]
        linked = [Publication("t1", first, (CODE_DIM, SEX_DIM), "n")]
        alone = protect(by_area, [AREA_DIM, CIT_DIM], value="n")
        together = protect(by_area, [AREA_DIM, CIT_DIM], value="n", linked=linked, links=links)
        for second, joint in ((alone, False), (together, True)):
            intruder = Intruder()
            intruder.publish("t1", first, [CODE_DIM, SEX_DIM], "n")
            intruder.publish("t2", second, [AREA_DIM, CIT_DIM], "n")
            for totals, parts, exact in AREA_LINKS:
                intruder.link(totals, parts, exact)
            failing = intruder.unprotected()
            if joint:
                assert failing == [], (seed, failing)
            else:
                unsafe += bool(failing)
    assert unsafe > 0, "tables of the same persons protected apart should be attackable"


def cell_of(named: tuple[str, tuple[str, str]]) -> Cell:
    """An intruder's (table, key) of AREA_LINKS as disclosure's Cell (t2 is protected)."""
    table, key = named
    columns = ("code", "sex") if table == "t1" else ("area", "cit")
    return Cell(CURRENT if table == "t2" else "t1", tuple(zip(columns, key, strict=True)))


def test_a_link_a_revision_broke_is_not_given():
    """A link that does not hold on the true values (the first table is of an earlier state
    of the registers) is left out rather than forcing a wrong equation on the audit."""
    by_code, by_area = linked_tables(4)
    first = protect(by_code.with_columns(pl.col("n") * 2), [CODE_DIM, SEX_DIM], value="n")
    link = Link((Cell.of(CURRENT, area="X", cit="T"),), (Cell.of("t1", code="A", sex="T"),))
    linked = [Publication("t1", first, (CODE_DIM, SEX_DIM), "n")]
    protected = protect(by_area, [AREA_DIM, CIT_DIM], value="n", linked=linked, links=[link])
    assert protected.height == 9
    with pytest.raises(ValueError, match="link names area=Z"):
        bad = Link((Cell.of(CURRENT, area="Z", cit="T"),), (Cell.of("t1", code="A", sex="T"),))
        protect(by_area, [AREA_DIM, CIT_DIM], value="n", linked=linked, links=[bad])


def persons_convicted(seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    size = 600
    return (
        pl.DataFrame(
            {
                "ref_year": rng.choice([2022, 2023], size),
                "iccs_code": rng.choice(
                    [
                        "0101",
                        "0204",
                        "0502",
                        "06012",
                        "060121",
                        "07041",
                        "0903",
                        "08044",
                        "UNMAPPED",
                    ],
                    size,
                ),
                "sex": rng.choice(["M", "M", "M", "F"], size),
                "age_group": rng.choice(
                    ["Y14-17", "Y18-24", "Y25-34", "Y35-44", "Y45-54", "Y55-64", "Y_GE65"], size
                ),
                "citizen_group": rng.choice(
                    ["NAT", "NAT", "NAT", "EU27_2020_FOR", "NEU27_2020_FOR", "STLS", "UNK"], size
                ),
                "sanction": "fine",
                "via_ecris": rng.random(size) < 0.2,
                "persons": np.ones(size, dtype=np.int64),
            }
        )
        .group_by(
            "ref_year", "iccs_code", "sex", "age_group", "citizen_group", "sanction", "via_ecris"
        )
        .agg(pl.col("persons").sum())
    )


def test_public_deliveries_carry_flags_but_no_confidential_value(tmp_path):
    """EJ_XB_CONV made for the public: every suppressed cell flagged C with no value, in a
    file that passes the schemas; the free cells as delivered to Eurojust. Every dataflow of
    persons takes this path (datasets._protect_per_year); EJ_XB_CONV is the quick one."""
    settings = StructureSettings()
    structures = build_structures(settings)
    flow_id = "EJ_XB_CONV"
    persons = persons_convicted(21).filter(pl.col("ref_year") == 2022)
    eurostat = ej_xb_conv_observations(persons, settings)
    public = ej_xb_conv_observations(persons, settings, public=True)
    assert set(eurostat["CONF_STATUS"].unique()) == {"F", "C", "D"}
    assert eurostat["OBS_VALUE"].null_count() == 0
    header = MessageHeader("PUBLIC_1", datetime(2025, 3, 1, tzinfo=UTC), "LT_IVPK")
    path = write_structure_specific(
        tmp_path / "public.xml", structures.dataflow[flow_id], [public], header
    ).path
    assert validate_sdmx_file(path, structures) == []
    read = read_back(path)
    confidential = read.filter(pl.col("CONF_STATUS") != "F")
    assert confidential.height == eurostat.filter(pl.col("CONF_STATUS") != "F").height > 0
    assert confidential["OBS_VALUE"].null_count() == confidential.height
    free = read.filter(pl.col("CONF_STATUS") == "F")["OBS_VALUE"].to_list()
    assert (
        free
        == eurostat.filter(pl.col("CONF_STATUS") == "F")["OBS_VALUE"].cast(pl.Float64).to_list()
    )


def test_crim_just_and_ej_xb_conv_withstand_an_independent_audit_together():
    """A year made from generated convictions, delivered to Eurostat (CRIM_JUST: true values,
    C/D) and then to Eurojust (EJ_XB_CONV, protected with CRIM_JUST linked; the data make
    some EJ_XB_CONV cells known from CRIM_JUST and zeros, and cap others from above, so a
    secondary cell can only widen downwards), audited by scipy
    over every relation of the code lists (ICCS sub-codes as inequalities, UNMAPPED an
    unknown >= 0) and the crime areas' links to ICCS codes: none of EJ_XB_CONV's suppressed
    cells and none of 40 of CRIM_JUST's, drawn at random, can be narrowed, and the intervals
    EJ_XB_CONV's audit recorded (over both tables) lie inside the ones scipy finds."""
    settings = StructureSettings()
    persons = (
        persons_convicted(24)
        .filter(pl.col("ref_year") == 2022)
        .with_columns(  # nobody received through ECRIS for money laundering or cybercrime
            pl.col("via_ecris") & ~pl.col("iccs_code").is_in(["07041", "0903"])
        )
        .group_by(pl.exclude("persons"))
        .agg(pl.col("persons").sum())
    )
    crim_just = crim_just_observations(persons, settings)
    dimensions = tuple(crim_just_dimensions(settings))
    linked = [Publication("CRIM_JUST", crim_just.rename({"OBS_VALUE": "n"}), dimensions, "n")]
    links = crim_just_area_links("CRIM_JUST", CURRENT, settings)
    ej_xb_conv = ej_xb_conv_observations(persons, settings, linked=linked, links=links)
    intruder = Intruder()
    intruder.publish("CRIM_JUST", crim_just, crim_just_dimensions(settings), "OBS_VALUE")
    intruder.publish("EJ_XB_CONV", ej_xb_conv, ej_xb_conv_dimensions(settings), "OBS_VALUE")
    for link in crim_just_area_links("CRIM_JUST", "EJ_XB_CONV", settings):
        intruder.link(
            [(c.table, tuple(code for _, code in c.codes)) for c in link.totals],
            [(c.table, tuple(code for _, code in c.codes)) for c in link.parts],
            link.exact,
        )
    assert ej_xb_conv.filter(pl.col("CONF_STATUS") != "F").height > 0
    found = intruder.intervals(table="EJ_XB_CONV")
    assert intruder.unprotected(found=found) == []
    assert intruder.unprotected(sample=40, table="CRIM_JUST") == []
    recorded = {
        ("EJ_XB_CONV", tuple(r[:3])): r[3:]
        for r in ej_xb_conv.select("XB_CRIME", "CITIZEN", "ECRIS", LOWER, UPPER).iter_rows()
    }
    for key, (low, high) in found.items():
        assert low - 1e-6 <= recorded[key][0] <= recorded[key][1] <= high + 1e-6, key


def test_a_year_is_protected_with_every_package_of_its_months():
    """March: 1 Latvian and 2 Estonian women, hidden in package 1 of each partner; Estonia's
    are then moved to May (package 2 of March has nobody). The year has 4 EU women, 6 men.
    The intruder adds the year's women >= Latvia's package 1 + Estonia's package 1 (true:
    the same three women): the year protected with the packages and every such sum linked
    leaves no hidden woman narrower than required."""
    settings = StructureSettings()
    partners = load_partners(settings=settings)
    tables = {code: next(t for t in partners[code].tables
                         if t.source == "persons_convicted_by_citizenship")
              for code in ("LV", "EE")}  # fmt: skip
    codes = {"ICCS": ("ICCS02", "TOTAL"), "SEX": ("F", "M", "T"), "AGE": ("TOTAL",)}
    dimensions = tuple(partner_dimensions(tables["LV"].breakdowns, codes, settings))

    def package(women: int) -> pl.DataFrame:
        rows = [(iccs, sex, "TOTAL", n) for iccs in ("ICCS02", "TOTAL")
                for sex, n in (("F", women), ("M", 0), ("T", women))]  # fmt: skip
        table = pl.DataFrame(rows, schema=["ICCS", "SEX", "AGE", "n"], orient="row")
        return protect(table, list(dimensions), value="n")

    packages = {}
    deliveries = [("LV", "2022-03", 1, 1), ("EE", "2022-03", 1, 2), ("EE", "2022-03", 2, 0),
                  ("EE", "2022-05", 1, 2)]  # fmt: skip
    for code, month, number, women in deliveries:
        table = tables[code]
        name = f"{code} {month} package {number}"
        member = population._Member(table.dataflow_id, month, number, name, dimensions,
                                    population.persons_of_a_group(table, settings))  # fmt: skip
        packages[name] = (member, package(women))
    year_dimensions = [
        Dimension("ICCS", ("TOTAL",)),
        Dimension.from_code_list("SEX", SEX),
        Dimension("AGE", ("TOTAL",)),
        Dimension("CITIZEN", ("EU27_2020_FOR",)),
    ]
    year = pl.DataFrame([("TOTAL", sex, "TOTAL", "EU27_2020_FOR", n)
                         for sex, n in (("T", 10), ("M", 6), ("F", 4))],
                        schema=["ICCS", "SEX", "AGE", "CITIZEN", "n"], orient="row")  # fmt: skip
    members = [population._Member("CRIM_JUST", "2022", 1, CURRENT, tuple(year_dimensions))]
    members += [member for member, _ in packages.values()]
    protected = protect(
        year,
        year_dimensions,
        value="n",
        linked=[Publication(m.name, frame, dimensions, "n") for m, frame in packages.values()],
        links=population._links(members, settings),
    )
    intruder = Intruder()
    intruder.publish("year", protected, year_dimensions, "n")
    for name, (_, frame) in packages.items():
        intruder.publish(name, frame, list(dimensions), "n")
    women = ("TOTAL", "F", "TOTAL")
    intruder.link([("year", ("TOTAL", "F", "TOTAL", "EU27_2020_FOR"))],
                  [("LV 2022-03 package 1", women), ("EE 2022-03 package 1", women)],
                  exact=False)  # fmt: skip
    assert intruder.unprotected() == []
