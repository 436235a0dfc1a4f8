"""Partner packages (SPEC 9): a partner's agreed tables for one month, as a numbered zip with
a manifest, delivered through the partner's adapter and logged.

Numbering: package 1 the first time a (partner, month) is packaged. Packaging again makes
package n+1 only when some table's cells differ from package n's (a revision: late
registrations, reclassifications, a changed agreement); when nothing changed, no package is
made and the outcome says so. A package is never replaced: n+1 lands beside n.

Each table of a package is a release in the warehouse's release tables (publication.releases):
dataset = the table's dataflow id, reference_period = the month, vintage = the package
number, status provisional, its cells in release_cells, so revisions() and the dashboards'
releases page show partner tables like the SDMX exports. The files themselves live in the
package, not in the exports directory, so release_files has no rows for them; the delivery
log lists the package: releases.partner_deliveries(package_id, partner, month,
package_number, supersedes, file_name, sha256, size_bytes, release_ids, destination,
adapter, created_at, delivered_at).

The zip `<SENDER>-<PARTNER>_<YYYY-MM>_package-<NNN>.zip` holds, in the configuration's order,
each table in its formats (`<table>.csv` UTF-8 with labels, `<table>.sdmx.csv` SDMX-CSV 1.0,
`<table>.xml` SDMX-ML 2.1 StructureSpecificData), `structure.xml` (the structures of the
partner's dataflows) when any SDMX file is present, and `manifest.json`. Its bytes depend
only on the content: members in that order, every timestamp the package's created_at.

The gate: every SDMX file (and the structure file) passes validate_sdmx_file, and every
data file is read back into exactly the observations, before anything is recorded or
delivered. Then, in one transaction: the releases, the delivery (the adapter places the
zip) and the delivery-log row; a failure before the delivery leaves no record and no package,
a failed delivery rolls the records back. (Only a crash between the placement of the zip and
the commit leaves a zip without records; packaging the month again then stops on its name.)
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
from sdmx.message import StructureMessage

from core.contracts import MONTH_PATTERN
from core.disclosure import AUDIT_COLUMNS, audit_records
from core.files import sha256_of
from core.settings import DEFAULT_OUTBOX_FILE_MODE, StructureSettings
from publication import intents, population
from publication.partners.config import (
    CONFIG_DIR,
    AgreedTable,
    PartnerConfig,
    load_partner,
    load_partners,
)
from publication.partners.delivery import DeliveryAdapter, DeliveryError, delivery_adapter
from publication.partners.structures import partner_structures
from publication.partners.tables import (
    CONFIDENTIAL_VALUE,
    labelled_table,
    mart_rows,
    table_observations,
)
from publication.releases import (
    MANIFEST,
    STATUSES,
    Release,
    ReleaseError,
    ensure_release_tables,
    gate,
    gate_problems,
    iso_utc,
    naive_utc,
    record_release,
    release_cells,
    release_id_of,
)
from publication.stored_cells import (
    SCHEMA,
    cells_as_protected,
    observations_from_cells,
    stored_cells,
)
from sdmx_export.layout import DsdLayout
from sdmx_export.structure_file import write_structure_file
from sdmx_export.structures import dataflow
from sdmx_export.writers import MessageHeader, write_sdmx_csv, write_structure_specific

STATUS = "provisional"
# The files loaded, as the warehouse's dbt model serves them (publication reads what dbt
# built, never the raw layer the ingestion writes).
FILES_LOADED = "staging.stg_ingestion__file_loads"
STRUCTURE_FILE = "structure.xml"
EXTENSIONS = {"csv": ".csv", "sdmx-csv": ".sdmx.csv", "sdmx-ml": ".xml"}
FORMAT_NAMES = {
    "csv": "CSV UTF-8 with labels",
    "sdmx-csv": "SDMX-CSV 1.0",
    "sdmx-ml": "SDMX-ML 2.1 StructureSpecificData",
}
DELIVERIES_DDL = (
    f"create table if not exists {SCHEMA}.partner_deliveries (package_id varchar primary key, "
    "partner varchar not null, month varchar not null, package_number integer not null, "
    "supersedes varchar, file_name varchar not null, sha256 varchar not null, "
    "size_bytes bigint not null, release_ids varchar[] not null, destination varchar not null, "
    "adapter varchar not null, created_at timestamp not null, delivered_at timestamp not null)"
)


class PackageError(ReleaseError):
    """A package cannot be made; `problems` lists every reason."""


# What stops one month's package without stopping the others'.
PackageProblem = ReleaseError | DeliveryError
PACKAGE_PROBLEMS = (ReleaseError, DeliveryError)


@dataclass(frozen=True)
class PackageOutcome:
    """What packaging did: a new package (`created`), or none because nothing changed since
    package `number` (then `manifest` is None and the rest describes that package)."""

    partner: str
    month: str
    number: int
    package_id: str
    destination: str
    sha256: str
    created: bool
    rows: dict[str, int]
    manifest: dict[str, Any] | None = None


@dataclass(frozen=True)
class _Table:
    table: AgreedTable
    observations: pl.DataFrame
    cells: pl.DataFrame
    release_id: str
    audit: dict[str, Any] | None
    confidential: pl.DataFrame  # release_id, series_key, time_period, obs_value


def package_id(sender: str, partner: PartnerConfig, month: str, number: int) -> str:
    """e.g. LT-LV_2024-03_package-002 (the zip is this name + .zip)."""
    return f"{sender}-{partner.country}_{month}_package-{number:03d}"


def ensure_delivery_log(con: duckdb.DuckDBPyConnection) -> None:
    ensure_release_tables(con)
    con.execute(DELIVERIES_DDL)


def deliver_package(
    con: duckdb.DuckDBPyConnection,
    partner_code: str,
    month: str,
    outbox_dir: Path,
    *,
    settings: StructureSettings,
    config_dir: Path = CONFIG_DIR,
    as_of: datetime | None = None,
    outbox_file_mode: int = DEFAULT_OUTBOX_FILE_MODE,
) -> PackageOutcome:
    """Package `partner_code`'s agreed tables for `month` and deliver them through the
    partner's adapter: what the Dagster asset and `crimestat extracts` both call."""
    [(_, outcome)] = deliver_packages(
        con, partner_code, [month], outbox_dir, settings=settings, config_dir=config_dir,
        as_of=as_of, outbox_file_mode=outbox_file_mode,
    )  # fmt: skip
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def deliver_packages(
    con: duckdb.DuckDBPyConnection,
    partner_code: str,
    months: Sequence[str],
    outbox_dir: Path,
    *,
    settings: StructureSettings,
    config_dir: Path = CONFIG_DIR,
    as_of: datetime | None = None,
    outbox_file_mode: int = DEFAULT_OUTBOX_FILE_MODE,
) -> list[tuple[str, PackageOutcome | PackageProblem]]:
    """Each month's package, its outcome or what stopped it; the partner's configuration is
    read and its structures built once for all the months (a backfill makes hundreds)."""
    partner = load_partner(partner_code, settings, config_dir)
    adapter = delivery_adapter(partner.delivery_adapter, outbox_dir, outbox_file_mode)
    structures = partner_structures(partner, settings)
    results: list[tuple[str, PackageOutcome | PackageProblem]] = []
    for month in months:
        try:
            outcome = produce_package(
                con, partner, month, adapter, settings=settings, as_of=as_of,
                structures=structures,
            )  # fmt: skip
        except PACKAGE_PROBLEMS as problem:
            results.append((month, problem))
        else:
            results.append((month, outcome))
    return results


