"""Reading SDMX data files back: message type, structure reference and observations.

Works on files from anywhere, not only this project's writers: the message type comes
from the root element (or the SDMX-CSV header), the structure from the header's Structure
reference (or the DATAFLOW column), and observations are streamed with their line numbers
(expat, no tree kept) so the validation gate can say exactly where a problem is and memory
stays flat.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from xml.parsers import expat

import polars as pl
from lxml import etree

from sdmx_export.namespaces import COMMON, GENERIC, MESSAGE, qname

MEASURE = "OBS_VALUE"
TIME_PERIOD = "TIME_PERIOD"
READ_CHUNK = 100_000
READ_BYTES = 1 << 20
SEPARATOR = "}"  # expat names qualified elements and attributes "namespace}local"
DATA_SET = f"{MESSAGE}{SEPARATOR}DataSet"
GENERIC_SERIES = f"{GENERIC}{SEPARATOR}Series"
GENERIC_OBS = f"{GENERIC}{SEPARATOR}Obs"
GENERIC_VALUE = f"{GENERIC}{SEPARATOR}Value"
GENERIC_OBS_DIMENSION = f"{GENERIC}{SEPARATOR}ObsDimension"
GENERIC_OBS_VALUE = f"{GENERIC}{SEPARATOR}ObsValue"
GENERIC_CONTAINERS = {
    f"{GENERIC}{SEPARATOR}{name}" for name in ("SeriesKey", "ObsKey", "Attributes")
}
DATAFLOW_COLUMN = "DATAFLOW"
REFERENCE = re.compile(r"^(?P<agency>[^:()]+):(?P<id>[^:()]+)\((?P<version>[^()]+)\)$")
URN = re.compile(
    r"^urn:sdmx:org\.sdmx\.infomodel\.datastructure\.(?P<cls>\w+)="
    r"(?P<agency>[^:]+):(?P<id>[^(]+)\((?P<version>[^)]+)\)$"
)


class SdmxFileError(ValueError):
    """The file is not an SDMX message this module can read; the message says why."""


class MessageKind(StrEnum):
    STRUCTURE_SPECIFIC = "StructureSpecificData"
    GENERIC = "GenericData"
    STRUCTURE = "Structure"
    CSV = "SDMX-CSV"


@dataclass(frozen=True)
class StructureReference:
    """What a data message says it conforms to: a DSD or a dataflow."""

    is_dataflow: bool
    agency: str | None
    id: str
    version: str | None

    def __str__(self) -> str:
        kind = "dataflow" if self.is_dataflow else "DSD"
        return f"{kind} {self.agency or '?'}:{self.id}({self.version or '?'})"


@dataclass(frozen=True)
class MessageInfo:
    kind: MessageKind
    structure: StructureReference | None = None
    namespace: str | None = None
    dimension_at_observation: str | None = None
    columns: tuple[str, ...] = ()


@dataclass
class Record:
    """One observation as read: series-level values (None when not in a series) and its own;
    `lines` has the line of a value when it is not on the observation's (or series') line."""

    line: int
    values: dict[str, str]
    series: dict[str, str] | None = None
    series_line: int | None = None
    data_set: dict[str, str] = field(default_factory=dict)
    malformed: str | None = None
    lines: dict[str, int] = field(default_factory=dict)

    def merged(self) -> dict[str, str]:
        return {**self.data_set, **(self.series or {}), **self.values}


def message_info(path: Path) -> MessageInfo:
    """Message type and structure reference of `path`, read from its start only."""
    path = Path(path)
    with open(path, "rb") as stream:
        start = stream.read(512).lstrip(b"\xef\xbb\xbf \t\r\n")
    if not start:
        raise SdmxFileError(f"{path.name} is empty")
    if start.startswith(b"<"):
        return _xml_info(path)
    return _csv_info(path)


def records(path: Path, info: MessageInfo) -> Iterator[Record]:
    """Every observation of the data message at `path`, in file order, with line numbers."""
    if info.kind is MessageKind.CSV:
        yield from _csv_records(path)
    elif info.kind is MessageKind.STRUCTURE_SPECIFIC:
        yield from _structure_specific_records(path)
    elif info.kind is MessageKind.GENERIC:
        yield from _generic_records(path, info.dimension_at_observation or TIME_PERIOD)
    else:
        raise SdmxFileError(f"{Path(path).name} is a {info.kind} message, not data")


def read_back(path: Path) -> pl.DataFrame:
    """The observations of an SDMX data file as a table: one column per component (text)
    in file order with OBS_VALUE after TIME_PERIOD, OBS_VALUE as Float64 (null where the
    value was left out), so the caller can compare the delivered numbers with the mart."""
    info = message_info(path)
    chunks: list[pl.DataFrame] = []
    rows: list[dict[str, str]] = []
    for record in records(path, info):
        rows.append(record.merged())
        if len(rows) == READ_CHUNK:
            chunks.append(pl.DataFrame(rows, infer_schema_length=None))
            rows = []
    if rows or not chunks:
        chunks.append(pl.DataFrame(rows, infer_schema_length=None))
    table = pl.concat(chunks, how="diagonal").drop(DATAFLOW_COLUMN, strict=False)
    if MEASURE not in table.columns:
        table = table.with_columns(pl.lit(None, dtype=pl.String).alias(MEASURE))
    columns = [c for c in table.columns if c != MEASURE]
    at = columns.index(TIME_PERIOD) + 1 if TIME_PERIOD in columns else len(columns)
    try:
        return table.select(
            *columns[:at], pl.col(MEASURE).cast(pl.String).cast(pl.Float64), *columns[at:]
        )
    except pl.exceptions.InvalidOperationError as error:
        raise SdmxFileError(f"{Path(path).name}: an {MEASURE} is not a number ({error})") from None


def parse_reference(text: str, *, is_dataflow: bool) -> StructureReference | None:
    """AGENCY:ID(VERSION), as in SDMX-CSV's DATAFLOW column."""
    match = REFERENCE.match(text.strip())
    if not match:
        return None
    return StructureReference(is_dataflow, match["agency"], match["id"], match["version"])


