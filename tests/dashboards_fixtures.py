"""A small warehouse for the dashboards' tests: hand-written register rows, a real dbt build,
then the tables the pipeline's other parts write (quality results, releases) by hand.

The numbers are chosen so that the pages' figures can be checked against the marts and so
that public mode has something to hide: 2023 has 2 convicted women (below the threshold of
3) and a single person convicted through ECRIS.

The releases of persons (PERSON_RELEASES) have the cells the release step would record: made
from the mart by publication.datasets with disclosure control, true values with C/D as
delivered to Eurostat and Eurojust. CRIM_JUST 2023 has a second vintage still under embargo,
made after LATE_CONVICTIONS and protected together with the first; CRIM_JUST 2024 is under
embargo; EJ_XB_CONV 2023 is out of embargo.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
from dbt_fixtures import RawWriter, create_raw_warehouse, run_dbt
from streamlit.testing.v1 import AppTest

from core.disclosure import INTRUDER
from core.settings import Requirement, StructureSettings

VILNIUS = "Vilniaus m. sav."  # LT011
KAUNAS = "Kauno m. sav."  # LT022
KLAIPEDA = "Klaipėdos m. sav."  # LT023
ALYTUS = "Alytaus m. sav."  # LT021

# (event id, municipality, national code, attempt, pre-trial start, solved at or None)
OFFENCES = [
    ("E01", VILNIUS, "BK178-1", False, "2023-01-10", "2023-03-01"),
    ("E02", VILNIUS, "BK178-1", False, "2023-02-11", None),
    ("E03", VILNIUS, "BK178-1", True, "2023-03-12", None),
    ("E04", VILNIUS, "BK178-1", False, "2023-04-13", None),
    ("E05", VILNIUS, "BK178-1", False, "2023-05-14", "2023-06-01"),
    ("E06", VILNIUS, "BK178-2", False, "2023-06-15", None),
    ("E07", VILNIUS, "BK178-2", False, "2023-07-16", None),
    ("E08", VILNIUS, "BK180", False, "2023-08-17", "2023-09-20"),
    ("E09", KAUNAS, "BK182", False, "2023-02-01", None),
    ("E10", KAUNAS, "BK182", False, "2023-03-02", None),
    ("E11", KAUNAS, "BK182", False, "2023-09-03", None),
    ("E12", KAUNAS, "BK129", False, "2023-10-04", "2023-11-04"),
    ("E13", KAUNAS, "BK129", True, "2023-11-05", None),
    ("E14", KLAIPEDA, "BK178-1", False, "2023-12-06", None),
    ("E15", KLAIPEDA, "BK178-1", False, "2023-12-07", None),
    ("E16", VILNIUS, "BK178-1", False, "2024-01-08", None),
    ("E17", VILNIUS, "BK178-1", False, "2024-02-09", None),
    ("E18", VILNIUS, "BK178-1", False, "2024-03-10", "2024-04-10"),
    ("E19", ALYTUS, "BK182", False, "2024-04-11", None),
]

# (conviction id, person, sex, age, citizenship, final at, sanction, code, ECRIS state)
CONVICTIONS = [
    ("C01", "P01", "M", 16, "LT", "2023-02-01", "suspended", "BK178-1", None),
    ("C02", "P02", "M", 22, "LT", "2023-03-01", "fine", "BK178-1", None),
    ("C03", "P03", "M", 23, "LT", "2023-03-02", "fine", "BK182", None),
    ("C04", "P04", "M", 30, "LT", "2023-04-01", "imprisonment", "BK180", None),
    ("C05", "P05", "M", 31, "LT", "2023-04-02", "imprisonment", "BK129", None),
    ("C06", "P06", "M", 40, "LV", "2023-05-01", "fine", "BK182", None),
    ("C07", "P07", "M", 41, "UA", "2023-05-02", "community_work", "BK178-1", None),
    ("C08", "P08", "M", 50, "LT", "2023-06-01", "fine", "BK178-2", None),
    ("C09", "P09", "M", 51, "LT", "2023-06-02", "suspended", "BK178-1", None),
    ("C10", "P10", "M", 66, "LT", "2023-07-01", "fine", "BK182", None),
    ("C11", "P11", "F", 35, "LT", "2023-08-01", "fine", "BK182", None),
    ("C12", "P12", "F", 45, "LT", "2023-09-01", "suspended", "BK178-1", None),
    ("C13", "P13", "M", 33, "PL", "2023-10-01", "imprisonment", "BK260", "PL"),
    ("C14", "P14", "M", 25, "LT", "2024-02-01", "fine", "BK178-1", None),
    ("C15", "P15", "F", 26, "LT", "2024-03-01", "fine", "BK178-1", None),
    ("C16", "P16", "M", 27, "LT", "2024-04-01", "suspended", "BK182", None),
    ("C17", "P17", "F", 28, "LT", "2024-05-01", "fine", "BK182", None),
]

# (violation id, detected at, customs post, border section, lat, lon, type, procedure,
#  seizures as (line, category, quantity, unit, value EUR))
CUSTOMS = [
    ("V1", "2023-01-15 09:00:00", "Medininkai", "LT-BY", 54.5405, 25.6493, "cigarettes",
     "administrative", [(1, "cigarettes", 10000, "sticks", 2500)]),
    ("V2", "2023-02-20 09:00:00", "Medininkai", "LT-BY", 54.5411, 25.6502, "cigarettes",
     "criminal", [(1, "cigarettes", 50000, "sticks", 12500), (2, "tobacco", 5, "kg", 300)]),
    ("V3", "2023-03-03 09:00:00", "Kybartai", "LT-RU", 54.6390, 22.7570, "alcohol",
     "administrative", [(1, "alcohol", 100, "l", 800)]),
    ("V4", "2023-04-05 09:00:00", "Klaipėdos uostas", "seaport", 55.7033, 21.1443, "drugs",
     "criminal", [(1, "drugs", 2, "kg", 40000)]),
    ("V5", "2024-01-06 09:00:00", "Saločiai", "LT-LV", 56.2280, 24.4060, "fuel",
     "administrative", [(1, "fuel", 500, "l", 600)]),
]  # fmt: skip

QUARANTINE = [
    # (register, partition, line, field, rule)
    ("incidents", "2023-01", 7, "municipality", "unknown_code"),
    ("incidents", "2023-01", 9, "registered_at", "impossible_date"),
    ("incidents", "2023-02", 3, "municipality", "unknown_code"),
    ("convictions", "2023-03", 4, "person_code", "bad_check_digit"),
    ("customs", "2023-02", 2, None, "duplicate"),
]

RELEASE_FILE = "CRIM_OFF_CAT/2023/v1/CRIM_OFF_CAT_A_2023.xml"
# Never public: Eurostat's CRIM_JUST delivery carries the true value of a confidential cell
# (2 women convicted in 2023), and a CRIM_OFF_CAT release still under embargo.
CONFIDENTIAL_FILE = "CRIM_JUST/2023/v1/CRIM_JUST_A_2023.xml"
EMBARGOED_FILE = "CRIM_OFF_CAT/2024/v1/CRIM_OFF_CAT_A_2024.xml"
TRUE_VALUE_MARK = "TRUE-VALUE-OF-A-SUPPRESSED-CELL"
# The CRIM_JUST release's disclosure audit, as the release step records it (manifest.json's
# disclosure_audit, releases.disclosure_audits), hand-made and cut to three cells: the 2
# women (primary), the men (secondary), and a cell unbounded above.
AUDITED_RELEASE = "CRIM_JUST-2023-v1"
DISCLOSURE_AUDIT = {
    "threshold": 3,
    "requirement": Requirement(3).describe(),
    "intruder_knows": INTRUDER,
    "bounds": "lower and upper are values of the cell in solutions the intruder cannot "
    "exclude; upper null: unbounded",
    "suppressed_cells": [
        {"series_key": "A.PER_CNV.TOTAL.F.TOTAL.TOTAL.NR.LT", "time_period": "2023",
         "primary": True, "lower": 1, "upper": 11},
        {"series_key": "A.PER_CNV.TOTAL.M.TOTAL.TOTAL.NR.LT", "time_period": "2023",
         "primary": False, "lower": 1, "upper": 11},
        {"series_key": "A.PER_CNV.ICCS0903.T.TOTAL.TOTAL.NR.LT", "time_period": "2023",
         "primary": False, "lower": 1, "upper": None},
    ],
}  # fmt: skip
# (release id, status, embargo until, published at, notes), hand-made like the others; the
# cells are made from the mart (person_release_cells).
PERSON_RELEASES = [
    ("CRIM_JUST-2023-v1", "provisional", "2024-05-14 10:00:00", "2024-05-14 10:00:00",
     "to Eurostat"),
    ("EJ_XB_CONV-2023-v1", "provisional", "2024-05-14 11:00:00", "2024-05-14 11:00:00",
     "to Eurojust"),
    ("CRIM_JUST-2023-v2", "final", "2099-01-01 10:00:00", "2024-05-14 12:00:00",
     "late convictions, embargoed"),
    ("CRIM_JUST-2024-v1", "provisional", "2099-01-01 10:00:00", "2024-05-12 10:00:00",
     "embargoed"),
]  # fmt: skip
EMBARGOED_PERSON_RELEASES = ("CRIM_JUST-2023-v2", "CRIM_JUST-2024-v1")
# Registered after CRIM_JUST-2023-v1 was made: 5 men aged 25-34, nationals, convicted of
# assault (ICCS 0201) in 2023, in the second vintage only (the mart has them not).
LATE_CONVICTIONS = {"iccs_code": "0201", "sex": "M", "age_group": "Y25-34",
                    "citizen_group": "NAT", "sanction": "fine", "persons": 5}  # fmt: skip
EXPORT_FILES = {
    RELEASE_FILE: "<StructureSpecificData/>",
    CONFIDENTIAL_FILE: f'<Obs SEX="F" OBS_VALUE="2" CONF_STATUS="C"/><!-- {TRUE_VALUE_MARK} -->',
    EMBARGOED_FILE: "<StructureSpecificData embargoed='yes'/>",
}


def _at(day: str) -> str:
    return f"{day} 10:00:00"


def write_registers(home: Path) -> None:
    """Every register row of the fixture into a fresh raw warehouse under `home`."""
    create_raw_warehouse(home)
    writer = RawWriter(home)
    incidents: list[dict[str, Any]] = []
    for event_id, municipality, code, attempt, started, solved in OFFENCES:
        common = {"event_id": event_id, "municipality": municipality, "offence_code": code,
                  "attempt": attempt, "pretrial_started_at": _at(started)}  # fmt: skip
        incidents.append({**common, "version": 1, "written_at": _at(started),
                          "status": "pretrial_started"})  # fmt: skip
        if solved:
            incidents.append({**common, "version": 2, "written_at": _at(solved),
                              "status": "solved", "decision_at": _at(solved)})  # fmt: skip
    writer.incidents(incidents)
    writer.convictions([
        {"conviction_id": cid, "version": 1, "written_at": _at(final), "person_key": person,
         "sex": sex, "age_at_judgment": age, "citizenship": citizenship, "final_at": final,
         "sanction": sanction, "sentence_months": 12 if sanction in ("imprisonment", "suspended")
         else None, "ecris_member_state": ecris, "offences": [(code, False, True)]}
        for cid, person, sex, age, citizenship, final, sanction, code, ecris in CONVICTIONS
    ])  # fmt: skip
    writer.customs([
        {"violation_id": vid, "version": 1, "written_at": detected, "detected_at": detected,
         "customs_post": post, "border_section": section, "lat": lat, "lon": lon,
         "violation_type": kind, "procedure": procedure, "_partition": detected[:7],
         "seizures": seizures}
        for vid, detected, post, section, lat, lon, kind, procedure, seizures in CUSTOMS
    ])  # fmt: skip
    with contextlib.closing(duckdb.connect(str(home / "warehouse.duckdb"))) as con:
        con.executemany(
            "insert into raw.quarantine values (?, ?, ?, ?, ?, ?, ?, ?)",
            [(register, partition, f"{register}/{partition}/x", line, field, rule,
              f"{field}: PERSONAL-VALUE", '{"person_code": "HASHED"}')
             for register, partition, line, field, rule in QUARANTINE],
        )  # fmt: skip
        con.execute(
            "insert into raw.file_loads select register, _partition, _file, 'sha', "
            "count(*) + 10, 10, count(*), timestamp '2024-05-01 08:00:00' + "
            "(row_number() over ()) * interval 1 hour, row_number() over () "
            "from raw.quarantine group by all"
        )


def write_pipeline_tables(home: Path) -> None:
    """What the quality gates and the release step would have written (hand-made)."""
    with contextlib.closing(duckdb.connect(str(home / "warehouse.duckdb"))) as con:
        con.execute("create schema quality")
        # Columns of quality/results.py's table; two runs of one check: the latest counts.
        con.execute(
            "create table quality.check_results as select * from (values "
            "('run-0', timestamp '2024-04-01 09:00:00', 'marts', 'marts/persons_convicted', "
            "'2023', 'yoy_change_within_bounds', 'persons', 'warning', true, 0, '[]', '{}'), "
            "('run-1', timestamp '2024-05-01 09:00:00', 'marts', 'marts/persons_convicted', "
            "'2023', 'yoy_change_within_bounds', 'persons', 'warning', false, 1, "
            "'[\"PERSONAL-VALUE\"]', '{\"change\": 0.35}'), "
            "('run-1', timestamp '2024-05-01 09:00:00', 'marts', "
            "'marts/recorded_offences_annual', '2023', 'totals_reconcile', 'offences', "
            "'critical', true, 0, '[]', '{}')) "
            "as t(run_id, checked_at, suite, asset_key, batch, expectation, target, severity, "
            "success, unexpected_count, failing_values, observed)"
        )
        con.execute("create schema releases")
        con.execute(
            "create table releases.releases as select * from (values "
            "('CRIM_OFF_CAT-2023-v1', 'CRIM_OFF_CAT', '2023', 1, "
            "timestamp '2024-02-01 00:00:00', 'provisional', timestamp '2024-02-15 10:00:00', "
            "timestamp '2024-02-15 10:00:00', 'first release'), "
            "('CRIM_OFF_CAT-2023-v2', 'CRIM_OFF_CAT', '2023', 2, "
            "timestamp '2024-05-01 00:00:00', 'final', timestamp '2024-05-15 10:00:00', "
            "timestamp '2024-05-15 10:00:00', 'late registrations'), "
            "('CRIM_OFF_CAT-2024-v1', 'CRIM_OFF_CAT', '2024', 1, "
            "timestamp '2024-05-01 00:00:00', 'provisional', timestamp '2099-01-01 10:00:00', "
            "timestamp '2024-05-10 10:00:00', 'embargoed')) "
            "as t(release_id, dataset, reference_period, vintage, as_of, status, "
            "embargo_until, published_at, notes)"
        )
        con.executemany(
            "insert into releases.releases values (?, ?, ?, ?, timestamp '2024-05-01 00:00:00', "
            "?, ?::timestamp, ?::timestamp, ?)",
            [(release_id, *release_id.split("-")[:2], int(release_id.split("-v")[1]), *rest)
             for release_id, *rest in PERSON_RELEASES],
        )  # fmt: skip
        files = [("CRIM_OFF_CAT-2023-v1", RELEASE_FILE), ("CRIM_JUST-2023-v1", CONFIDENTIAL_FILE),
                 ("CRIM_OFF_CAT-2024-v1", EMBARGOED_FILE)]  # fmt: skip
        con.execute("create table releases.release_files (release_id varchar, "
                    "relative_path varchar, sha256 varchar, observations bigint)")  # fmt: skip
        con.executemany(
            "insert into releases.release_files values (?, ?, ?, null)",
            [(release, path, hashlib.sha256(EXPORT_FILES[path].encode()).hexdigest())
             for release, path in files],
        )  # fmt: skip
        con.execute(
            "create table releases.release_cells (release_id varchar, series_key varchar, "
            "time_period varchar, obs_value double, obs_status varchar, conf_status varchar)"
        )
        con.execute(
            "insert into releases.release_cells values "
            "('CRIM_OFF_CAT-2023-v1', 'A.ICCS0502.NR.LT', '2023', 9.0, 'P', 'F'), "
            "('CRIM_OFF_CAT-2023-v2', 'A.ICCS0502.NR.LT', '2023', 10.0, 'A', 'F'), "
            "('CRIM_OFF_CAT-2023-v1', 'A.ICCS0701.NR.LT', '2023', 3.0, 'P', 'F'), "
            "('CRIM_OFF_CAT-2023-v2', 'A.ICCS0701.NR.LT', '2023', 3.0, 'A', 'F'), "
            "('CRIM_OFF_CAT-2024-v1', 'A.ICCS0502.NR.LT', '2024', 3.0, 'P', 'F')"
        )
        for cells in person_release_cells(con):
            con.register("person_cells", cells)
            con.execute("insert into releases.release_cells select * from person_cells")
            con.unregister("person_cells")
        con.execute(
            "create table releases.disclosure_audits (release_id varchar primary key, "
            "audit json not null)"
        )
        con.execute(
            "insert into releases.disclosure_audits values (?, ?)",
            [AUDITED_RELEASE, json.dumps(DISCLOSURE_AUDIT, sort_keys=True)],
        )
    for relative_path, content in EXPORT_FILES.items():
        path = home / "exports" / relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")


def person_release_cells(con: duckdb.DuckDBPyConnection) -> list[pl.DataFrame]:
    """The cells of PERSON_RELEASES as the release step makes them from the mart (the
    release id's vintage protected together with the earlier ones of its year)."""
    from core.disclosure import AUDIT_COLUMNS
    from publication import datasets
    from publication.releases import STATUSES, release_cells
    from publication.stored_cells import observations_from_cells
    from sdmx_export.layout import DsdLayout
    from sdmx_export.structures import build_structures, dataflow

    settings = StructureSettings()
    structures = build_structures(settings)
    made = {"CRIM_JUST": datasets.crim_just_observations,
            "EJ_XB_CONV": datasets.ej_xb_conv_observations}  # fmt: skip
    mart = con.sql("select * from marts.persons_convicted").pl()
    late = mart.head(1).with_columns(
        pl.lit(2023, mart.schema["ref_year"]).alias("ref_year"), pl.lit(False).alias("via_ecris"),
        *(pl.lit(value, mart.schema[column]).alias(column)
          for column, value in LATE_CONVICTIONS.items()),
    )  # fmt: skip
    by_release: dict[str, pl.DataFrame] = {}
    for release_id, status, *_ in PERSON_RELEASES:
        dataset, year, vintage = release_id.split("-")
        layout = DsdLayout.of(dataflow(structures, dataset))
        rows = mart if vintage == "v1" else pl.concat([mart, late])
        earlier = [observations_from_cells(cells, layout) for rid, cells in by_release.items()
                   if rid.startswith(f"{dataset}-{year}-")]  # fmt: skip
        observations = made[dataset](
            rows.filter(pl.col("ref_year") == int(year)), settings, obs_status=STATUSES[status],
            published=earlier,
        )  # fmt: skip
        by_release[release_id] = release_cells(observations.drop(AUDIT_COLUMNS), layout, release_id)
    return list(by_release.values())


def build_warehouse(home: Path) -> Path:
    """Registers, dbt build, pipeline tables: the warehouse file of the fixture."""
    write_registers(home)
    run = run_dbt(home, "build")
    assert run.success, run.failed_nodes()
    write_pipeline_tables(home)
    return home / "warehouse.duckdb"


def build_warehouse_isolated(home: Path) -> Path:
    """`build_warehouse` in a child process, once per test run, copied into `home` (each
    module then changes only its own copy). dbt-duckdb run in process keeps the warehouse
    file open for the rest of the process, and DuckDB then refuses to ATTACH it again in
    that process, which is what publication does; a pipeline runs dbt in its own process.
    The test workers (pytest-xdist) share the build: the first to ask builds it under a lock
    in the run's temporary directory (SHARED_DIR, set by conftest), the others wait and copy."""
    if SHARED_DIR is None:
        raise RuntimeError("tests/conftest.py's shared_dir fixture sets SHARED_DIR")
    built = SHARED_DIR / "dashboards-fixture" / "home"
    with (SHARED_DIR / "dashboards-fixture.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (built.parent / "complete").exists():
            shutil.rmtree(built.parent, ignore_errors=True)
            built.mkdir(parents=True)
            subprocess.run([sys.executable, __file__, str(built)], check=True,
                           cwd=Path(__file__).parent)  # fmt: skip
            (built.parent / "complete").touch()
    shutil.copytree(built, home, dirs_exist_ok=True)
    return home / "warehouse.duckdb"


# The run's temporary directory shared by every worker, set by conftest's `shared_dir`.
SHARED_DIR: Path | None = None


def build_warehouse_before_releases(home: Path) -> Path:
    """The fixture's warehouse without its hand-made releases and export file: the state
    before a first release, for tests that make releases of their own."""
    build_warehouse_isolated(home)
    with contextlib.closing(duckdb.connect(str(home / "warehouse.duckdb"))) as con:
        con.execute("drop schema releases cascade")
    shutil.rmtree(home / "exports")
    return home


def bare_copy(home: Path, target: Path) -> Path:
    """The warehouse of `home` without quality results and releases, as before a first
    release: the pages must say so instead of failing."""
    target.mkdir(parents=True, exist_ok=True)
    path = target / "warehouse.duckdb"
    shutil.copyfile(home / "warehouse.duckdb", path)
    with contextlib.closing(duckdb.connect(str(path))) as con:
        con.execute("drop schema quality cascade")
        con.execute("drop schema releases cascade")
    return path


def publish(home: Path) -> tuple[Path, Path]:
    """Publish the internal snapshot of `home` and the public one made from it, as the
    publication asset does."""
    from core.snapshot_layout import public_serving_dir
    from publication.public_snapshot import publish_public_snapshot
    from publication.serving import publish_snapshot

    internal = publish_snapshot(
        home / "warehouse.duckdb", home / "serving", exports_dir=home / "exports"
    )
    public = publish_public_snapshot(
        internal, public_serving_dir(home / "serving"), exports_dir=home / "exports"
    )
    return internal, public


APP = Path(__file__).resolve().parent.parent / "dashboards" / "app.py"
PAGES = ("overview", "offences", "convictions", "customs", "quality", "releases")


def open_page(page: str, *, timeout: float = 120, **state: Any) -> AppTest:
    """AppTest of the app on `page`, with session state (language, public mode, widget
    values by key) set before the first run. AppTest switches pages only after a run."""
    app = AppTest.from_file(str(APP), default_timeout=timeout)
    for key, value in state.items():
        app.session_state[key] = value
    app.run()
    if page != "overview":
        app.switch_page(f"views/{page}.py").run()
    return app


def query(path: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Rows of a query on a DuckDB file opened read-only (a snapshot, or the warehouse when
    no process writes it)."""
    with contextlib.closing(duckdb.connect(str(path), read_only=True)) as con:
        return con.execute(sql, list(params)).fetchall()


if __name__ == "__main__":
    build_warehouse(Path(sys.argv[1]))