def produce_package(
    con: duckdb.DuckDBPyConnection,
    partner: PartnerConfig,
    month: str,
    adapter: DeliveryAdapter,
    *,
    settings: StructureSettings,
    as_of: datetime | None = None,
    structures: StructureMessage | None = None,
) -> PackageOutcome:
    """Make the next package of (partner, month) if its tables changed, and deliver it.
    `structures`: the partner's, when the caller has built them already."""
    if not isinstance(month, str) or not MONTH_PATTERN.match(month):
        raise PackageError(f"month must look like YYYY-MM, not {month!r}")
    ensure_delivery_log(con)
    intents.reconcile(con, "package")  # a package killed half-way: its zip goes, its number is free
    previous = _latest_delivery(con, partner.code, month)
    number = previous["package_number"] + 1 if previous else 1
    structures = structures or partner_structures(partner, settings)
    tables = _tables(con, partner, month, number, structures, settings)
    rows = {t.table.id: t.observations.height for t in tables}
    changed = _changed_since(con, tables, previous, month)
    if previous and not any(changed.values()) and not _dropped(tables, previous, month):
        return PackageOutcome(
            partner.code, month, previous["package_number"], previous["package_id"],
            previous["destination"], previous["sha256"], False, rows,
        )  # fmt: skip

    now = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    ident = package_id(settings.country, partner, month, number)
    with tempfile.TemporaryDirectory(prefix=f"{ident}-") as staging_name:
        staging = Path(staging_name)
        files = _write_and_gate(staging, ident, partner, tables, structures, now, settings)
        manifest = _manifest(
            ident, partner, month, number, previous, now, as_of or now, tables, files, changed,
            settings,
        )  # fmt: skip
        (staging / MANIFEST).write_bytes(_json_bytes(manifest))
        zip_path = staging / f"{ident}.zip"
        _zip(zip_path, staging, [f["name"] for f in manifest["files"]] + [MANIFEST], now)
        digest, size = sha256_of(zip_path), zip_path.stat().st_size
        intents.record_intent(con, "package", ident, _placed(adapter, zip_path, partner, digest),
                              staging=staging)  # fmt: skip
        intents.kill_point("package:after_intent")
        con.execute("begin transaction")
        try:
            for table in tables:
                record_release(con, _release(table, month, number, now, as_of or now, ident),
                               table.cells)  # fmt: skip
                _record_confidential_values(con, table.confidential)
            destination = adapter.deliver(zip_path, partner.code)
            intents.kill_point("package:after_place")
            intents.clear_intent(con, "package", ident)
            con.execute(
                f"insert into {SCHEMA}.partner_deliveries values "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [ident, partner.code, month, number,
                 previous["package_id"] if previous else None, zip_path.name, digest, size,
                 [t.release_id for t in tables], destination, adapter.name, now,
                 datetime.now(UTC).replace(microsecond=0, tzinfo=None)],
            )  # fmt: skip
            intents.kill_point("package:before_commit")
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    return PackageOutcome(
        partner.code, month, number, ident, destination, digest, True, rows, manifest
    )


