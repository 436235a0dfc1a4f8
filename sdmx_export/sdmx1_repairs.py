"""Repairs applied to sdmx1 2.28's SDMX-ML 2.1 structure output before it is written.

sdmx1's writer (sdmx.writer.xml) gets these wrong; each repair names what and why:

1. Component lists without an id are written with ``id=""``: the schema's IDType pattern
   rejects the empty string, and SDMX 2.1 fixes the ids (DimensionDescriptor,
   AttributeDescriptor, MeasureDescriptor). Repair: put the fixed id in.
2. URNs are made from sdmx1's Python class names, giving ``...datastructure.
   DataflowDefinition=`` and ``...datastructure.DataStructureDefinition=``; the SDMX 2.1
   registry URN classes are ``Dataflow`` and ``DataStructure``. The schema types urn as
   xs:anyURI so it cannot see this, but registries and other tools resolve by URN.
   Repair: rewrite the class part of those URNs.
3. Every SDMX namespace is declared on the root whether used or not. Repair: drop unused
   declarations so the file declares what it uses.

Other defects are avoided in the model rather than repaired here (see structures.py):
booleans left unset are written as ``"none"`` (not an xs:boolean), so every maintainable
artefact sets is_final and is_external_reference; a TimeDimension without a representation
is written without the LocalRepresentation the schema requires, so TIME_PERIOD gets a
TextFormat; ``validTo`` is written with the value of ``validFrom``, so no validity is set;
ConceptRole is written before LocalRepresentation (wrong order), so no roles are used; and a
missing header Prepared becomes the wall-clock time, so a Prepared is always passed.
"""

from __future__ import annotations

from lxml import etree

STRUCTURE_NS = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure"
COMPONENT_LIST_IDS = {
    "DimensionList": "DimensionDescriptor",
    "AttributeList": "AttributeDescriptor",
    "MeasureList": "MeasureDescriptor",
}
URN_CLASSES = {
    ".datastructure.DataflowDefinition=": ".datastructure.Dataflow=",
    ".datastructure.DataStructureDefinition=": ".datastructure.DataStructure=",
}


def repair_structure_xml(xml: bytes) -> bytes:
    """The structure message `xml` from sdmx.to_xml, with the repairs above applied."""
    root = etree.fromstring(xml)
    for tag, fixed_id in COMPONENT_LIST_IDS.items():
        for element in root.iter(f"{{{STRUCTURE_NS}}}{tag}"):
            if not element.get("id"):
                element.set("id", fixed_id)
    for element in root.iter():
        urn = element.get("urn")
        if urn:
            for wrong, right in URN_CLASSES.items():
                urn = urn.replace(wrong, right)
            element.set("urn", urn)
    etree.cleanup_namespaces(root)
    return etree.tostring(root, encoding="utf-8", xml_declaration=True, pretty_print=True)
