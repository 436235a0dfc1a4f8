"""Disclosure control: primary and secondary suppression leave no suppressed cell that can
be recomputed from the published ones. Checked the way an intruder would attack: the
published cells make every additive relation a linear equation; linear programming gives
each suppressed cell's feasible range, which must be wider than a point."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import numpy as np
import polars as pl
import pytest
from scipy.optimize import linprog

from sdmx_export.codelists import AGE, CITIZEN, SEX
from sdmx_export.datasets import crim_just_observations, ej_xb_conv_observations
from sdmx_export.disclosure import Dimension, Relation, protect, public_values
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


def feasible_ranges(
    protected: pl.DataFrame, dimensions: list[Dimension]
) -> list[tuple[str, float, float]]:
    """(cell, min, max) of every suppressed cell, given every published cell and x >= 0."""
    columns = [d.column for d in dimensions]
    index = {
        tuple(row[:-1]): i for i, row in enumerate(protected.select(*columns, "n").iter_rows())
    }
    values = protected["n"].to_numpy()
    hidden = np.flatnonzero(protected["CONF_STATUS"].to_numpy() != "F")
    unknown = {int(cell): j for j, cell in enumerate(hidden)}
    equations, constants = [], []
    for axis, dimension in enumerate(dimensions):
        others = [d.codes for k, d in enumerate(dimensions) if k != axis]
        for relation, rest in itertools.product(dimension.relations, itertools.product(*others)):
            row, constant = np.zeros(hidden.size), 0.0
            for code, sign in [(relation.total, 1.0), *((p, -1.0) for p in relation.parts)]:
                cell = index[(*rest[:axis], code, *rest[axis:])]
                if cell in unknown:
                    row[unknown[cell]] += sign
                else:
                    constant -= sign * values[cell]
            if row.any():
                equations.append(row)
                constants.append(constant)
    ranges = []
    for j, cell in enumerate(hidden):
        objective = np.zeros(hidden.size)
        objective[j] = 1.0
        bounds = [(0, None)] * hidden.size
        low = linprog(objective, A_eq=equations, b_eq=constants, bounds=bounds, method="highs")
        high = linprog(-objective, A_eq=equations, b_eq=constants, bounds=bounds, method="highs")
        assert low.status == 0
        top = np.inf if high.status == 3 else -high.fun
        ranges.append((str(protected.row(int(cell))[:-2]), low.fun, top))
    return ranges


@pytest.mark.parametrize("seed", range(12))
def test_no_suppressed_cell_can_be_recomputed(seed):
    dimensions = TABLES[seed % len(TABLES)]
    protected = protect(random_table(dimensions, seed), dimensions, value="n")
    assert (protected["CONF_STATUS"] != "F").any()
    pinned = [
        (cell, low, high)
        for cell, low, high in feasible_ranges(protected, dimensions)
        if high - low < 1e-6
    ]
    assert pinned == []


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


def test_a_single_small_cell_is_protected_by_its_smallest_neighbour():
    table = pl.DataFrame({"sex": ["T", "M", "F"], "n": [9, 7, 2]})
    protected = protect(table, [SEX_DIM], value="n")
    assert dict(protected.select("sex", "CONF_STATUS").iter_rows()) == {
        "T": "F",
        "M": "D",
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
    assert (
        public.filter(pl.col("CONF_STATUS") != "F")["n"].null_count()
        == public.filter(pl.col("CONF_STATUS") != "F").height
    )
    assert (
        public.filter(pl.col("CONF_STATUS") == "F")["n"].to_list()
        == protected.filter(pl.col("CONF_STATUS") == "F")["n"].to_list()
    )


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


@pytest.mark.parametrize("build", [crim_just_observations, ej_xb_conv_observations])
def test_public_deliveries_carry_flags_but_no_confidential_value(tmp_path, build):
    structures = build_structures()
    flow_id = "CRIM_JUST" if build is crim_just_observations else "EJ_XB_CONV"
    persons = persons_convicted(21)
    eurostat = build(persons)
    public = build(persons, public=True)
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