# --- internals -------------------------------------------------------------------------


def _placed(
    adapter: DeliveryAdapter, zip_path: Path, partner: PartnerConfig, digest: str
) -> dict[Path, str]:
    """What the adapter will create, for the publication intent: the package (its SHA-256)
    and its hidden temporary name; nothing for an adapter that delivers elsewhere."""
    placed = getattr(adapter, "placed_paths", None)
    if placed is None:
        return {}
    target, *temporary = placed(zip_path, partner.code)
    return {target: digest} | dict.fromkeys(temporary, intents.TEMPORARY)


def _latest_delivery(
    con: duckdb.DuckDBPyConnection, partner: str, month: str
) -> dict[str, Any] | None:
    cursor = con.execute(
        f"select * from {SCHEMA}.partner_deliveries where partner = ? and month = ? "
        "order by package_number desc limit 1",
        [partner, month],
    )
    rows = cursor.fetchall()
    names = [column[0] for column in cursor.description]
    return dict(zip(names, rows[0], strict=True)) if rows else None


def _tables(
    con: duckdb.DuckDBPyConnection,
    partner: PartnerConfig,
    month: str,
    number: int,
    structures: StructureMessage,
    settings: StructureSettings,
) -> list[_Table]:
    """Every agreed table's observations and cells. Refused for a month no register has
    delivered anything for: its empty tables would tell the partner 'nothing happened'."""
    loaded = con.execute(
        f"select count(*) from {FILES_LOADED} where _partition = ?", [month]
    ).fetchall()[0][0]
    if not loaded:
        raise PackageError(
            f"{partner.code} {month}: no register extract of {month} has been loaded "
            f"({FILES_LOADED}): materialize the month first"
        )
    marts = {source: mart_rows(con, source, month) for source in partner.sources}
    tables = []
    for table in partner.tables:
        layout = DsdLayout.of(dataflow(structures, table.dataflow_id))
        earlier = [
            observations_from_cells(cells, layout)
            for n in range(1, number)
            if (cells := cells_as_protected(con, release_id_of(table.dataflow_id, month, n))).height
        ] if table.disclosure_control else []  # fmt: skip
        system = partial(
            population.linked_publications, con, int(month[:4]), kind=table.dataflow_id,
            period=month, settings=settings,
            partners=load_partners(settings=settings) | {partner.code: partner},
        )  # fmt: skip
        audited = table_observations(
            marts[table.source], table, month, settings, obs_status=STATUSES[STATUS],
            published=earlier, linked=system,
        )  # fmt: skip
        audit = None
        if table.disclosure_control:
            series = [d.id for d in layout.series_dimensions]
            audit = audit_records(audited, series, settings.disclosure, time="TIME_PERIOD")
        observations = audited.drop(*AUDIT_COLUMNS, CONFIDENTIAL_VALUE)
        release_id = release_id_of(table.dataflow_id, month, number)
        cells = release_cells(observations, layout, release_id)
        confidential = release_cells(
            audited.filter(pl.col(CONFIDENTIAL_VALUE).is_not_null()).with_columns(
                pl.col(CONFIDENTIAL_VALUE).alias("OBS_VALUE")
            ),
            layout,
            release_id,
        ).select("release_id", "series_key", "time_period", "obs_value")
        tables.append(_Table(table, observations, cells, release_id, audit, confidential))
    return tables


