"""Releases (SPEC 7 and 8): one dataflow x reference year x vintage, delivered as files.

The release tables live in the warehouse, schema `releases` (the dashboards read them):

- releases(release_id, dataset, reference_period, vintage, as_of, status, embargo_until,
  published_at, notes): release_id is `<DATAFLOW>-<YEAR>-v<VINTAGE>`; status 'provisional'
  (OBS_STATUS P) or 'final' (OBS_STATUS A); timestamps are naive UTC.
- release_files(release_id, relative_path, sha256, observations): every file of the release,
  relative to the exports directory (observations null for the structure file and manifest).
- release_cells(release_id, series_key, time_period, obs_value, obs_status, conf_status):
  every published cell; the series key is the series dimensions joined by dots in DSD order
  (e.g. A.ICCS0502.NR.LT).

Files, under `<exports_dir>/<DATAFLOW>/<YEAR>/v<VINTAGE>/`, named after Eurostat's dataset
naming convention DOMAIN_DSDID_FREQ_FROMYEAR_PERIOD: the dataflow id stands for
DOMAIN_DSDID (CRIM_OFF_CAT, CRIM_JUST, EJ_XB_CONV), FREQ is A, FROMYEAR the reference year
and PERIOD 0000 (annual data, no sub-period), e.g. CRIM_OFF_CAT_A_2022_0000:

  CRIM_OFF_CAT_A_2022_0000.xml            StructureSpecificData (the delivery format)
  CRIM_OFF_CAT_A_2022_0000.generic.xml    GenericData
  CRIM_OFF_CAT_A_2022_0000.csv            SDMX-CSV 1.0
  CRIM_OFF_CAT_A_2022_0000.structure.xml  the structure message (DSD, code lists, dataflow)
  manifest.json                           release metadata, files with SHA-256 and counts

The vintage lives in the directory, never in the file names, so every vintage of a dataset
has the same names.

Determinism: files are always written from the release's stored cells, with message ids
derived from the release id and the prepared time = the release's published_at. Producing an
existing release again re-reads its cells and row and gives byte-identical files; a file
already in place with other bytes is never overwritten (ReleaseError).

The gate: files are written to a staging directory, each one passes validate_sdmx_file, the
data files are read back and compared with the observations made from the mart; only then do
the files move into place (a rename) and the release rows commit.

The partner extracts (publication.partners) record each table of a package here too, with a
month (YYYY-MM) as reference period and the package number as vintage; their files travel in
the package, so release_files holds no rows for them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
from sdmx.message import StructureMessage

from core.disclosure import AUDIT_COLUMNS, LOWER, ProtectionError, audit_records
from core.files import sha256_of
from core.settings import StructureSettings
from publication import datasets, intents, population
from publication.revisions import revisions_query
from publication.stored_cells import (
    MEASURE,
    SCHEMA,
    observations_from_cells,
    stored_cells,
    vintages_as_protected,
)
from sdmx_export.layout import DsdLayout
from sdmx_export.readers import SdmxFileError, read_back
from sdmx_export.structure_file import write_structure_file
from sdmx_export.structures import build_structures, dataflow
from sdmx_export.validation import validate_sdmx_file
from sdmx_export.writers import (
    MessageHeader,
    write_generic,
    write_sdmx_csv,
    write_structure_specific,
)

STATUSES = {"provisional": "P", "final": "A"}
MANIFEST = "manifest.json"
ATTRIBUTES = ("OBS_STATUS", "CONF_STATUS")

DDL = (
    f"create schema if not exists {SCHEMA}",
    f"create table if not exists {SCHEMA}.releases (release_id varchar primary key, "
    "dataset varchar not null, reference_period varchar not null, vintage integer not null, "
    "as_of timestamp not null, status varchar not null, embargo_until timestamp, "
    "published_at timestamp not null, notes varchar)",
    f"create table if not exists {SCHEMA}.release_files (release_id varchar not null, "
    "relative_path varchar not null, sha256 varchar not null, observations bigint)",
    f"create table if not exists {SCHEMA}.release_cells (release_id varchar not null, "
    "series_key varchar not null, time_period varchar not null, obs_value double, "
    "obs_status varchar, conf_status varchar)",
    f"create table if not exists {SCHEMA}.disclosure_audits (release_id varchar primary key, "
    "audit json not null)",
    # True values of the cells a public release suppressed: never delivered, kept so that
    # the next release of the same period is protected together with it.
    f"create table if not exists {SCHEMA}.confidential_values (release_id varchar not null, "
    "series_key varchar not null, time_period varchar not null, obs_value double not null)",
)


@dataclass(frozen=True)
class MartSource:
    """The mart a dataflow is made from and how."""

    mart: str
    observations: Callable[..., pl.DataFrame]
    disclosure_control: bool = False


SOURCES: dict[str, MartSource] = {
    "CRIM_OFF_CAT": MartSource("recorded_offences_annual", datasets.crim_off_cat_observations),
    "CRIM_JUST": MartSource("persons_convicted", datasets.crim_just_observations, True),
    "EJ_XB_CONV": MartSource("persons_convicted", datasets.ej_xb_conv_observations, True),
}


class ReleaseError(Exception):
    """A release cannot be produced; `problems` lists every reason."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = list(problems or [])
        lines = [message, *(f"  - {p}" for p in self.problems)]
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class ReleaseFile:
    relative_path: str
    sha256: str
    observations: int | None


