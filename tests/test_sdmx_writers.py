"""The streaming writers: every format passes the validation gate, reads back into the
input numbers, and is byte-identical when the same release is written again."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from lxml import etree
from polars.testing import assert_frame_equal

from core.reference import iccs_codes
from core.settings import REFERENCE_DIR, StructureSettings
from publication.datasets import crim_just_observations, crim_off_cat_observations
from sdmx_export.layout import DsdLayout
from sdmx_export.schemas import dsd_schema, structure_specific_schema, write_dsd_schema
from sdmx_export.structures import build_structures
from sdmx_export.validation import read_back, validate_sdmx_file
from sdmx_export.writers import (
    MessageHeader,
    sorted_for_writing,
    write_generic,
    write_sdmx_csv,
    write_structure_specific,
)

HEADER = MessageHeader("CRIM_2025_001", datetime(2025, 3, 1, 12, 0, tzinfo=UTC), "LT_IVPK")
FORMATS = ("structure_specific", "generic", "csv")
DATAFLOWS = ("CRIM_OFF_CAT", "CRIM_JUST", "EJ_XB_CONV")


def generated_observations(
    structures, dataflow_id: str, *, seed: int = 0, series: int = 40, years=(2021, 2022, 2023)
) -> pl.DataFrame:
    """Random observations of a dataflow: distinct series keys drawn from the code lists,
    values (decimals where the measure is a double), flags, and some confidential cells
    whose value is left out as in a public file."""
    flow = structures.dataflow[dataflow_id]
    layout = DsdLayout.of(flow)
    rng = np.random.default_rng(seed)
    code_lists = [sorted(d.codes) for d in layout.series_dimensions]
    shape = [len(c) for c in code_lists]
    picks = rng.choice(int(np.prod(shape)), size=min(series, int(np.prod(shape))), replace=False)
    keys = np.array(np.unravel_index(picks, shape)).T
    rows = []
    for key in keys:
        for year in years:
            confidential = rng.random() < 0.15
            value = int(rng.integers(0, 500))
            if layout.measure.value_type == "double" and rng.random() < 0.5:
                value = round(float(rng.random() * 1000), 2)
            rows.append(
                {
                    **{
                        d.id: codes[i]
                        for d, codes, i in zip(
                            layout.series_dimensions, code_lists, key, strict=True
                        )
                    },
                    "TIME_PERIOD": str(year),
                    "OBS_VALUE": None if confidential else float(value),
                    "OBS_STATUS": str(rng.choice(["A", "P", "E"])),
                    "CONF_STATUS": str(rng.choice(["C", "D"])) if confidential else "F",
                }
            )
    return sorted_for_writing(pl.DataFrame(rows, schema_overrides={"OBS_VALUE": pl.Float64}), flow)


def write(fmt: str, path: Path, flow, observations: pl.DataFrame, batches: int = 1):
    bounds = np.linspace(0, observations.height, batches + 1).astype(int)
    parts = [observations[int(a) : int(b)] for a, b in itertools.pairwise(bounds)]
    if fmt == "structure_specific":
        return write_structure_specific(path, flow, parts, HEADER)
    if fmt == "generic":
        return write_generic(path, flow, parts, HEADER)
    return write_sdmx_csv(path, flow, parts)


def assert_reads_back(path: Path, observations: pl.DataFrame) -> None:
    read = read_back(path)
    expected = observations.with_columns(pl.col("OBS_VALUE").cast(pl.Float64))
    assert_frame_equal(read.select(expected.columns), expected)


@pytest.fixture(scope="module")
def structures():
    return build_structures(StructureSettings())


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("dataflow_id", DATAFLOWS)
def test_every_format_passes_the_gate_and_reads_back(structures, tmp_path, dataflow_id, fmt):
    flow = structures.dataflow[dataflow_id]
    observations = generated_observations(structures, dataflow_id, seed=len(dataflow_id))
    summary = write(fmt, tmp_path / f"data.{fmt}", flow, observations, batches=3)
    assert summary.observations == observations.height
    assert (
        summary.series
        == observations.select(
            pl.exclude("TIME_PERIOD", "OBS_VALUE", "OBS_STATUS", "CONF_STATUS")
        ).n_unique()
    )
    assert validate_sdmx_file(summary.path, structures) == []
    assert_reads_back(summary.path, observations)


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_same_release_gives_identical_bytes(structures, tmp_path, fmt):
    flow = structures.dataflow["CRIM_JUST"]
    observations = generated_observations(structures, "CRIM_JUST", seed=7)
    first = write(fmt, tmp_path / "first", flow, observations, batches=1).path.read_bytes()
    again = write(fmt, tmp_path / "again", flow, observations, batches=1).path.read_bytes()
    split = write(fmt, tmp_path / "split", flow, observations, batches=9).path.read_bytes()
    assert first == again == split


def test_structure_specific_header_and_data_set_follow_sdmx_21(structures, tmp_path):
    flow = structures.dataflow["CRIM_OFF_CAT"]
    path = write_structure_specific(
        tmp_path / "d.xml", flow, [generated_observations(structures, "CRIM_OFF_CAT")], HEADER
    ).path
    root = etree.parse(str(path)).getroot()
    ns = {
        "mes": "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message",
        "com": "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common",
    }
    assert root.findtext("mes:Header/mes:ID", namespaces=ns) == "CRIM_2025_001"
    assert root.findtext("mes:Header/mes:Test", namespaces=ns) == "false"
    assert root.findtext("mes:Header/mes:Prepared", namespaces=ns) == "2025-03-01T12:00:00+00:00"
    assert root.find("mes:Header/mes:Sender", ns).get("id") == "LT_IVPK"
    structure = root.find("mes:Header/mes:Structure", ns)
    namespace = (
        "urn:sdmx:org.sdmx.infomodel.datastructure.DataStructure=LT_IVPK:CRIM_OFF_CAT(1.0)"
        ":ObsLevelDim:TIME_PERIOD"
    )
    assert structure.get("namespace") == namespace
    assert structure.get("dimensionAtObservation") == "TIME_PERIOD"
    assert dict(structure.find("com:Structure/Ref", ns).attrib) == {
        "agencyID": "LT_IVPK",
        "id": "CRIM_OFF_CAT",
        "version": "1.0",
    }
    data_set = root.find("mes:DataSet", ns)
    ss = "{http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/structurespecific}"
    assert data_set.get(f"{ss}structureRef") == structure.get("structureID")
    assert data_set.get(f"{ss}dataScope") == "DataStructure"
    assert data_set.get("{http://www.w3.org/2001/XMLSchema-instance}type") == "ns1:DataSetType"
    assert root.nsmap["ns1"] == namespace
    assert structure_specific_schema(DsdLayout.of(flow)).validate(etree.parse(str(path)))


def test_the_dsd_schema_is_written_with_code_list_enumerations(structures, tmp_path):
    flow = structures.dataflow["CRIM_JUST"]
    path = write_dsd_schema(tmp_path / "CRIM_JUST_1.0.xsd", flow)
    schema = etree.parse(str(path)).getroot()
    xs = {"xs": "http://www.w3.org/2001/XMLSchema"}
    assert schema.get("targetNamespace") == DsdLayout.of(flow).namespace
    sex = schema.find("xs:simpleType[@name='CL_SEXType']", xs)
    assert [e.get("value") for e in sex.iter("{*}enumeration")] == ["F", "M", "T"]
    series = schema.find("xs:complexType[@name='SeriesType']", xs)
    required = [a.get("name") for a in series.iter("{*}attribute") if a.get("use") == "required"]
    assert required == ["FREQ", "LEG_STAT", "ICCS", "SEX", "AGE", "CITIZEN", "UNIT", "GEO"]
    assert path.read_bytes() == dsd_schema(flow)


def test_confidential_values_are_left_out_not_written_empty(structures, tmp_path):
    flow = structures.dataflow["CRIM_JUST"]
    observations = generated_observations(structures, "CRIM_JUST", seed=3)
    hidden = observations.filter(pl.col("OBS_VALUE").is_null()).height
    assert hidden > 0
    text = write_structure_specific(
        tmp_path / "d.xml", flow, [observations], HEADER
    ).path.read_text()
    assert text.count("<Obs ") - text.count("OBS_VALUE=") == hidden
    generic = write_generic(tmp_path / "g.xml", flow, [observations], HEADER).path.read_text()
    assert generic.count("<gen:Obs>") - generic.count("<gen:ObsValue ") == hidden


def test_input_out_of_key_order_or_with_a_repeated_key_is_refused(structures, tmp_path):
    flow = structures.dataflow["CRIM_OFF_CAT"]
    observations = generated_observations(structures, "CRIM_OFF_CAT")
    with pytest.raises(ValueError, match="not strictly sorted"):
        write_structure_specific(tmp_path / "a.xml", flow, [observations.reverse()], HEADER)
    with pytest.raises(ValueError, match="not strictly sorted"):
        write_sdmx_csv(tmp_path / "b.csv", flow, [observations, observations.tail(1)])
    assert not (tmp_path / "a.xml").exists() and not (tmp_path / "b.csv").exists()
    with pytest.raises(ValueError, match="lack the columns"):
        write_generic(tmp_path / "c.xml", flow, [observations.drop("CONF_STATUS")], HEADER)


def test_whole_numbers_are_checked_for_integer_measures(structures, tmp_path):
    flow = structures.dataflow["CRIM_JUST"]
    observations = generated_observations(structures, "CRIM_JUST").with_columns(
        pl.col("OBS_VALUE") + 0.5
    )
    with pytest.raises(ValueError, match="whole numbers"):
        write_structure_specific(tmp_path / "d.xml", flow, [observations], HEADER)


def test_text_is_escaped_so_a_bad_code_stays_a_code_problem(structures, tmp_path):
    flow = structures.dataflow["CRIM_OFF_CAT"]
    observations = generated_observations(structures, "CRIM_OFF_CAT", series=2, years=(2023,))
    odd = observations.with_columns(pl.lit('A&B<"x">').alias("OBS_STATUS"))
    for fmt in FORMATS:
        path = write(fmt, tmp_path / f"odd.{fmt}", flow, odd).path
        problems = [str(p) for p in validate_sdmx_file(path, structures)]
        assert problems and all("OBS_STATUS" in p for p in problems), problems
        assert not any("well-formed" in p for p in problems)
        assert read_back(path)["OBS_STATUS"].to_list() == ['A&B<"x">'] * 2


def recorded_offences_mart(seed: int = 0) -> pl.DataFrame:
    """A recorded_offences_annual mart: every ICCS level rolled up, some combinations absent."""
    rng = np.random.default_rng(seed)
    codes = iccs_codes(REFERENCE_DIR)
    parent = {c.code: c.parent for c in codes}
    leaves = [c.code for c in codes if c.code not in set(parent.values())]
    geos = [
        "LT011",
        "LT021",
        "LT022",
        "LT023",
        "LT024",
        "LT025",
        "LT026",
        "LT027",
        "LT028",
        "LT029",
    ]
    rows = []
    for year in (2022, 2023):
        for geo in geos:
            for leaf in rng.choice(leaves, size=60, replace=False):
                count, code = int(rng.integers(1, 40)), str(leaf)
                while code is not None:
                    rows.append((year, geo, code, count))
                    code = parent[code]
                rows.append((year, geo, "TOTAL", count))
    counties = pl.DataFrame(rows, schema=["ref_year", "geo", "iccs_code", "offences"], orient="row")
    counties = counties.group_by("ref_year", "geo", "iccs_code").agg(pl.col("offences").sum())
    country = (
        counties.group_by("ref_year", "iccs_code")
        .agg(pl.col("offences").sum())
        .with_columns(geo=pl.lit("LT"))
    )
    mart = pl.concat([counties, country.select(counties.columns)])
    return mart.with_columns((pl.col("offences") * 100000 / 250000).round(2).alias("rate_per_100k"))


@pytest.mark.parametrize("fmt", FORMATS)
def test_crim_off_cat_reads_back_into_the_numbers_of_the_mart(structures, tmp_path, fmt):
    mart = recorded_offences_mart()
    observations = crim_off_cat_observations(mart, StructureSettings())
    path = write(
        fmt, tmp_path / f"crim_off_cat.{fmt}", structures.dataflow["CRIM_OFF_CAT"], observations
    ).path
    assert validate_sdmx_file(path, structures) == []
    read = read_back(path)
    delivered = read.filter(pl.col("UNIT") == "NR", pl.col("ICCS") == "ICCS0101").select(
        pl.col("TIME_PERIOD").cast(pl.Int64).alias("ref_year"),
        pl.col("GEO").alias("geo"),
        pl.col("OBS_VALUE"),
    )
    expected = (
        pl.DataFrame({"ref_year": [2022, 2023]})
        .join(pl.DataFrame({"geo": sorted(read["GEO"].unique())}), how="cross")
        .join(mart.filter(pl.col("iccs_code") == "0101"), on=["ref_year", "geo"], how="left")
        .select(
            "ref_year", "geo", pl.col("offences").fill_null(0).cast(pl.Float64).alias("OBS_VALUE")
        )
    )
    assert_frame_equal(delivered.sort("ref_year", "geo"), expected.sort("ref_year", "geo"))
    rates = read.filter(
        pl.col("UNIT") == "P_HTHAB", pl.col("ICCS") == "TOTAL", pl.col("GEO") == "LT"
    )
    mart_rates = mart.filter(pl.col("iccs_code") == "TOTAL", pl.col("geo") == "LT").sort("ref_year")
    assert rates.sort("TIME_PERIOD")["OBS_VALUE"].to_list() == mart_rates["rate_per_100k"].to_list()


def test_crim_just_totals_read_back_equal_to_the_mart(structures, tmp_path):
    rng = np.random.default_rng(5)
    persons = pl.DataFrame(
        {
            "ref_year": [2023] * 400,
            "iccs_code": rng.choice(
                ["0101", "020111", "0502", "05021", "06012", "0903", "UNMAPPED"], 400
            ),
            "sex": rng.choice(["M", "F"], 400),
            "age_group": rng.choice(["Y14-17", "Y18-24", "Y25-34", "Y_GE65", "UNK"], 400),
            "citizen_group": rng.choice(["NAT", "EU27_2020_FOR", "STLS"], 400),
            "sanction": "fine",
            "via_ecris": rng.random(400) < 0.1,
            "persons": rng.integers(1, 4, 400),
        }
    )
    observations = crim_just_observations(persons, StructureSettings())
    path = write_structure_specific(
        tmp_path / "crim_just.xml", structures.dataflow["CRIM_JUST"], [observations], HEADER
    ).path
    assert validate_sdmx_file(path, structures) == []
    read = read_back(path)
    total = read.filter(ICCS="TOTAL", SEX="T", AGE="TOTAL", CITIZEN="TOTAL")["OBS_VALUE"].item()
    assert total == persons.filter(~pl.col("via_ecris"))["persons"].sum()
    section_05 = read.filter(ICCS="ICCS05", SEX="T", AGE="TOTAL", CITIZEN="TOTAL")[
        "OBS_VALUE"
    ].item()
    assert (
        section_05
        == persons.filter(~pl.col("via_ecris"), pl.col("iccs_code").str.starts_with("05"))[
            "persons"
        ].sum()
    )