def _changed_since(
    con: duckdb.DuckDBPyConnection,
    tables: list[_Table],
    previous: dict[str, Any] | None,
    month: str,
) -> dict[str, bool | None]:
    """Per table: do its cells differ from the previous package's (None: no previous)?"""
    if previous is None:
        return {t.table.id: None for t in tables}
    recorded = set(previous["release_ids"])
    changed: dict[str, bool | None] = {}
    for table in tables:
        before_id = release_id_of(table.table.dataflow_id, month, previous["package_number"])
        if before_id not in recorded:
            changed[table.table.id] = True  # a table the earlier package did not have
            continue
        columns = ["series_key", "time_period", "obs_value", "obs_status", "conf_status"]
        before = stored_cells(con, before_id).select(columns)
        changed[table.table.id] = not table.cells.select(columns).equals(before)
    return changed


def _dropped(tables: list[_Table], previous: dict[str, Any], month: str) -> list[str]:
    """Releases of the previous package whose table the agreement no longer has."""
    kept = {release_id_of(t.table.dataflow_id, month, previous["package_number"]) for t in tables}
    return sorted(set(previous["release_ids"]) - kept)


def _write_and_gate(
    staging: Path,
    ident: str,
    partner: PartnerConfig,
    tables: list[_Table],
    structures: StructureMessage,
    created_at: datetime,
    settings: StructureSettings,
) -> list[dict[str, Any]]:
    """Write every file of the package, pass the SDMX ones through the gate; the manifest's
    file entries, in package order."""
    prepared = created_at.replace(tzinfo=UTC)
    entries: list[dict[str, Any]] = []
    problems: list[str] = []
    for item in tables:
        table = item.table
        flow = dataflow(structures, table.dataflow_id)
        written = observations_from_cells(item.cells, DsdLayout.of(flow))
        message_id = item.release_id.replace("-", "_").upper()
        counts: dict[str, int | None] = {}
        for file_format in table.formats:
            name = f"{table.id}{EXTENSIONS[file_format]}"
            entry = {"name": name, "table": table.id, "format": FORMAT_NAMES[file_format],
                     "rows": item.observations.height,
                     "disclosure_control": table.disclosure_control}  # fmt: skip
            if file_format == "csv":
                labelled = labelled_table(item.observations, table, partner.label_language,
                                          settings)  # fmt: skip
                labelled.frame.write_csv(staging / name)
                entry["label_language"] = partner.label_language
                entry["labels_in_english_instead"] = labelled.fallbacks
            elif file_format == "sdmx-csv":
                counts[name] = write_sdmx_csv(staging / name, flow, [written]).observations
            else:
                header = MessageHeader(f"{message_id}_SS", prepared, settings.agency_id)
                counts[name] = write_structure_specific(
                    staging / name, flow, [written], header
                ).observations
            entries.append(entry)
        if counts:
            try:
                gate(staging, counts, structures, item.observations, DsdLayout.of(flow))
            except ReleaseError as error:
                problems += error.problems
    if any(item.table.sdmx_formats for item in tables):
        message_id = f"{ident}_STR".replace("-", "_").upper()
        write_structure_file(staging / STRUCTURE_FILE, structures, message_id=message_id,
                             prepared=prepared)  # fmt: skip
        problems += gate_problems(staging / STRUCTURE_FILE, structures)
        entries.append({"name": STRUCTURE_FILE, "table": None,
                        "format": "SDMX-ML 2.1 Structure", "rows": None,
                        "disclosure_control": None})  # fmt: skip
    if problems:
        raise PackageError(f"the {partner.code} package failed the delivery gate", problems)
    for entry in entries:
        path = staging / entry["name"]
        entry["sha256"] = sha256_of(path)
        entry["size_bytes"] = path.stat().st_size
    return entries