def _xml_info(path: Path) -> MessageInfo:
    try:
        context = etree.iterparse(str(path), events=("start", "end"))
        _, root = next(context)
        local = etree.QName(root).localname
        if etree.QName(root).namespace != MESSAGE or local not in set(MessageKind):
            raise SdmxFileError(
                f"{path.name}: root element {root.tag} is not an SDMX-ML 2.1 message"
            )
        kind = MessageKind(local)
        for event, element in context:
            if event == "end" and element.tag == qname(MESSAGE, "Header"):
                return _header_info(kind, element)
            if (
                event == "start"
                and element.getparent() is root
                and element.tag != qname(MESSAGE, "Header")
            ):
                break
    except etree.XMLSyntaxError as error:
        raise SdmxFileError(
            f"{path.name}: line {error.lineno}: not well-formed XML: {error.msg}"
        ) from None
    raise SdmxFileError(f"{path.name}: the message has no Header")


def _header_info(kind: MessageKind, header: etree._Element) -> MessageInfo:
    structure = header.find(qname(MESSAGE, "Structure"))
    if structure is None:
        return MessageInfo(kind)
    reference = None
    for child in structure:
        is_dataflow = child.tag == qname(COMMON, "StructureUsage")
        if child.tag not in (qname(COMMON, "Structure"), qname(COMMON, "StructureUsage")):
            continue
        ref = child.find("Ref")
        if ref is not None:
            reference = StructureReference(
                is_dataflow, ref.get("agencyID"), ref.get("id", ""), ref.get("version")
            )
        urn = child.find("URN")
        if urn is not None and urn.text and (match := URN.match(urn.text.strip())):
            reference = StructureReference(
                match["cls"] == "Dataflow", match["agency"], match["id"], match["version"]
            )
    return MessageInfo(
        kind,
        reference,
        namespace=structure.get("namespace"),
        dimension_at_observation=structure.get("dimensionAtObservation"),
    )


def _csv_info(path: Path) -> MessageInfo:
    with open(path, encoding="utf-8-sig", newline="") as stream:
        header = next(csv.reader(stream), [])
        first = next(csv.reader(stream), None)
    if not header or header[0] != DATAFLOW_COLUMN:
        raise SdmxFileError(
            f"{path.name}: line 1: not SDMX-CSV (the first column must be {DATAFLOW_COLUMN}, "
            f"found {header[0] if header else 'nothing'!r})"
        )
    reference = parse_reference(first[0], is_dataflow=True) if first else None
    return MessageInfo(MessageKind.CSV, reference, columns=tuple(header))


def _csv_records(path: Path) -> Iterator[Record]:
    with open(path, encoding="utf-8-sig", newline="") as stream:
        reader = csv.reader(stream)
        header = next(reader)
        for row in reader:
            values = {k: v for k, v in zip(header, row, strict=False) if v != ""}
            malformed = None
            if len(row) != len(header):
                malformed = f"the row has {len(row)} fields, the header {len(header)}"
            yield Record(reader.line_num, values, malformed=malformed)


def _structure_specific_records(path: Path) -> Iterator[Record]:
    return _expat_records(path, _StructureSpecificHandler())


def _generic_records(path: Path, observation_dimension: str) -> Iterator[Record]:
    return _expat_records(path, _GenericHandler(observation_dimension))


