"""Every query the pages run, on the current serving snapshot, opened read-only.

The pages never see SQL or a connection: they call these functions with what the user
picked and get polars frames back. Results are cached per snapshot file (its name changes at
every publication), so a new snapshot is read as soon as the pointer moves and an old one is
never mixed with it. The warehouse file itself is never opened here.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import streamlit as st

from core.snapshot_layout import current_snapshot
from core.vocabulary import DOMESTIC, ECRIS, TOTAL, UNMAPPED
from dashboards import face

# The breakdown whose TOTAL is an origin's headline (publication.public.breakdowns): every
# person convicted at home (CRIM_JUST, the same cell as every other breakdown's total there);
# persons convicted of serious cross-border crime received through ECRIS (EJ_XB_CONV).
HEADLINE = {DOMESTIC: "iccs_section", ECRIS: "crime_area"}
CUSTOMS_BREAKDOWNS = ("violation_type", "border_section", "procedure")
AUDIT_CELL_SCHEMA = {"series_key": pl.String, "time_period": pl.String, "primary": pl.Boolean,
                     "lower": pl.Float64, "upper": pl.Float64}  # fmt: skip
RELEASE_COLUMNS = ("release_id", "dataset", "reference_period", "vintage", "as_of", "status",
                   "embargo_until", "published_at", "notes")  # fmt: skip


@dataclass(frozen=True)
class Snapshot:
    """The snapshot a page run reads: resolved once per run from the pointer."""

    path: Path

    def query(self, sql: str, *params: Any) -> pl.DataFrame:
        return _query(str(self.path), sql, params)

    def has(self, table: str) -> bool:
        return table in _tables(str(self.path))


def current() -> Snapshot | None:
    """The snapshot the pointer names now, or None before the first publication. The
    public face reads only the public snapshot (dashboards.face)."""
    path = current_snapshot(face.serving_dir())
    return Snapshot(path) if path is not None and path.is_file() else None


@st.cache_resource(max_entries=4)
def _database(path: str) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(path, read_only=True)


@st.cache_data(max_entries=512, show_spinner=False)
def _query(path: str, sql: str, params: tuple[Any, ...]) -> pl.DataFrame:
    # One cursor per query: Streamlit runs every session in its own thread, and a DuckDB
    # connection must not be shared between threads, its cursors may.
    with _database(path).cursor() as cursor:
        return cursor.sql(sql, params=list(params)).pl()


@st.cache_data(max_entries=8, show_spinner=False)
def _tables(path: str) -> frozenset[str]:
    with _database(path).cursor() as cursor:
        rows = cursor.execute("select schema_name || '.' || table_name from duckdb_tables()")
        return frozenset(name for (name,) in rows.fetchall())


def published_at(snap: Snapshot) -> dt.datetime:
    return snap.query("select published_at from serving.snapshot_info").item()


def disclosure_threshold(snap: Snapshot) -> int:
    return snap.query("select disclosure_threshold from serving.snapshot_info").item()


# ------------------------------------------------------------------ recorded offences


def offence_years(snap: Snapshot) -> list[int]:
    frame = snap.query(
        "select distinct ref_year from marts.recorded_offences_annual order by ref_year desc"
    )
    return frame["ref_year"].to_list()


def national_total(snap: Snapshot, year: int, iccs_code: str = TOTAL) -> pl.DataFrame:
    """Offences and rate of the country for one code (TOTAL by default); empty if none."""
    return snap.query(
        "select offences, rate_per_100k from marts.recorded_offences_annual "
        "where geo_level = 'COUNTRY' and ref_year = ? and iccs_code = ?",
        year,
        iccs_code,
    )


def iccs_children(snap: Snapshot, year: int, parent: str | None) -> pl.DataFrame:
    """The codes one level below `parent` (sections and UNMAPPED below the total) that have
    offences in the year, for the country."""
    where = "(a.iccs_level = 1 or a.iccs_code = 'UNMAPPED')" if parent is None else "c.parent = ?"
    params = (year,) if parent is None else (year, parent)
    return snap.query(
        "select a.iccs_code, coalesce(c.label_en, a.iccs_code) as label, a.offences, "
        "a.offences_at_code, a.rate_per_100k "
        "from marts.recorded_offences_annual a "
        "left join reference.iccs_codes c on c.code = a.iccs_code "
        f"where a.geo_level = 'COUNTRY' and a.ref_year = ? and {where} "
        "order by a.iccs_code",
        *params,
    )


def iccs_label(snap: Snapshot, code: str) -> str:
    frame = snap.query("select label_en from reference.iccs_codes where code = ?", code)
    return frame.item() if frame.height else code


def iccs_label_of_sdmx_code(snap: Snapshot, code: str) -> str:
    """The label of a code as the releases write it (ICCS01)."""
    frame = snap.query("select label_en from reference.iccs_codes where eurostat_code = ?", code)
    return frame.item() if frame.height else code


def _offences_under(node: str | None) -> tuple[str, tuple[Any, ...]]:
    """SQL condition on recorded_offences `r` for offences under an ICCS node."""
    if node is None:
        return "true", ()
    if node == UNMAPPED:
        return "r.iccs_code = 'UNMAPPED'", ()
    return (
        "r.iccs_code in (select iccs_code from reference.iccs_hierarchy where ancestor_code = ?)",
        (node,),
    )


def monthly_offences(snap: Snapshot, node: str | None) -> pl.DataFrame:
    """Offences under `node` per month, months without any shown as 0 (not skipped)."""
    where, params = _offences_under(node)
    return snap.query(
        "with months as (select unnest(generate_series(min(ref_month), max(ref_month), "
        "interval 1 month))::date as ref_month from marts.recorded_offences), "
        "o as (select r.ref_month, sum(r.offences) as offences from marts.recorded_offences r "
        f"where {where} group by r.ref_month) "
        "select months.ref_month, coalesce(o.offences, 0)::bigint as offences from months "
        "left join o using (ref_month) order by months.ref_month",
        *params,
    )


def annual_offences(snap: Snapshot, node: str | None) -> pl.DataFrame:
    return snap.query(
        "select ref_year, offences, rate_per_100k from marts.recorded_offences_annual "
        "where geo_level = 'COUNTRY' and iccs_code = ? order by ref_year",
        node or TOTAL,
    )


def municipality_offences(snap: Snapshot, year: int, node: str | None) -> pl.DataFrame:
    """Every municipality (zero when it had none) with its county, offences under `node`
    in the year, and the rate when municipal population is in the reference data."""
    where, params = _offences_under(node)
    has_population = snap.has("reference.municipality_population")
    population = (
        "p.population, round(coalesce(o.offences, 0) * 100000.0 / p.population, 2) as rate"
        if has_population
        else "null::bigint as population, null::double as rate"
    )
    join = (
        "left join reference.municipality_population p on p.municipality_name = m.municipality_name"
        if has_population
        else ""
    )
    return snap.query(
        "with o as (select r.municipality, sum(r.offences) as offences "
        "from marts.recorded_offences r "
        f"where year(r.ref_month) = ? and {where} group by r.municipality) "
        "select m.municipality_name as municipality, m.nuts3, cp.county, "
        f"coalesce(o.offences, 0) as offences, {population} "
        "from reference.municipalities m "
        "left join o on o.municipality = m.municipality_name "
        "left join reference.county_population cp on cp.nuts3 = m.nuts3 "
        f"{join} order by m.municipality_name",
        year,
        *params,
    )


def county_offences(snap: Snapshot, year: int, node: str | None) -> pl.DataFrame:
    """Every county with offences under `node` in the year, population and rate."""
    return snap.query(
        "select cp.nuts3, cp.county, coalesce(a.offences, 0) as offences, p.population, "
        "coalesce(a.rate_per_100k, 0.0) as rate "
        "from reference.county_population cp "
        "left join marts.recorded_offences_annual a on a.geo = cp.nuts3 "
        "and a.geo_level = 'NUTS3' and a.ref_year = ? and a.iccs_code = ? "
        "left join reference.population_by_year p on p.geo = cp.nuts3 and p.ref_year = ? "
        "order by cp.nuts3",
        year,
        node or TOTAL,
        year,
    )


def solved_offences(snap: Snapshot, year: int) -> int:
    return snap.query(
        "select coalesce(sum(offences), 0)::bigint from marts.solved_offences "
        "where year(ref_month) = ?",
        year,
    ).item()


# ------------------------------------------------------------------ convictions


def conviction_years(snap: Snapshot, public: bool) -> list[int]:
    """Years with released figures, and the years of the data (the offences', and
    internally the mart of persons'): a year not released yet can be picked, and says so."""
    sources = [f"select ref_year from {_breakdowns(public)}",
               "select ref_year from marts.recorded_offences_annual"]  # fmt: skip
    if not public and snap.has("marts.persons_convicted"):
        sources.append("select ref_year from marts.persons_convicted")
    frame = snap.query(f"select distinct ref_year from ({' union '.join(sources)}) order by 1 desc")
    return frame["ref_year"].to_list()


def latest_released_year(snap: Snapshot, public: bool) -> int | None:
    """The latest year with released figures of persons convicted (shown first)."""
    return snap.query(f"select max(ref_year) from {_breakdowns(public)}").item()


def _breakdowns(public: bool) -> str:
    """Public mode reads only the public table (per year and dataset the latest vintage out
    of embargo, values of cells not free removed); the internal face the latest vintage of
    every release, under embargo or not, with true values and the flags as released."""
    if public:
        return "public.persons_convicted_breakdowns"
    return ("(select * from serving.persons_convicted_breakdowns "
            "qualify vintage = max(vintage) over (partition by ref_year, dataset))")  # fmt: skip


def persons_breakdowns(snap: Snapshot, year: int, origin: str, public: bool) -> pl.DataFrame:
    """Every breakdown of the year for one origin (DOM, ECRIS) as released: breakdown, code,
    position (0: the total), persons (null when hidden), conf_status, release_id, vintage,
    embargo_until; each breakdown in its table's order. Empty when nothing of the year is
    released."""
    return snap.query(
        "select breakdown, code, position, persons, conf_status, release_id, vintage, "
        "embargo_until "
        f"from {_breakdowns(public)} where ref_year = ? and origin = ? "
        "order by breakdown, position",
        year,
        origin,
    )


def persons_by_year(snap: Snapshot, origin: str, public: bool) -> pl.DataFrame:
    """The total of every released year (its headline breakdown's TOTAL): ref_year, persons
    (null when hidden), conf_status, release_id."""
    return snap.query(
        f"select ref_year, persons, conf_status, release_id from {_breakdowns(public)} "
        "where origin = ? and breakdown = ? and code = 'TOTAL' order by ref_year",
        origin,
        HEADLINE[origin],
    )


def persons_total(snap: Snapshot, year: int, origin: str, public: bool) -> dict[str, Any] | None:
    """The year's total as released (persons None when hidden) with its release_id and
    conf_status; None when nothing of the year is released (or out of embargo, in public)."""
    frame = persons_by_year(snap, origin, public).filter(pl.col("ref_year") == year)
    return frame.row(0, named=True) if frame.height else None


def sanctions(snap: Snapshot, year: int, via_ecris: bool) -> pl.DataFrame:
    """Persons by sanction, TOTAL first, live from the mart: in no release, so for the
    internal face only (the public snapshot has no mart of persons)."""
    return snap.query(
        "select case when grouping(sanction) = 1 then 'TOTAL' else sanction end as code, "
        "sum(persons)::bigint as persons from marts.persons_convicted "
        "where ref_year = ? and via_ecris = ? group by rollup (sanction) "
        "having count(*) > 0 order by grouping(sanction) desc, persons desc, code",
        year,
        via_ecris,
    )


# ------------------------------------------------------------------ customs


def customs_years(snap: Snapshot) -> list[int]:
    frame = snap.query(
        "select distinct year(ref_month) as y from marts.customs_violations order by y desc"
    )
    return frame["y"].to_list()


def customs_total(snap: Snapshot, year: int) -> int:
    return snap.query(
        "select coalesce(sum(violations), 0)::bigint from marts.customs_violations "
        "where year(ref_month) = ?",
        year,
    ).item()


def violations_by(snap: Snapshot, year: int, column: str) -> pl.DataFrame:
    if column not in CUSTOMS_BREAKDOWNS:
        raise ValueError(f"no customs breakdown {column!r}")
    return snap.query(
        f"select {column} as code, sum(violations)::bigint as violations "
        "from marts.customs_violations where year(ref_month) = ? "
        "group by 1 order by violations desc, code",
        year,
    )


def violations_by_month(snap: Snapshot, year: int) -> pl.DataFrame:
    return snap.query(
        "select ref_month, violation_type, sum(violations)::bigint as violations "
        "from marts.customs_violations where year(ref_month) = ? group by all order by all",
        year,
    )


def violation_points(snap: Snapshot, year: int) -> pl.DataFrame:
    """Located violations by place and type (empty when the snapshot has no coordinates)."""
    if not snap.has("marts.customs_violation_points"):
        return pl.DataFrame()
    return snap.query(
        "select customs_post, border_section, violation_type, lat, lon, "
        "sum(violations)::bigint as violations from marts.customs_violation_points "
        "where year(ref_month) = ? and lat is not null and lon is not null "
        "group by all order by violations desc",
        year,
    )


def violations_by_post(snap: Snapshot, year: int) -> pl.DataFrame:
    if not snap.has("marts.customs_violation_points"):
        return pl.DataFrame()
    return snap.query(
        "select customs_post, border_section, sum(violations)::bigint as violations "
        "from marts.customs_violation_points where year(ref_month) = ? "
        "group by all order by violations desc, customs_post",
        year,
    )


def seizures(snap: Snapshot, year: int) -> pl.DataFrame:
    """Seized goods per category, each in its own unit (never summed across units)."""
    return snap.query(
        "select goods_category, unit, sum(quantity) as quantity, sum(value_eur) as value_eur, "
        "sum(seizure_lines)::bigint as seizure_lines from marts.customs_seizures "
        "where year(ref_month) = ? group by all order by goods_category, unit",
        year,
    )


# ------------------------------------------------------------------ data quality


CHECK_KEY = ("suite", "asset_key", "batch", "expectation", "target")


def latest_checks(snap: Snapshot) -> pl.DataFrame | None:
    """The latest outcome of every check (suites run at different times, every run kept),
    failures first; None before the first quality run."""
    if not snap.has("quality.check_results"):
        return None
    checks = snap.query("select * from quality.check_results")
    key = [c for c in CHECK_KEY if c in checks.columns]
    if "checked_at" in checks.columns and key:
        checks = checks.filter(pl.col("checked_at") == pl.col("checked_at").max().over(key))
    if "success" in checks.columns:
        checks = checks.sort("success", *key)
    return checks


def freshness_status(snap: Snapshot) -> pl.DataFrame | None:
    """dbt's freshness verdict per register (marts.register_freshness), once built."""
    if not snap.has("marts.register_freshness"):
        return None
    return snap.query("select * from marts.register_freshness order by register")


def quarantine_by_rule(snap: Snapshot) -> pl.DataFrame:
    if not snap.has("marts.quarantine_summary"):
        return pl.DataFrame()
    return snap.query(
        "select register, rule, sum(rows)::bigint as rows from marts.quarantine_summary "
        "group by all order by register, rows desc"
    )


def quarantine_by_month(snap: Snapshot) -> pl.DataFrame:
    if not snap.has("marts.quarantine_summary"):
        return pl.DataFrame()
    return snap.query(
        "select partition, register, rule, field, sum(rows)::bigint as rows "
        "from marts.quarantine_summary group by all order by partition desc, register, rule"
    )


def freshness(snap: Snapshot) -> pl.DataFrame:
    """Per register: latest month loaded, last load, totals, and days before the snapshot."""
    if not snap.has("marts.file_loads_summary"):
        return pl.DataFrame()
    return snap.query(
        "select register, max(partition) as last_partition, max(last_loaded_at) as "
        "last_loaded_at, sum(files)::bigint as files, sum(rows_read)::bigint as rows_read, "
        "sum(rows_loaded)::bigint as rows_loaded, "
        "sum(rows_quarantined)::bigint as rows_quarantined, "
        "date_diff('day', max(last_loaded_at), (select published_at from serving.snapshot_info)) "
        "as age_days from marts.file_loads_summary group by register order by register"
    )


def unmapped_codes(snap: Snapshot) -> pl.DataFrame:
    return snap.query("select * from marts.unmapped_offence_codes order by records desc")


# ------------------------------------------------------------------ releases


def releases(snap: Snapshot) -> pl.DataFrame | None:
    """Every release, newest first; None when nothing has been released yet."""
    if not snap.has("releases.releases"):
        return None
    frame = snap.query("select * from releases.releases")
    if "published_at" in frame.columns:
        frame = frame.sort("published_at", descending=True, nulls_last=True)
    return frame


def latest_release(snap: Snapshot) -> dict[str, Any] | None:
    frame = releases(snap)
    if frame is None or not frame.height or set(RELEASE_COLUMNS) - set(frame.columns):
        return None
    return frame.row(0, named=True)


def release_files(snap: Snapshot, release_id: str | None) -> pl.DataFrame:
    """Files of one release (or, with None, every exported file), with size and SHA-256
    when the exports directory was listed at publication."""
    listed = snap.has("serving.export_files")
    if release_id is not None and snap.has("releases.release_files"):
        details = ("e.size_bytes, e.sha256 from releases.release_files f left join "
                   "serving.export_files e on e.relative_path = f.relative_path"
                   if listed else
                   "null::bigint as size_bytes, null::varchar as sha256 "
                   "from releases.release_files f")  # fmt: skip
        return snap.query(
            f"select f.relative_path, {details} where f.release_id = ? order by 1", release_id
        )
    if release_id is None and listed:
        return snap.query(
            "select relative_path, size_bytes, sha256 from serving.export_files order by 1"
        )
    return pl.DataFrame()


def revisions(snap: Snapshot, release_id: str) -> pl.DataFrame | None:
    """Every cell of a release beside the previous vintage of the same dataset and period
    (publication.revisions), the largest revisions first; None when there is no previous
    vintage or no cells were kept."""
    if not snap.has("serving.release_revisions"):
        return None
    frame = snap.query(
        "select series_key, time_period, previous_value, new_value, difference "
        "from serving.release_revisions where release_id = ? "
        "order by abs(coalesce(new_value, 0) - coalesce(previous_value, 0)) desc, 1, 2",
        release_id,
    )
    return frame if frame.height else None


def audited_datasets(snap: Snapshot) -> frozenset[str]:
    """The dataflows whose every release records a disclosure audit (those of person
    counts), as the snapshot was published with them."""
    if not snap.has("serving.audited_datasets"):
        return frozenset()
    return frozenset(snap.query("select dataset from serving.audited_datasets")["dataset"])


def disclosure_audit(snap: Snapshot, release_id: str) -> dict[str, Any] | None:
    """The disclosure audit recorded for a release (the manifest's `disclosure_audit`), or
    None: a release of no person counts, a snapshot of a warehouse from before audits were
    recorded, or the public snapshot, which never holds them."""
    if not snap.has("releases.disclosure_audits"):
        return None
    frame = snap.query(
        "select audit::varchar as audit from releases.disclosure_audits where release_id = ?",
        release_id,
    )
    return json.loads(frame.item()) if frame.height else None


def audit_cells(audit: dict[str, Any]) -> pl.DataFrame:
    """The audit's suppressed cells: series_key, time_period, primary, lower, upper (null:
    unbounded), in the audit's order; bounds as integers when all are whole numbers."""
    rows = [
        {column: cell.get(column) for column in AUDIT_CELL_SCHEMA}
        for cell in audit.get("suppressed_cells") or []
    ]
    frame = pl.DataFrame(rows, schema=AUDIT_CELL_SCHEMA, strict=False)
    bounds = pl.concat([frame["lower"], frame["upper"]]).drop_nulls()
    if (bounds == bounds.round(0)).all():
        frame = frame.with_columns(pl.col("lower", "upper").cast(pl.Int64))
    return frame


def audit_counts(cells: pl.DataFrame) -> dict[str, int]:
    """Suppressed cells in all, primary, secondary, and unbounded above."""
    primary = int(cells["primary"].fill_null(False).sum())
    return {
        "suppressed": cells.height,
        "primary": primary,
        "secondary": cells.height - primary,
        "unbounded": cells["upper"].null_count(),
    }


def export_path(relative_path: str) -> Path:
    """Where a file the snapshot lists lives: the copy published beside the snapshots this
    server reads (exports are immutable once published; the public face has copies of
    public files only)."""
    return face.files_dir() / relative_path