def _manifest(
    ident: str,
    partner: PartnerConfig,
    month: str,
    number: int,
    previous: dict[str, Any] | None,
    created_at: datetime,
    as_of: datetime,
    tables: list[_Table],
    files: list[dict[str, Any]],
    changed: dict[str, bool | None],
    settings: StructureSettings,
) -> dict[str, Any]:
    return {
        "package": {
            "id": ident,
            "number": number,
            "supersedes": previous["package_id"] if previous else None,
            "partner": partner.code,
            "partner_name": dict(partner.names),
            "sender": {"agency": settings.agency_id, "country": settings.country},
            "reference_month": month,
            "created_at": iso_utc(created_at),
            "as_of": iso_utc(naive_utc(as_of)),
            "status": STATUS,
            "label_language": partner.label_language,
        },
        "releases": [t.release_id for t in tables],
        "tables": [
            {
                "id": t.table.id,
                "title": t.table.title,
                "dataflow": t.table.dataflow_id,
                "release_id": t.release_id,
                "source": f"marts.{t.table.source}",
                "rows": t.observations.height,
                "disclosure_control": t.table.disclosure_control,
                "changed_since_previous_package": changed[t.table.id],
                **({"disclosure_audit": t.audit} if t.audit is not None else {}),
            }
            for t in tables
        ],
        "files": files,
    }


def _record_confidential_values(con: duckdb.DuckDBPyConnection, values: pl.DataFrame) -> None:
    """The true values of the cells a package suppressed (inside the caller's transaction)."""
    if values.height:
        con.executemany(
            f"insert into {SCHEMA}.confidential_values values (?, ?, ?, ?)", values.rows()
        )


def _release(
    table: _Table, month: str, number: int, now: datetime, as_of: datetime, ident: str
) -> Release:
    return Release(
        release_id=table.release_id,
        dataset=table.table.dataflow_id,
        reference_period=month,
        vintage=number,
        as_of=naive_utc(as_of),
        status=STATUS,
        embargo_until=None,
        published_at=now,
        notes=f"partner package {ident}",
        directory=Path(),
    )


def _zip(path: Path, staging: Path, names: list[str], created_at: datetime) -> None:
    """Deterministic zip: members in the given order, each dated created_at (to the two
    seconds zip times resolve), mode 0644."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=created_at.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            archive.writestr(info, (staging / name).read_bytes(), compresslevel=9)
    path.write_bytes(buffer.getvalue())


def _json_bytes(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
