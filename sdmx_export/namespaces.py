"""SDMX-ML 2.1 namespaces and the prefixes this project writes them with."""

from __future__ import annotations

SDMX_21 = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1"
MESSAGE = f"{SDMX_21}/message"
COMMON = f"{SDMX_21}/common"
STRUCTURE = f"{SDMX_21}/structure"
GENERIC = f"{SDMX_21}/data/generic"
STRUCTURE_SPECIFIC = f"{SDMX_21}/data/structurespecific"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XS = "http://www.w3.org/2001/XMLSchema"


def qname(namespace: str, local: str) -> str:
    """Clark notation {namespace}local, as lxml expects."""
    return f"{{{namespace}}}{local}"