@dataclass(frozen=True)
class Release:
    release_id: str
    dataset: str
    reference_period: str
    vintage: int
    as_of: datetime
    status: str
    embargo_until: datetime | None
    published_at: datetime
    notes: str
    directory: Path
    files: list[ReleaseFile] = field(default_factory=list)
    reproduced: bool = False

    @property
    def manifest_path(self) -> Path:
        return self.directory / MANIFEST

    @property
    def observations(self) -> int:
        return max((f.observations or 0 for f in self.files), default=0)


def ensure_release_tables(con: duckdb.DuckDBPyConnection) -> None:
    for statement in DDL:
        con.execute(statement)


def file_stem(dataflow_id: str, year: int) -> str:
    """DOMAIN_DSDID_FREQ_FROMYEAR_PERIOD for an annual dataset: CRIM_OFF_CAT_A_2022_0000."""
    return f"{dataflow_id}_A_{year}_0000"


def release_id_of(dataflow_id: str, period: int | str, vintage: int) -> str:
    """`<DATAFLOW>-<PERIOD>-v<VINTAGE>`: a year for the SDMX exports, a month (YYYY-MM) for
    the partner extracts."""
    return f"{dataflow_id}-{period}-v{vintage}"


def mart_observations(
    con: duckdb.DuckDBPyConnection,
    dataflow_id: str,
    year: int,
    *,
    obs_status: str = "A",
    settings: StructureSettings,
) -> pl.DataFrame:
    """The dataflow's observations for `year`, made from its mart. A dataflow of persons is
    protected together with every vintage of the year already published (so no two vintages
    can be differenced) and everything else published of the same persons (so no two tables
    can be combined: `population`), and keeps its audit columns (disclosure.AUDIT_COLUMNS)."""
    source = _source(dataflow_id)
    mart = con.sql(f"select * from marts.{source.mart} where ref_year = ?", params=[year]).pl()
    if not mart.height:
        raise ReleaseError(f"{dataflow_id} {year}: marts.{source.mart} has no rows for {year}")
    if not source.disclosure_control:
        return source.observations(mart, settings, obs_status=obs_status)
    layout = DsdLayout.of(dataflow(build_structures(settings), dataflow_id))
    published = [
        frame for _, _, frame in vintages_as_protected(con, dataflow_id, str(year), layout)
    ]
    try:
        linked, links = population.linked_publications(
            con,
            year,
            kind=dataflow_id,
            period=str(year),
            dimensions=datasets.PERSON_DIMENSIONS[dataflow_id](settings),
            earlier=len(published),
            settings=settings,
        )
        return source.observations(
            mart, settings, obs_status=obs_status, published=published, linked=linked, links=links
        )
    except ProtectionError as error:
        raise ReleaseError(
            f"{dataflow_id} {year}: disclosure control refuses it", [str(error)]
        ) from None
    except ValueError as error:  # a mart or a published table the structures cannot place
        raise ReleaseError(
            f"{dataflow_id} {year}: disclosure control cannot be done", [str(error)]
        ) from None