def _expat_records(path: Path, handler: _Handler) -> Iterator[Record]:
    """Stream `path` through expat, which reports exact line numbers (libxml2, and so
    lxml, reports element lines past 65,535 one too high) and builds no tree."""
    parser = expat.ParserCreate(namespace_separator=SEPARATOR)
    parser.StartElementHandler = lambda name, attributes: handler.start(
        name, attributes, parser.CurrentLineNumber
    )
    parser.EndElementHandler = handler.end
    with open(path, "rb") as stream:
        final = False
        while not final:
            chunk = stream.read(READ_BYTES)
            final = not chunk
            try:
                parser.Parse(chunk, final)
            except expat.ExpatError as error:
                raise SdmxFileError(
                    f"{Path(path).name}: line {error.lineno}: not well-formed XML: "
                    f"{expat.ErrorString(error.code)}"
                ) from None
            yield from handler.ready
            handler.ready.clear()


class _Handler:
    """Turns expat's element events into Records, collected in `ready`."""

    def __init__(self) -> None:
        self.ready: list[Record] = []
        self.open: list[str] = []
        self.data_set: dict[str, str] = {}

    def start(self, name: str, attributes: dict[str, str], line: int) -> None:
        parent = self.open[-1] if self.open else None
        self.open.append(name)
        self.element(name, attributes, line, parent)

    def end(self, name: str) -> None:
        self.open.pop()
        self.closed(name)

    def element(self, name: str, attributes: dict[str, str], line: int, parent: str | None) -> None:
        raise NotImplementedError

    def closed(self, name: str) -> None:
        raise NotImplementedError


class _StructureSpecificHandler(_Handler):
    """Series and Obs are unqualified; their unqualified XML attributes are components."""

    def __init__(self) -> None:
        super().__init__()
        self.series: dict[str, str] | None = None
        self.series_line: int | None = None

    def element(self, name: str, attributes: dict[str, str], line: int, parent: str | None) -> None:
        if name == DATA_SET:
            self.data_set = _local(attributes)
        elif name == "Series" and parent == DATA_SET:
            self.series, self.series_line = _local(attributes), line
        elif name == "Obs":
            in_series = parent == "Series"
            self.ready.append(
                Record(
                    line,
                    _local(attributes),
                    self.series if in_series else None,
                    self.series_line if in_series else None,
                    self.data_set,
                )
            )

    def closed(self, name: str) -> None:
        if name == "Series":
            self.series = None


class _GenericHandler(_Handler):
    """gen:Value elements fill the series key, the observation key or attributes,
    depending on where they are; each value keeps its own line."""

    def __init__(self, observation_dimension: str) -> None:
        super().__init__()
        self.observation_dimension = observation_dimension
        self.series: dict[str, str] | None = None
        self.series_lines: dict[str, int] = {}
        self.series_line: int | None = None
        self.obs: dict[str, str] = {}
        self.obs_lines: dict[str, int] = {}
        self.obs_line = 0
        self.target: tuple[dict[str, str], dict[str, int]] | None = None

    def element(self, name: str, attributes: dict[str, str], line: int, parent: str | None) -> None:
        if name == GENERIC_SERIES:
            self.series, self.series_lines, self.series_line = {}, {}, line
        elif name == GENERIC_OBS:
            self.obs, self.obs_lines, self.obs_line = {}, {}, line
        elif name in GENERIC_CONTAINERS:
            self.target = self._container(parent)
        elif name == GENERIC_VALUE and self.target is not None:
            self._put(self.target, attributes.get("id", ""), attributes.get("value", ""), line)
        elif name in (GENERIC_OBS_DIMENSION, GENERIC_OBS_VALUE) and "value" in attributes:
            default = self.observation_dimension if name == GENERIC_OBS_DIMENSION else MEASURE
            self._put(
                (self.obs, self.obs_lines),
                attributes.get("id") or default,
                attributes["value"],
                line,
            )

    def closed(self, name: str) -> None:
        if name in GENERIC_CONTAINERS:
            self.target = None
        elif name == GENERIC_OBS:
            in_series = self.open[-1:] == [GENERIC_SERIES]
            self.ready.append(
                Record(
                    self.obs_line,
                    self.obs,
                    self.series if in_series else None,
                    self.series_line if in_series else None,
                    self.data_set,
                    lines={**(self.series_lines if in_series else {}), **self.obs_lines},
                )
            )
        elif name == GENERIC_SERIES:
            self.series = None

    def _container(self, parent: str | None) -> tuple[dict[str, str], dict[str, int]] | None:
        if parent == GENERIC_SERIES and self.series is not None:
            return self.series, self.series_lines
        if parent == GENERIC_OBS:
            return self.obs, self.obs_lines
        if parent == DATA_SET:
            self.data_set = {}
            return self.data_set, {}
        return None

    @staticmethod
    def _put(
        target: tuple[dict[str, str], dict[str, int]], name: str, value: str, line: int
    ) -> None:
        values, lines = target
        values[name] = value
        lines[name] = line


def _local(attributes: dict[str, str]) -> dict[str, str]:
    """Unqualified XML attributes: the DSD's components (qualified ones are SDMX's own)."""
    return {name: value for name, value in attributes.items() if SEPARATOR not in name}
