"""Streaming writers for SDMX data messages: StructureSpecificData (the delivery format),
GenericData and SDMX-CSV 1.0.

Observations arrive as an iterable of polars DataFrames (one column per dimension, OBS_VALUE
and one per attribute), sorted by series key and then TIME_PERIOD. Each batch is rendered
and written, then dropped, so memory follows the batch size, never the number of
observations. lxml writes the envelope (declaration, namespaces, header, data set element);
the series and observations inside it are rendered per batch by polars expressions
(xml_text), which is what makes the writer many times faster than building sdmx1 objects.

The bytes depend only on the input: the header (message id, prepared time, sender) is
passed in, components are written in DSD order, numbers are formatted by polars the same
way every time, and the input order is checked rather than trusted. Producing the same
release twice gives identical files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import polars as pl
from lxml import etree
from sdmx.model import v21 as model

from core.files import write_atomically
from sdmx_export.layout import DsdLayout
from sdmx_export.namespaces import COMMON, GENERIC, MESSAGE, STRUCTURE_SPECIFIC, XSI, qname
from sdmx_export.xml_text import attribute, escaped, generic_value

INTEGER_TYPES = {"integer", "long", "short", "bigInteger", "count"}
WHOLE_LIMIT = 2.0**53  # beyond it a float no longer holds every whole number
DSD_PREFIX = "ns1"
BODY_MARK = "BODY"
SERIES_KEY = "__series_key"

Structure = model.DataflowDefinition | model.DataStructureDefinition
RowRenderer = Callable[[pl.Expr, pl.Expr], pl.Expr]


@dataclass(frozen=True)
class MessageHeader:
    """The header fields a caller fixes per release, so no clock is read while writing."""

    message_id: str
    prepared: datetime
    sender: str
    test: bool = False


@dataclass(frozen=True)
class WriteSummary:
    """What was written, for the release manifest."""

    path: Path
    series: int
    observations: int


def write_structure_specific(
    path: Path, structure: Structure, batches: Iterable[pl.DataFrame], header: MessageHeader
) -> WriteSummary:
    """Write an SDMX-ML 2.1 StructureSpecificData message: one data set, series by key,
    typed by the DSD-specific schema (see schemas.dsd_schema)."""
    layout = DsdLayout.of(structure)
    envelope = _envelope(layout, header, structure_specific=True)
    return _write_xml(
        path, layout, batches, envelope, _structure_specific_rows(layout), "    </Series>\n"
    )


def write_generic(
    path: Path, structure: Structure, batches: Iterable[pl.DataFrame], header: MessageHeader
) -> WriteSummary:
    """Write an SDMX-ML 2.1 GenericData message with the same content."""
    layout = DsdLayout.of(structure)
    envelope = _envelope(layout, header, structure_specific=False)
    return _write_xml(path, layout, batches, envelope, _generic_rows(layout), "    </gen:Series>\n")


def write_sdmx_csv(
    path: Path, dataflow: model.DataflowDefinition, batches: Iterable[pl.DataFrame]
) -> WriteSummary:
    """Write SDMX-CSV 1.0: DATAFLOW (AGENCY:ID(VERSION)), dimensions, OBS_VALUE, attributes."""
    layout = DsdLayout.of(dataflow)
    progress = _Progress()
    with write_atomically(path) as stream:
        stream.write((",".join(("DATAFLOW", *layout.columns)) + "\n").encode())
        for batch in batches:
            text = progress.check(layout, _as_text(layout, batch))
            text.select(
                pl.lit(layout.dataflow, dtype=pl.String).alias("DATAFLOW"), *layout.columns
            ).write_csv(stream, include_header=False)
    return WriteSummary(Path(path), progress.series, progress.observations)


def sorted_for_writing(observations: pl.DataFrame, structure: Structure) -> pl.DataFrame:
    """`observations` in the order the writers require: by series key, then TIME_PERIOD."""
    layout = DsdLayout.of(structure)
    return observations.sort([d.id for d in layout.dimensions])


@dataclass
class _Progress:
    """Order check and counts carried from one batch to the next."""

    series: int = 0
    observations: int = 0
    last_key: str | None = None
    last_series: str | None = None

    def check(self, layout: DsdLayout, text: pl.DataFrame) -> pl.DataFrame:
        """`text` with a column telling where a new series starts.

        Refuses input not strictly increasing by full key: it would split a series or
        repeat an observation, and the bytes would depend on how the caller sorted.
        """
        series_ids = [d.id for d in layout.series_dimensions]
        key_ids = [*series_ids, layout.time_dimension.id]
        if text.select(pl.any_horizontal(pl.col(key_ids).is_null()).any()).item():
            raise ValueError(f"observations have an empty dimension value ({', '.join(key_ids)})")
        keyed = text.with_columns(
            pl.concat_str(series_ids, separator="\x1f").alias(SERIES_KEY),
            pl.concat_str(key_ids, separator="\x1f").alias("__key"),
        )
        previous_key = pl.col("__key").shift(1)
        previous_series = pl.col(SERIES_KEY).shift(1)
        if self.last_key is not None:
            previous_key = previous_key.fill_null(self.last_key)
            previous_series = previous_series.fill_null(self.last_series)
        keyed = keyed.with_columns(
            (pl.col("__key") <= previous_key).fill_null(False).alias("__unsorted"),
            pl.col(SERIES_KEY).ne_missing(previous_series).alias("__new_series"),
        )
        unsorted = keyed["__unsorted"].arg_true()
        if unsorted.len():
            row = int(unsorted[0])
            before = keyed["__key"][row - 1] if row else self.last_key
            raise ValueError(
                "observations are not strictly sorted by key: "
                f"{_readable(keyed['__key'][row])} after {_readable(before)}"
            )
        if keyed.height:
            self.last_key = keyed["__key"][-1]
            self.last_series = keyed[SERIES_KEY][-1]
        self.series += int(keyed["__new_series"].sum())
        self.observations += keyed.height
        return keyed.drop("__key", "__unsorted", SERIES_KEY)


def _readable(key: str | None) -> str:
    return "(start)" if key is None else ".".join(key.split("\x1f"))


def _write_xml(
    path: Path,
    layout: DsdLayout,
    batches: Iterable[pl.DataFrame],
    envelope: tuple[bytes, bytes],
    rows: RowRenderer,
    close_series: str,
) -> WriteSummary:
    progress = _Progress()
    head, tail = envelope
    with write_atomically(path) as stream:
        stream.write(head)
        for batch in batches:
            opened_before = progress.series > 0
            text = progress.check(layout, _as_text(layout, batch))
            _write_rows(
                stream,
                escaped(text.drop("__new_series")).with_columns(text["__new_series"]),
                rows,
                opened_before,
            )
        if progress.series:
            stream.write(close_series.encode())
        stream.write(tail)
    return WriteSummary(Path(path), progress.series, progress.observations)


def _write_rows(
    stream: BinaryIO, text: pl.DataFrame, rows: RowRenderer, opened_before: bool
) -> None:
    if text.height == 0:
        return
    new_series = pl.col("__new_series")
    close_previous = new_series & ((pl.int_range(pl.len()) > 0) | pl.lit(opened_before))
    rendered = text.select(rows(new_series, close_previous).alias("xml"))["xml"]
    stream.write(rendered.str.join("").item().encode())


def _structure_specific_rows(layout: DsdLayout) -> RowRenderer:
    series_components = (*layout.series_dimensions, *layout.series_attributes)
    obs_components = (layout.time_dimension, layout.measure, *layout.observation_attributes)
    series_open = pl.concat_str(
        [pl.lit("    <Series"), *(attribute(c.id) for c in series_components), pl.lit(">\n")]
    )
    obs = pl.concat_str(
        [pl.lit("      <Obs"), *(attribute(c.id) for c in obs_components), pl.lit("/>\n")]
    )
    return lambda new_series, close_previous: _row(
        new_series, close_previous, "    </Series>\n", series_open, obs
    )


def _generic_rows(layout: DsdLayout) -> RowRenderer:
    series_attributes = [a.id for a in layout.series_attributes]
    obs_attributes = [a.id for a in layout.observation_attributes]
    series_open = pl.concat_str(
        [
            pl.lit("    <gen:Series>\n      <gen:SeriesKey>\n"),
            *(generic_value("gen:Value", d.id, "        ") for d in layout.series_dimensions),
            pl.lit("      </gen:SeriesKey>\n"),
            _generic_attributes(series_attributes, "      "),
        ]
    )
    measure = pl.col(layout.measure.id)
    obs = pl.concat_str(
        [
            pl.lit('      <gen:Obs>\n        <gen:ObsDimension value="'),
            pl.col(layout.time_dimension.id),
            pl.lit('"/>\n'),
            pl.when(measure.is_null())
            .then(pl.lit(""))
            .otherwise(
                pl.concat_str([pl.lit('        <gen:ObsValue value="'), measure, pl.lit('"/>\n')])
            ),
            _generic_attributes(obs_attributes, "        "),
            pl.lit("      </gen:Obs>\n"),
        ]
    )
    return lambda new_series, close_previous: _row(
        new_series, close_previous, "    </gen:Series>\n", series_open, obs
    )


def _generic_attributes(names: list[str], indent: str) -> pl.Expr:
    if not names:
        return pl.lit("")
    values = pl.concat_str([generic_value("gen:Value", name, indent + "  ") for name in names])
    return (
        pl.when(pl.all_horizontal(pl.col(names).is_null()))
        .then(pl.lit(""))
        .otherwise(
            pl.concat_str(
                [
                    pl.lit(f"{indent}<gen:Attributes>\n"),
                    values,
                    pl.lit(f"{indent}</gen:Attributes>\n"),
                ]
            )
        )
    )


def _row(
    new_series: pl.Expr, close_previous: pl.Expr, close: str, series_open: pl.Expr, obs: pl.Expr
) -> pl.Expr:
    return pl.concat_str(
        [
            pl.when(close_previous).then(pl.lit(close)).otherwise(pl.lit("")),
            pl.when(new_series).then(series_open).otherwise(pl.lit("")),
            obs,
        ]
    )


def _as_text(layout: DsdLayout, batch: pl.DataFrame) -> pl.DataFrame:
    """The batch's columns in DSD order as text. Numbers are formatted by polars, whole
    numbers without a decimal part (12, not 12.0) whatever the column's type."""
    missing = [c for c in layout.columns if c not in batch.columns]
    if missing:
        raise ValueError(f"observations lack the columns {missing} of DSD {layout.dsd_reference}")
    measure_id = layout.measure.id
    measure = batch[measure_id]
    if measure.dtype.is_float():
        if (measure.is_infinite() | measure.is_nan()).any():
            raise ValueError(
                f"{measure_id} holds NaN or infinity; leave a value out with null instead"
            )
        whole = (measure == measure.round()) & (measure.abs() < WHOLE_LIMIT)
        if layout.measure.value_type in INTEGER_TYPES and not whole.fill_null(True).all():
            raise ValueError(f"{measure_id} of DSD {layout.dsd_reference} must be whole numbers")
        text = pl.when(whole).then(pl.col(measure_id).cast(pl.Int64).cast(pl.String))
        measure_text = text.otherwise(pl.col(measure_id).cast(pl.String))
    else:
        measure_text = pl.col(measure_id).cast(pl.String)
    return batch.select(
        [
            (measure_text if c == measure_id else pl.col(c).cast(pl.String)).alias(c)
            for c in layout.columns
        ]
    )