def produce_release(
    con: duckdb.DuckDBPyConnection,
    exports_dir: Path,
    dataflow_id: str,
    year: int,
    vintage: int | None = None,
    status: str = "provisional",
    as_of: datetime | None = None,
    embargo_until: datetime | None = None,
    notes: str = "",
    *,
    settings: StructureSettings,
) -> Release:
    """Produce (or reproduce) one release and return it.

    vintage None makes the next vintage from the mart; an existing vintage is rewritten from
    its stored cells (byte-identical files); any other vintage number is refused.
    """
    _source(dataflow_id)
    if status not in STATUSES:
        raise ReleaseError(f"status must be one of {sorted(STATUSES)}, not {status!r}")
    structures = build_structures(settings)
    flow = dataflow(structures, dataflow_id)
    layout = DsdLayout.of(flow)
    exports_dir = Path(exports_dir)
    ensure_release_tables(con)
    intents.reconcile(con, "release")  # a release killed half-way: its files go, its number is free
    existing = con.execute(
        f"select vintage from {SCHEMA}.releases where dataset = ? and reference_period = ? "
        "order by vintage",
        [dataflow_id, str(year)],
    ).fetchall()
    vintages = [row[0] for row in existing]
    next_vintage = (max(vintages) + 1) if vintages else 1
    if vintage is not None and vintage in vintages:
        release = _stored_release(con, exports_dir, release_id_of(dataflow_id, year, vintage))
        cells = stored_cells(con, release.release_id)
        if not cells.height:
            raise ReleaseError(
                f"release {release.release_id} has no stored cells to reproduce it from"
            )
        observations = observations_from_cells(cells, layout)
        expected = observations
        audit = _stored_audit(con, release.release_id)
        new = False
    elif vintage is None or vintage == next_vintage:
        vintage = next_vintage
        now = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
        release_id = release_id_of(dataflow_id, year, vintage)
        release = Release(
            release_id=release_id,
            dataset=dataflow_id,
            reference_period=str(year),
            vintage=vintage,
            as_of=naive_utc(as_of) if as_of else now,
            status=status,
            embargo_until=naive_utc(embargo_until) if embargo_until else None,
            published_at=now,
            notes=notes,
            directory=exports_dir / dataflow_id / str(year) / f"v{vintage}",
        )
        protected = mart_observations(
            con, dataflow_id, year, obs_status=STATUSES[status], settings=settings
        )
        audit = _disclosure_audit(protected, layout, settings)
        expected = protected.drop(AUDIT_COLUMNS, strict=False)
        cells = release_cells(expected, layout, release_id)
        observations = observations_from_cells(cells, layout)
        new = True
    else:
        raise ReleaseError(
            f"{dataflow_id} {year}: vintage {vintage} does not exist and the next is {next_vintage}"
        )

    exports_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale_staging(exports_dir, release.release_id)
    staging = Path(tempfile.mkdtemp(prefix=_staging_prefix(release.release_id), dir=exports_dir))
    try:
        files = _write_files(staging, release, structures, flow, observations, settings)
        gate(staging, files, structures, expected, layout)
        release = _with_files(release, staging, files, exports_dir, audit)
        if new:
            intents.record_intent(
                con, "release", release.release_id,
                {release.directory / p.name: sha256_of(p) for p in staging.iterdir()},
                [] if release.directory.exists() else [release.directory],
                staging=staging,
            )  # fmt: skip
            intents.kill_point("release:after_intent")
            con.execute("begin transaction")
            try:
                record_release(con, release, cells)
                if audit is not None:
                    con.execute(
                        f"insert into {SCHEMA}.disclosure_audits values (?, ?)",
                        [release.release_id, json.dumps(audit, sort_keys=True)],
                    )
                _place(staging, release.directory)
                intents.kill_point("release:after_place")
                intents.clear_intent(con, "release", release.release_id)
                intents.kill_point("release:before_commit")
                con.execute("commit")
            except BaseException:
                con.execute("rollback")
                raise
        else:
            _check_recorded(con, release)
            _place(staging, release.directory)
            release = replace(release, reproduced=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return release


def revisions(
    con: duckdb.DuckDBPyConnection, dataflow_id: str, period: int | str, vintage: int
) -> pl.DataFrame:
    """Cells of `vintage` revised against the previous vintage (added, removed or changed;
    publication.revisions): series_key, time_period, previous_value, new_value, difference.
    Empty when there is no previous vintage or nothing changed. `period` is the release's
    reference period (a year, or a month YYYY-MM for partner extracts)."""
    ensure_release_tables(con)
    schema = {
        "series_key": pl.String,
        "time_period": pl.String,
        "previous_value": pl.Float64,
        "new_value": pl.Float64,
        "difference": pl.Float64,
    }
    frame = con.sql(
        f"select {', '.join(schema)} from ({revisions_query(SCHEMA)}) "
        "where release_id = ? and revised order by 1, 2",
        params=[release_id_of(dataflow_id, period, vintage)],
    ).pl()
    return frame.cast(schema) if frame.height else pl.DataFrame(schema=schema)


def gate_problems(path: Path, structures: StructureMessage | Path) -> list[str]:
    """The gate on one file from anywhere: every problem as 'file: where: what'."""
    return [f"{Path(path).name}: {p}" for p in validate_sdmx_file(Path(path), structures)]


def naive_utc(moment: datetime) -> datetime:
    """Release times are stored as naive UTC to the second (DuckDB timestamp columns)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0)


def release_cells(observations: pl.DataFrame, layout: DsdLayout, release_id: str) -> pl.DataFrame:
    """Observations as the rows of release_cells: what revisions compare, vintage to vintage."""
    series = [d.id for d in layout.series_dimensions]
    return observations.select(
        pl.lit(release_id).alias("release_id"),
        pl.concat_str([pl.col(c).cast(pl.String) for c in series], separator=".").alias(
            "series_key"
        ),
        pl.col(layout.time_dimension.id).cast(pl.String).alias("time_period"),
        pl.col(MEASURE).cast(pl.Float64).alias("obs_value"),
        pl.col("OBS_STATUS").cast(pl.String).alias("obs_status"),
        pl.col("CONF_STATUS").cast(pl.String).alias("conf_status"),
    ).sort("series_key", "time_period")


def gate(
    staging: Path,
    files: dict[str, int | None],
    structures: StructureMessage,
    expected: pl.DataFrame,
    layout: DsdLayout,
) -> None:
    """Every file valid, every data file (a count, not None) read back into exactly the
    `expected` observations; ReleaseError listing every problem otherwise."""
    problems: list[str] = []
    for name, count in files.items():
        path = staging / name
        found = validate_sdmx_file(path, structures)
        problems += [f"{name}: {p}" for p in found]
        if count is None or found:
            continue
        try:
            delivered = read_back(path)
        except SdmxFileError as error:
            problems.append(f"{name}: cannot be read back: {error}")
            continue
        problems += [f"{name}: {p}" for p in _compare(delivered, expected, layout)]
    if problems:
        raise ReleaseError("the release failed the delivery gate", problems)


def record_release(con: duckdb.DuckDBPyConnection, release: Release, cells: pl.DataFrame) -> None:
    """Insert the release, its files and its cells; the caller holds the transaction."""
    con.execute(
        f"insert into {SCHEMA}.releases values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            release.release_id,
            release.dataset,
            release.reference_period,
            release.vintage,
            release.as_of,
            release.status,
            release.embargo_until,
            release.published_at,
            release.notes,
        ],
    )
    if release.files:
        con.executemany(
            f"insert into {SCHEMA}.release_files values (?, ?, ?, ?)",
            [
                (release.release_id, f.relative_path, f.sha256, f.observations)
                for f in release.files
            ],
        )
    con.register("_release_cells", cells.to_arrow())
    try:
        con.execute(
            f"insert into {SCHEMA}.release_cells select release_id, series_key, time_period, "
            "obs_value, obs_status, conf_status from _release_cells"
        )
    finally:
        con.unregister("_release_cells")


def iso_utc(moment: datetime | None) -> str | None:
    """A stored (naive UTC) time as ISO 8601 with its offset, for manifests."""
    return None if moment is None else moment.replace(tzinfo=UTC).isoformat()


# --- internals -------------------------------------------------------------------------


def _source(dataflow_id: str) -> MartSource:
    try:
        return SOURCES[dataflow_id]
    except KeyError:
        raise ReleaseError(
            f"unknown dataflow {dataflow_id!r} (known: {', '.join(SOURCES)})"
        ) from None


def _stored_release(con: duckdb.DuckDBPyConnection, exports_dir: Path, release_id: str) -> Release:
    rows = con.execute(
        f"select release_id, dataset, reference_period, vintage, as_of, status, embargo_until, "
        f"published_at, notes from {SCHEMA}.releases where release_id = ?",
        [release_id],
    ).fetchall()
    if not rows:
        raise ReleaseError(f"release {release_id} is not recorded")
    rid, dataset, period, vintage, as_of, status, embargo, published, notes = rows[0]
    return Release(
        release_id=rid,
        dataset=dataset,
        reference_period=period,
        vintage=vintage,
        as_of=as_of,
        status=status,
        embargo_until=embargo,
        published_at=published,
        notes=notes or "",
        directory=exports_dir / dataset / period / f"v{vintage}",
    )


def _write_files(
    staging: Path,
    release: Release,
    structures: StructureMessage,
    flow,
    observations: pl.DataFrame,
    settings: StructureSettings,
) -> dict[str, int | None]:
    """Every file of the release into `staging`: name -> observation count."""
    stem = file_stem(release.dataset, int(release.reference_period))
    prepared = release.published_at.replace(tzinfo=UTC)
    ident = release.release_id.replace("-", "_").upper()

    def header(kind: str) -> MessageHeader:
        return MessageHeader(f"{ident}_{kind}", prepared, settings.agency_id)

    counts: dict[str, int | None] = {}
    name = f"{stem}.xml"
    counts[name] = write_structure_specific(
        staging / name, flow, [observations], header("SS")
    ).observations
    name = f"{stem}.generic.xml"
    counts[name] = write_generic(staging / name, flow, [observations], header("GEN")).observations
    name = f"{stem}.csv"
    counts[name] = write_sdmx_csv(staging / name, flow, [observations]).observations
    name = f"{stem}.structure.xml"
    write_structure_file(staging / name, structures, message_id=f"{ident}_STR", prepared=prepared)
    counts[name] = None
    return counts


def _compare(delivered: pl.DataFrame, expected: pl.DataFrame, layout: DsdLayout) -> list[str]:
    keys = [d.id for d in layout.dimensions]
    columns = [*keys, MEASURE, *ATTRIBUTES]
    if delivered.height == 0 and expected.height == 0:
        return []  # an empty file carries no columns to read back, and none are expected
    missing = [c for c in columns if c not in delivered.columns]
    if missing:
        return [f"read back lacks the columns {missing}"]

    def normal(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.select(
            *(pl.col(c).cast(pl.String) for c in keys),
            pl.col(MEASURE).cast(pl.Float64),
            *(pl.col(c).cast(pl.String) for c in ATTRIBUTES),
        ).sort(keys)

    got, want = normal(delivered), normal(expected)
    problems = []
    if got.height != want.height:
        problems.append(f"{got.height} observations read back, the mart gives {want.height}")
    joined = want.join(got, on=keys, how="full", suffix="_file", coalesce=True)
    for column in (MEASURE, *ATTRIBUTES):
        differ = joined.filter(pl.col(column).ne_missing(pl.col(f"{column}_file")))
        for row in differ.head(20).iter_rows(named=True):
            key = ".".join(str(row[k]) for k in keys)
            problems.append(
                f"{key}: {column} is {row[f'{column}_file']!r} in the file, "
                f"{row[column]!r} in the mart"
            )
        if differ.height > 20:
            problems.append(f"{differ.height - 20} more differences in {column}")
    return problems


def _disclosure_audit(
    protected: pl.DataFrame, layout: DsdLayout, settings: StructureSettings
) -> dict[str, object] | None:
    """The disclosure audit of a release of persons for its manifest (None for other data)."""
    if LOWER not in protected.columns:
        return None
    requirement = settings.disclosure
    series = [d.id for d in layout.series_dimensions]
    return audit_records(protected, series, requirement, time=layout.time_dimension.id)


def _stored_audit(con: duckdb.DuckDBPyConnection, release_id: str) -> dict[str, object] | None:
    rows = con.execute(
        f"select audit from {SCHEMA}.disclosure_audits where release_id = ?", [release_id]
    ).fetchall()
    return json.loads(rows[0][0]) if rows else None


def _with_files(
    release: Release,
    staging: Path,
    counts: dict[str, int | None],
    exports_dir: Path,
    audit: dict[str, object] | None,
) -> Release:
    """The release with its files listed and the manifest written into `staging`; a release
    of persons carries its disclosure audit (`disclosure_audit`)."""
    relative = release.directory.relative_to(exports_dir).as_posix()
    files = [
        ReleaseFile(f"{relative}/{name}", sha256_of(staging / name), count)
        for name, count in counts.items()
    ]
    manifest = {
        "release": {
            "release_id": release.release_id,
            "dataset": release.dataset,
            "reference_period": release.reference_period,
            "vintage": release.vintage,
            "status": release.status,
            "as_of": iso_utc(release.as_of),
            "embargo_until": iso_utc(release.embargo_until),
            "published_at": iso_utc(release.published_at),
            "notes": release.notes,
        },
        "naming": "DOMAIN_DSDID_FREQ_FROMYEAR_PERIOD",
        "files": [
            {
                "path": name,
                "format": _format(name),
                "sha256": file.sha256,
                "observations": file.observations,
            }
            for name, file in zip(counts, files, strict=True)
        ],
    }
    if audit is not None:
        manifest["disclosure_audit"] = audit
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    (staging / MANIFEST).write_bytes(text.encode("utf-8"))
    files.append(ReleaseFile(f"{relative}/{MANIFEST}", sha256_of(staging / MANIFEST), None))
    return replace(release, files=files)


def _format(name: str) -> str:
    if name.endswith(".structure.xml"):
        return "SDMX-ML 2.1 Structure"
    if name.endswith(".generic.xml"):
        return "SDMX-ML 2.1 GenericData"
    if name.endswith(".csv"):
        return "SDMX-CSV 1.0"
    return "SDMX-ML 2.1 StructureSpecificData"


def _check_recorded(con: duckdb.DuckDBPyConnection, release: Release) -> None:
    """A reproduced release must give the files recorded when it was first produced."""
    recorded = dict(
        con.execute(
            f"select relative_path, sha256 from {SCHEMA}.release_files where release_id = ?",
            [release.release_id],
        ).fetchall()
    )
    problems = [
        f"{f.relative_path}: SHA-256 {f.sha256}, recorded {recorded[f.relative_path]}"
        for f in release.files
        if f.relative_path in recorded and recorded[f.relative_path] != f.sha256
    ]
    if problems:
        raise ReleaseError(f"release {release.release_id} does not reproduce", problems)


def _staging_prefix(release_id: str) -> str:
    return f".staging-{release_id}-"


def _remove_stale_staging(exports_dir: Path, release_id: str) -> None:
    """Staging directories of this release left by a process killed before it recorded its
    intent (after, `intents.reconcile` removes them): only names `tempfile.mkdtemp` gave this
    release's prefix. One process writes a warehouse's releases at a time (DuckDB's lock)."""
    own = re.compile(re.escape(_staging_prefix(release_id)) + r"[a-z0-9_]{8}")
    if not exports_dir.is_dir():
        return
    for path in exports_dir.iterdir():
        if own.fullmatch(path.name) and path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)


def _place(staging: Path, directory: Path) -> None:
    """Move the staged files into `directory`; refuse to overwrite other bytes."""
    names = sorted(p.name for p in staging.iterdir())
    if not directory.exists():
        directory.parent.mkdir(parents=True, exist_ok=True)
        staging.chmod(0o700)  # owner only, like every file under the home
        os.replace(staging, directory)
        return
    conflicts = [
        str(directory / name)
        for name in names
        if (directory / name).exists() and sha256_of(directory / name) != sha256_of(staging / name)
    ]
    if conflicts:
        raise ReleaseError("refusing to overwrite delivered files with different bytes", conflicts)
    for name in names:
        if not (directory / name).exists():
            os.replace(staging / name, directory / name)
