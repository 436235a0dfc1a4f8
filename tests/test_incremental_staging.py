"""Incremental staging builds exactly what a full refresh builds (issue 17).

Generated registers of three years are loaded and built; then the last months arrive with late
versions reaching back to the first months (a reclassified offence, an annulled conviction), a
file of an early month is delivered again with other bytes (a row dropped, a version re-sent
that now comes first), a conviction file is forgotten, and so is an incidents file whose
versions were also re-sent in a later month (that delivery must take their place). The
incremental build (dbt's
incremental staging models, macros/incremental_staging.sql) is compared, row by row, with a
full refresh of a copy of the same warehouse: every staging table, every intermediate table
and every mart. A release build with as_of, followed by an ordinary build, must land on the
same rows again.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path

import duckdb
import pytest
from conftest import use_home
from dbt_fixtures import run_dbt, warehouse_path

from core.contracts import REGISTERS
from core.settings import Settings, load_settings
from ingestion.loading import forget_files, load_partitions
from synthetic import generate_registers

START, MONTHS = "2020-01", 27
FIRST_LOAD = 25  # months loaded before the incremental build; the last two arrive after it
MONTH_LABELS = [f"{2020 + i // 12}-{i % 12 + 1:02d}" for i in range(MONTHS)]
LAST_DAY = "2022-03-31"
LAYERS = ("staging", "intermediate", "marts")
# Measured at the build's own time (age of the latest record, computed_at): two builds differ.
BUILD_TIME_TABLES = ("marts.register_freshness",)


@dataclass(frozen=True)
class Builds:
    incremental: Path  # home built by a full build, then incrementally
    full_refresh: Path  # copy of it, rebuilt with --full-refresh
    late_event_ids: list[str]
    before: dict[str, list[tuple]]  # marts after the first build


def tables(home: Path, *layers: str) -> dict[str, list[tuple]]:
    """Every table of the built layers (views are queries of these), rows sorted."""
    with contextlib.closing(duckdb.connect(str(warehouse_path(home)))) as con:
        names = con.execute(
            "select schema_name || '.' || table_name as name from duckdb_tables() "
            "where list_contains(?, schema_name) and not list_contains(?, name) order by 1",
            [list(layers or LAYERS), list(BUILD_TIME_TABLES)],
        ).fetchall()
        return {
            name: sorted(con.execute(f"select * from {name}").fetchall(), key=repr)
            for (name,) in names
        }


def read_csv_gz(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as text:
        return list(csv.DictReader(text, delimiter=";"))


def write_csv_gz(path: Path, rows: list[dict[str, str]]) -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter=";", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(gzip.compress(out.getvalue().encode("utf-8"), mtime=0))


def read_jsonl_gz(path: Path) -> list[dict]:
    return [json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines() if line]


def write_jsonl_gz(path: Path, records: list[dict]) -> None:
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    path.write_bytes(gzip.compress(lines.encode("utf-8"), mtime=0))


def latest(rows: list[dict], key: str) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for row in rows:
        if row[key] not in found or int(row["version"]) > int(found[row[key]]["version"]):
            found[row[key]] = row
    return found


def load(settings: Settings, months: list[str]) -> None:
    for register in REGISTERS:
        for report in load_partitions(register, months, settings):
            assert not report.failures, report


def plant_late_changes(generated: Path, landing: Path) -> list[str]:
    """The last month's files (not loaded yet) gain late versions of the first month's
    offences and convictions; an early month's file is delivered again with other bytes.
    Returns the ids of the reclassified events."""
    incident_files = sorted(generated.glob("incidents/*/*.csv.gz"))
    every_incident = [row for path in incident_files for row in read_csv_gz(path)]
    current = latest(every_incident, "event_id")
    first_month = [
        row for row in current.values()
        if row["written_at"].startswith(START) and row["pretrial_started_at"]
        and row["offence_code"].startswith("BK")
    ][:5]  # fmt: skip
    codes = sorted({row["offence_code"] for row in current.values() if row["offence_code"]})
    last_file = landing / "incidents" / LAST_DAY[:7] / f"incidents_{LAST_DAY}.csv.gz"
    rows = read_csv_gz(last_file)
    for row in first_month:  # reclassified more than two years on
        late = dict(row, version=str(int(row["version"]) + 1), written_at=f"{LAST_DAY}T12:00:00")
        late["offence_code"] = next(c for c in codes if c != row["offence_code"])
        rows.append(late)
    write_csv_gz(last_file, rows)

    conviction_files = sorted(generated.glob("convictions/*/*.jsonl.gz"))
    every_conviction = [r for path in conviction_files for r in read_jsonl_gz(path)]
    final = [
        r for r in latest(every_conviction, "conviction_id").values()
        if r["written_at"].startswith("2020-02") and r["status"] == "final"
    ][:3]  # fmt: skip
    last_convictions = landing / "convictions" / LAST_DAY[:7] / f"convictions_{LAST_DAY}.jsonl.gz"
    annulled = [
        dict(r, version=r["version"] + 1, written_at=f"{LAST_DAY}T13:00:00", status="annulled")
        for r in final
    ]
    write_jsonl_gz(last_convictions, read_jsonl_gz(last_convictions) + annulled)

    # An early file delivered again: one row fewer, and a version written in May re-sent in
    # it, which now comes first (an earlier partition).
    early = sorted((landing / "incidents" / "2020-02").glob("*.csv.gz"))[9]
    may = [row for row in every_incident if row["written_at"].startswith("2020-05")]
    resent = next(row for row in may if int(row["version"]) > 1)
    write_csv_gz(early, [*read_csv_gz(early)[1:], resent])
    return [row["event_id"] for row in first_month]


def plant_resent_versions(landing: Path) -> Path:
    """Before the first load: versions of a March file re-sent in an October file (the March
    delivery comes first). Returns the March file, whose forgetting later leaves the October
    delivery as the one that counts: a record only a retired load changed."""
    march = sorted((landing / "incidents" / "2020-03").glob("*.csv.gz"))[4]
    october = sorted((landing / "incidents" / "2020-10").glob("*.csv.gz"))[4]
    write_csv_gz(october, read_csv_gz(october) + read_csv_gz(march)[:20])
    return march


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Builds]:
    generated = tmp_path_factory.mktemp("generated")
    generate_registers(generated, start=START, months=MONTHS, scale=0.05, seed=17, defect_rate=0)
    home = tmp_path_factory.mktemp("incremental")
    landing = home / "landing"
    for path in generated.rglob("*.*"):
        target = landing / path.relative_to(generated)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    with pytest.MonkeyPatch.context() as mp:
        use_home(mp, home)
        settings = load_settings()
        resent_elsewhere = plant_resent_versions(landing)
        load(settings, MONTH_LABELS[:FIRST_LOAD])
        for command in ("seed", "run"):
            assert run_dbt(home, command).success
        before = tables(home)

        late_event_ids = plant_late_changes(generated, landing)
        load(settings, ["2020-02", *MONTH_LABELS[FIRST_LOAD:]])
        forgotten = sorted((landing / "convictions" / "2020-05").glob("*.jsonl.gz"))[3]
        with settings.warehouse() as con:
            forget_files(con, "convictions", [str(forgotten.relative_to(landing))])
            forget_files(con, "incidents", [str(resent_elsewhere.relative_to(landing))])
        assert run_dbt(home, "run").success

    full_refresh = tmp_path_factory.mktemp("full-refresh")
    with contextlib.closing(duckdb.connect(str(warehouse_path(home)))) as con:
        con.execute("checkpoint")  # all of it in the file, none in the write-ahead log
    shutil.copyfile(warehouse_path(home), warehouse_path(full_refresh))
    assert run_dbt(full_refresh, "run", "--full-refresh").success
    yield Builds(home, full_refresh, late_event_ids, before)


def differences(one: dict[str, list[tuple]], other: dict[str, list[tuple]]) -> dict[str, str]:
    assert one.keys() == other.keys()
    return {
        name: f"{len(one[name])} rows vs {len(other[name])}, first differing: "
        f"{next((a, b) for a, b in zip_longest(one[name], other[name]) if a != b)}"
        for name in one
        if one[name] != other[name]
    }


def test_incremental_build_equals_full_refresh(builds: Builds) -> None:
    incremental, full = tables(builds.incremental), tables(builds.full_refresh)
    assert not differences(incremental, full)
    # the comparison covers every layer, the staging tables being incremental
    assert {name.split(".")[0] for name in incremental} == set(LAYERS)
    assert len(incremental["staging.base_incidents__event_versions"]) > 10_000


def test_late_versions_reached_back_years(builds: Builds) -> None:
    """The late versions did change what the first build had: the comparison above is not
    one of two builds that had nothing to redo."""
    after = tables(builds.full_refresh)
    events = {
        row[0]: row for row in after["staging.stg_incidents__events"]
        if row[0] in builds.late_event_ids
    }  # fmt: skip
    assert sorted(events) == sorted(builds.late_event_ids)
    assert {str(row[2])[:10] for row in events.values()} == {LAST_DAY}
    changed = [m for m in ("marts.recorded_offences", "marts.persons_convicted") if
               builds.before[m] != after[m]]  # fmt: skip
    assert changed == ["marts.recorded_offences", "marts.persons_convicted"]


def test_a_release_build_with_as_of_then_an_ordinary_build(builds: Builds) -> None:
    """A build with as_of rebuilds whole at the cut-off; the ordinary build after it redoes
    every record and lands on today's state again (the staging tables: the layers above are
    compared in the first test)."""
    home = builds.incremental
    assert run_dbt(home, "run", "--select", "path:models/staging",
                   dbt_vars={"as_of": "2021-06-30"}).success  # fmt: skip
    cut = tables(home, "staging")["staging.stg_incidents__events"]
    assert max(str(row[2]) for row in cut) < "2021-07"
    # An ordinary build of the stg model alone, over the base the cut-off left: the same rows
    # (the post-hook matches rows without load numbers to their base rows, keeps them).
    assert run_dbt(home, "run", "--select", "stg_incidents__events").success
    assert tables(home, "staging")["staging.stg_incidents__events"] == cut
    assert run_dbt(home, "run", "--select", "path:models/staging").success
    rebuilt, full = tables(home, "staging"), tables(builds.full_refresh, "staging")
    assert not differences(rebuilt, full)
