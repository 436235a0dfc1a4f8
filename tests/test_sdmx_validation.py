"""The validation gate: clean files pass; each planted error is caught with a message that
names it and says where; files from elsewhere are recognised from their content."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
import sdmx
from sdmx.message import DataMessage, Header
from sdmx.model import common
from sdmx.model import v21 as model
from test_sdmx_writers import HEADER, generated_observations

from core.settings import StructureSettings
from sdmx_export.structure_file import write_structure_file
from sdmx_export.structures import build_structures
from sdmx_export.validation import read_back, validate_sdmx_file
from sdmx_export.writers import write_generic, write_sdmx_csv, write_structure_specific


@pytest.fixture(scope="module")
def structures():
    return build_structures(StructureSettings())


@pytest.fixture(scope="module")
def observations(structures) -> pl.DataFrame:
    return generated_observations(
        structures, "CRIM_OFF_CAT", seed=11, series=12, years=(2022, 2023)
    )


@pytest.fixture
def files(structures, observations, tmp_path) -> dict[str, Path]:
    flow = structures.dataflow["CRIM_OFF_CAT"]
    return {
        "structure_specific": write_structure_specific(
            tmp_path / "ss.xml", flow, [observations], HEADER
        ).path,
        "generic": write_generic(tmp_path / "gen.xml", flow, [observations], HEADER).path,
        "csv": write_sdmx_csv(tmp_path / "data.csv", flow, [observations]).path,
    }


def plant(path: Path, old: str, new: str, *, count: int = 1) -> Path:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, count))
    return path


def line_of(path: Path, fragment: str, occurrence: int = 1) -> int:
    lines = [n for n, line in enumerate(path.read_text().splitlines(), 1) if fragment in line]
    return lines[occurrence - 1]


def messages(path: Path, structures) -> list[str]:
    return [str(p) for p in validate_sdmx_file(path, structures)]


def test_clean_files_pass(files, structures):
    for path in files.values():
        assert validate_sdmx_file(path, structures) == []


@pytest.mark.parametrize("fmt", ["structure_specific", "generic", "csv"])
def test_an_unknown_code_is_named_with_its_line(files, structures, observations, fmt):
    code = observations["ICCS"][0]
    old = {
        "structure_specific": f'ICCS="{code}"',
        "generic": f'id="ICCS" value="{code}"',
        "csv": f",{code},",
    }[fmt]
    path = plant(files[fmt], old, old.replace(code, "ICCS9999"))
    line = line_of(path, "ICCS9999")
    expected = (
        f"line {line}, series A.ICCS9999."
        if fmt != "csv"
        else f"line {line}, observation A.ICCS9999."
    )
    found = [
        m for m in messages(path, structures) if "ICCS 'ICCS9999' is not in code list CL_ICCS" in m
    ]
    assert found and found[0].startswith(expected), found


@pytest.mark.parametrize("fmt", ["structure_specific", "generic", "csv"])
def test_a_duplicate_key_is_caught(files, structures, fmt):
    path = files[fmt]
    lines = path.read_text().splitlines(keepends=True)
    if fmt == "structure_specific":
        at = next(i for i, line in enumerate(lines) if "<Obs " in line)
        lines.insert(at + 1, lines[at])
    elif fmt == "generic":
        start = next(i for i, line in enumerate(lines) if "<gen:Obs>" in line)
        end = next(i for i in range(start, len(lines)) if "</gen:Obs>" in lines[i])
        lines[end + 1 : end + 1] = lines[start : end + 1]
    else:
        lines.insert(2, lines[1])
    path.write_text("".join(lines))
    found = [m for m in messages(path, structures) if "duplicate observation key" in m]
    assert len(found) == 1
    assert re.match(
        r"line \d+, observation A\.\S+ 20\d\d: duplicate observation key \(first at line \d+\)",
        found[0],
    )


def test_a_repeated_series_is_caught(files, structures):
    path = files["structure_specific"]
    text = path.read_text()
    first_series = re.search(r"    <Series .*?</Series>\n", text, re.S).group(0)
    path.write_text(text.replace("  </mes:DataSet>", first_series + "  </mes:DataSet>"))
    found = messages(path, structures)
    assert any("duplicate series key (first at line 15)" in m for m in found), found


@pytest.mark.parametrize("fmt", ["structure_specific", "generic", "csv"])
def test_a_missing_mandatory_attribute_is_caught(files, structures, fmt):
    old = {
        "structure_specific": ' CONF_STATUS="F"',
        "generic": '<gen:Value id="CONF_STATUS" value="F"/>',
        "csv": ",F\n",
    }[fmt]
    new = ",\n" if fmt == "csv" else ""
    path = plant(files[fmt], old, new)
    found = [
        m for m in messages(path, structures) if "mandatory attribute CONF_STATUS is missing" in m
    ]
    assert len(found) == 1 and found[0].startswith("line "), found


def test_an_element_in_the_wrong_place_is_a_schema_violation(files, structures):
    path = files["structure_specific"]
    text = path.read_text()
    obs = re.search(r"      <Obs [^\n]*\n", text).group(0)
    path.write_text(text.replace("    <Series ", obs + "    <Series ", 1))
    line = line_of(path, "<Obs ")
    found = messages(path, structures)
    assert any(
        m.startswith(f"line {line}: schema: Element 'Obs': This element is not expected")
        for m in found
    ), found


def test_generic_elements_out_of_order_are_a_schema_violation(files, structures):
    path = files["generic"]
    text = path.read_text()
    block = re.search(
        r'(        <gen:ObsDimension value="[^"]+"/>\n)(        <gen:ObsValue value="[^"]+"/>\n)',
        text,
    )
    path.write_text(text.replace(block.group(0), block.group(2) + block.group(1), 1))
    found = messages(path, structures)
    assert any(
        "schema: Element '{http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/generic}ObsValue'"
        ": This element is not expected" in m
        for m in found
    ), found


def test_a_broken_xml_file_says_where(files, structures):
    path = plant(files["structure_specific"], "</Series>", "</Serie>")
    found = messages(path, structures)
    assert len(found) == 1 and "not well-formed XML" in found[0] and found[0].startswith("line "), (
        found
    )


def test_csv_header_problems_are_named(files, structures):
    path = files["csv"]
    text = path.read_text().splitlines()
    text[0] = text[0].replace("OBS_STATUS", "STATUS")
    path.write_text("\n".join(text) + "\n")
    found = messages(path, structures)
    assert "line 1: column OBS_STATUS is missing" in found
    assert "line 1: column STATUS is not a component of DSD LT_IVPK:CRIM_OFF_CAT(1.0)" in found


def test_csv_rows_of_another_dataflow_or_width_are_caught(files, structures):
    path = files["csv"]
    lines = path.read_text().splitlines(keepends=True)
    lines[3] = lines[3].replace("LT_IVPK:CRIM_OFF_CAT(1.0)", "LT_IVPK:CRIM_JUST(1.0)")
    lines[4] = lines[4].rstrip("\n") + ",extra\n"
    path.write_text("".join(lines))
    found = messages(path, structures)
    assert any(
        m.startswith("line 4, observation") and "DATAFLOW is 'LT_IVPK:CRIM_JUST(1.0)'" in m
        for m in found
    ), found
    assert "line 5: the row has 10 fields, the header 9" in found


def test_an_unknown_structure_is_reported(files, structures):
    path = plant(files["generic"], 'id="CRIM_OFF_CAT"', 'id="OTHER_FLOW"')
    found = messages(path, structures)
    assert found[0].startswith(
        "file: DSD LT_IVPK:OTHER_FLOW(1.0) is not among the known structures"
    ), found


def test_not_an_sdmx_file(tmp_path, structures):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    assert messages(path, structures) == [
        "file: x.csv: line 1: not SDMX-CSV (the first column must be DATAFLOW, found 'a')"
    ]


def test_structures_can_come_from_a_structure_file(files, structures, tmp_path):
    structure_path = write_structure_file(
        tmp_path / "structures.xml",
        structures,
        message_id="S",
        prepared=datetime(2025, 1, 1, tzinfo=UTC),
    )
    assert validate_sdmx_file(files["structure_specific"], structure_path) == []


def test_a_file_from_elsewhere_with_a_dataflow_namespace_and_flat_observations(
    tmp_path, structures
):
    """Another producer: dataflow reference (StructureUsage), a dataflow URN as namespace,
    dimensionAtObservation=AllDimensions, different prefixes, no pretty printing."""
    namespace = (
        "urn:sdmx:org.sdmx.infomodel.datastructure.Dataflow=LT_IVPK:EJ_XB_CONV(1.0)"
        ":ObsLevelDim:TIME_PERIOD"
    )
    sdmx_21 = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1"
    key = 'FREQ="A" CITIZEN="NAT" ECRIS="DOM" UNIT="NR" GEO="LT" TIME_PERIOD="2023"'
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<message:StructureSpecificData xmlns:message="{sdmx_21}/message"'
        f' xmlns:common="{sdmx_21}/common" xmlns:data="{sdmx_21}/data/structurespecific"'
        f' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:df="{namespace}">'
        "<message:Header><message:ID>EJ1</message:ID><message:Test>true</message:Test>"
        '<message:Prepared>2025-01-01</message:Prepared><message:Sender id="LT"/>'
        f'<message:Structure structureID="EJ" namespace="{namespace}"'
        ' dimensionAtObservation="AllDimensions"><common:StructureUsage>'
        '<Ref agencyID="LT_IVPK" id="EJ_XB_CONV" version="1.0"/></common:StructureUsage>'
        "</message:Structure></message:Header>"
        '<message:DataSet data:structureRef="EJ" data:dataScope="Dataflow"'
        ' xsi:type="df:DataSetType">'
        f'<Obs XB_CRIME="TERR" {key} OBS_VALUE="4" OBS_STATUS="A" CONF_STATUS="F"/>'
        f'<Obs XB_CRIME="THB" {key} OBS_STATUS="A" CONF_STATUS="C"/>'
        "</message:DataSet></message:StructureSpecificData>"
    )
    path = tmp_path / "eurojust.xml"
    path.write_text(text)
    assert validate_sdmx_file(path, structures) == []
    read = read_back(path)
    assert read.select("XB_CRIME", "OBS_VALUE").rows() == [("TERR", 4.0), ("THB", None)]
    path.write_text(text.replace('XB_CRIME="THB"', 'XB_CRIME="PIRACY"'))
    found = messages(path, structures)
    assert any("XB_CRIME 'PIRACY' is not in code list CL_XB_CRIME" in m for m in found), found


def test_sdmx1_data_messages_miss_what_the_schemas_require(tmp_path, structures):
    """sdmx1's own data writer leaves out the header's namespace, dataScope and xsi:type,
    which is why the project writes data messages itself (SPEC 8)."""
    flow = structures.dataflow["CRIM_OFF_CAT"]
    dsd = flow.structure
    data_set = model.StructureSpecificDataSet(structured_by=dsd, described_by=flow)
    key = model.SeriesKey(
        described_by=dsd.dimensions,
        values={
            dim.id: common.KeyValue(id=dim.id, value=value, value_for=dim)
            for dim, value in zip(
                dsd.dimensions.components[:-1], ["A", "ICCS0101", "NR", "LT"], strict=True
            )
        },
    )
    attributes = {
        a.id: common.AttributeValue(value=v, value_for=a)
        for a, v in zip(dsd.attributes.components, ["A", "F"], strict=True)
    }
    observation = model.Observation(
        dimension=model.Key(TIME_PERIOD="2023", described_by=dsd.dimensions),
        value=5.0,
        value_for=dsd.measures[0],
        attached_attribute=attributes,
    )
    data_set.add_obs([observation], series_key=key)
    message = DataMessage(
        header=Header(id="X", prepared=datetime(2025, 1, 1), sender=common.Agency(id="LT_IVPK")),
        data=[data_set],
        observation_dimension=dsd.dimensions.get("TIME_PERIOD"),
    )
    path = tmp_path / "sdmx1.xml"
    path.write_bytes(sdmx.to_xml(message))
    found = messages(path, structures)
    assert any("The attribute 'namespace' is required but missing" in m for m in found), found