def _envelope(
    layout: DsdLayout, header: MessageHeader, *, structure_specific: bool
) -> tuple[bytes, bytes]:
    """The message without its series, split where the series go, serialised by lxml."""
    if structure_specific:
        root_tag = "StructureSpecificData"
        nsmap = {
            "mes": MESSAGE,
            "com": COMMON,
            "ss": STRUCTURE_SPECIFIC,
            "xsi": XSI,
            DSD_PREFIX: layout.namespace,
        }
        data_set_attributes = {
            qname(STRUCTURE_SPECIFIC, "structureRef"): layout.structure_id,
            qname(STRUCTURE_SPECIFIC, "dataScope"): "DataStructure",
            qname(XSI, "type"): f"{DSD_PREFIX}:DataSetType",
        }
    else:
        root_tag = "GenericData"
        nsmap = {"mes": MESSAGE, "com": COMMON, "gen": GENERIC}
        data_set_attributes = {"structureRef": layout.structure_id}
    root = etree.Element(qname(MESSAGE, root_tag), nsmap=nsmap)
    root.append(_header(header, layout, structure_specific=structure_specific))
    data_set = etree.SubElement(root, qname(MESSAGE, "DataSet"), data_set_attributes)
    data_set.append(etree.Comment(BODY_MARK))
    text = etree.tostring(root, encoding="utf-8", xml_declaration=True, pretty_print=True)
    head, tail = text.split(f"<!--{BODY_MARK}-->".encode())
    return head.rstrip(b" "), tail.lstrip(b"\n")


def _header(
    header: MessageHeader, layout: DsdLayout, *, structure_specific: bool
) -> etree._Element:
    element = etree.Element(qname(MESSAGE, "Header"))
    etree.SubElement(element, qname(MESSAGE, "ID")).text = header.message_id
    etree.SubElement(element, qname(MESSAGE, "Test")).text = "true" if header.test else "false"
    etree.SubElement(element, qname(MESSAGE, "Prepared")).text = header.prepared.isoformat()
    etree.SubElement(element, qname(MESSAGE, "Sender"), id=header.sender)
    structure = etree.SubElement(
        element, qname(MESSAGE, "Structure"), structureID=layout.structure_id
    )
    if structure_specific:
        structure.set("namespace", layout.namespace)
    structure.set("dimensionAtObservation", layout.time_dimension.id)
    reference = etree.SubElement(structure, qname(COMMON, "Structure"))
    etree.SubElement(reference, "Ref", agencyID=layout.agency, id=layout.id, version=layout.version)
    return element
