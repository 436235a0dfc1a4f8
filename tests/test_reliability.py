"""Faults of concurrency and crashes (README "Reliability and security" / "Faults"): dbt
waits for the warehouse's lock like crimestat's own connections, two runs on one home never
interleave, and publication killed at any step is repaired by the next run."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
DBT_PROJECT = PROJECT / "dbt_project"


def hold_warehouse_lock(home: Path, seconds: float) -> subprocess.Popen:
    """Another process writing the warehouse for `seconds` (as a backup or export would)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time\n"
         f"con = duckdb.connect({str(home / 'warehouse.duckdb')!r})\n"
         "print('held', flush=True)\n"
         f"time.sleep({seconds})\n"
         "con.close()"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def dbt_debug(home: Path, wait_seconds: str) -> subprocess.CompletedProcess:
    dbt = Path(sys.executable).parent / "dbt"
    return subprocess.run(
        [str(dbt), "debug", "--profiles-dir", str(DBT_PROJECT), "--project-dir", str(DBT_PROJECT)],
        env={**os.environ, "CRIMESTAT_HOME": str(home),
             "CRIMESTAT_LOCK_WAIT_SECONDS": wait_seconds},
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip


def test_dbt_waits_for_the_warehouse_lock(crimestat_home: Path) -> None:
    holder = hold_warehouse_lock(crimestat_home, 6)
    started = time.monotonic()
    result = dbt_debug(crimestat_home, "120")
    holder.wait()
    assert result.returncode == 0, result.stdout[-2000:]
    assert "Connection test: [OK" in result.stdout.replace("\x1b[32m", "")
    assert time.monotonic() - started >= 4  # it waited for the holder, then connected


def test_dbt_gives_up_after_the_lock_wait_setting(crimestat_home: Path) -> None:
    holder = hold_warehouse_lock(crimestat_home, 30)
    try:
        result = dbt_debug(crimestat_home, "1")
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode != 0
    assert "lock" in result.stdout.lower()


HOLD_RUN_LOCK = """
import sys, time
from pathlib import Path
from core.run_lock import run_lock
with run_lock(Path(sys.argv[1]), sys.argv[2], float(sys.argv[3]),
              on_wait=lambda line: print("WAIT " + line, flush=True)):
    print(f"acquired {time.time()}", flush=True)
    time.sleep(float(sys.argv[4]))
    print(f"released {time.time()}", flush=True)
"""


def hold_run_lock(home: Path, command: str, seconds: float, wait: float = 60) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", HOLD_RUN_LOCK, str(home), command, str(wait), str(seconds)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_a_second_run_waits_for_the_first(crimestat_home: Path) -> None:
    first = hold_run_lock(crimestat_home, "crimestat materialize", 2.5)
    assert first.stdout is not None and first.stdout.readline().startswith("acquired")
    second = hold_run_lock(crimestat_home, "crimestat materialize", 0)
    first_out = first.communicate(timeout=60)[0]
    second_out = second.communicate(timeout=60)[0].splitlines()
    released = float(first_out.split()[-1])
    assert second_out[0].startswith("WAIT waiting for the run that holds")
    assert f"pid {first.pid} (crimestat materialize, since " in second_out[0]
    acquired = float(second_out[1].split()[-1])
    assert acquired >= released  # never interleaved


def test_materialize_gives_up_naming_the_holder(
    crimestat_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from crimestat import cli

    holder = hold_run_lock(crimestat_home, "crimestat demo", 60)
    try:
        assert holder.stdout is not None and holder.stdout.readline().startswith("acquired")
        monkeypatch.setenv("CRIMESTAT_RUN_LOCK_WAIT_SECONDS", "0.5")
        result = CliRunner().invoke(cli.main, ["materialize"])
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 1
    assert f"another run holds {crimestat_home}" in result.stderr
    assert f"pid {holder.pid} (crimestat demo, since " in result.stderr
    assert "CRIMESTAT_RUN_LOCK_WAIT_SECONDS" in result.stderr
    assert not (crimestat_home / "warehouse.duckdb").exists()  # nothing ran


def demo_without_work(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """`crimestat demo` with generation, runs and summary replaced by a record of calls."""
    from crimestat import cli

    calls: list[str] = []
    monkeypatch.setattr(cli, "_generate", lambda out, *a: calls.append(f"generate {out}"))
    monkeypatch.setattr(cli, "_materialize", lambda *a: calls.append("materialize") or [])
    monkeypatch.setattr("crimestat.summary.print_summary", lambda *a: None)
    monkeypatch.setenv("CRIMESTAT_DEMO", "1")
    monkeypatch.delenv("CRIMESTAT_PSEUDONYMISATION_KEY")
    return calls


def test_the_demo_deletes_nothing_outside_its_landing(
    crimestat_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A demo home: only its landing files are replaced; exports, outbox and files beside
    stay. A landing that is a link elsewhere (a real landing zone) is refused untouched."""
    from click.testing import CliRunner

    from core.settings import DEMO_MARKER
    from crimestat import cli

    calls = demo_without_work(monkeypatch)
    assert CliRunner().invoke(cli.main, ["demo"]).exit_code == 0  # an empty home: claimed
    assert (crimestat_home / DEMO_MARKER).is_file()
    for kept in ("exports/CRIM_OFF_CAT/2022/v1/manifest.json", "outbox/LV/log.jsonl", "notes"):
        (crimestat_home / kept).parent.mkdir(parents=True, exist_ok=True)
        (crimestat_home / kept).write_text("kept")
    (crimestat_home / "landing/incidents/2022-01").mkdir(parents=True)
    (crimestat_home / "landing/incidents/2022-01/old.csv.gz").write_text("old demo file")
    result = CliRunner().invoke(cli.main, ["demo"])
    assert result.exit_code == 0, result.output
    assert not (crimestat_home / "landing").exists()  # replaced (generation is stubbed here)
    for kept in ("exports/CRIM_OFF_CAT/2022/v1/manifest.json", "outbox/LV/log.jsonl", "notes"):
        assert (crimestat_home / kept).read_text() == "kept"
    assert calls == [f"generate {crimestat_home / 'landing'}", "materialize"] * 2

    real_landing = tmp_path / "real-landing"
    (real_landing / "incidents").mkdir(parents=True)
    (real_landing / "incidents/extract.csv.gz").write_text("real")
    (crimestat_home / "landing").symlink_to(real_landing)
    result = CliRunner().invoke(cli.main, ["demo"])
    assert result.exit_code == 1 and "deletes nothing outside its home" in result.stderr
    assert (real_landing / "incidents/extract.csv.gz").read_text() == "real"
    assert len(calls) == 4


def test_the_demo_refuses_a_register_database(
    crimestat_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from core.settings import DEMO_MARKER
    from crimestat import cli

    calls = demo_without_work(monkeypatch)
    monkeypatch.setenv("CRIMESTAT_PSEUDONYMISATION_KEY", "a-real-deployment-key-0123")
    monkeypatch.setenv("CRIMESTAT_INCIDENTS_DB_URL", "postgresql://u:secret@db/registers")
    result = CliRunner().invoke(cli.main, ["demo"])
    assert result.exit_code == 1 and "CRIMESTAT_INCIDENTS_DB_URL" in result.stderr
    assert "secret" not in result.output + result.stderr
    assert calls == [] and not (crimestat_home / DEMO_MARKER).exists()


# --------------------------------------------------------------------------------------
# Publication killed at each step, then run again (publication.intents)
# --------------------------------------------------------------------------------------

RELEASE_YEAR = 2023
PACKAGE_MONTH = "2023-06"
KILL_POINTS = ("after_intent", "after_place", "before_commit")

PUBLISH = """
import sys
from pathlib import Path
import duckdb
from core.settings import StructureSettings
home, kind = Path(sys.argv[1]), sys.argv[2]
con = duckdb.connect(str(home / "warehouse.duckdb"))
structures = StructureSettings()
if kind == "release":
    from publication.releases import produce_release
    release = produce_release(con, home / "exports", "CRIM_JUST", int(sys.argv[3]),
                              settings=structures)
    print(release.release_id)
else:
    from publication.partners.packages import deliver_package
    print(deliver_package(con, "EE", sys.argv[3], home / "outbox",
                          settings=structures).package_id)
con.close()
"""


@pytest.fixture(scope="module")
def release_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from dashboards_fixtures import build_warehouse_before_releases

    return build_warehouse_before_releases(tmp_path_factory.mktemp("kill-releases"))


@pytest.fixture(scope="module")
def partner_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """test_partner_extracts' warehouse: convictions of June 2023 for the EE package."""
    import test_partner_extracts

    return test_partner_extracts.home.__wrapped__(tmp_path_factory)


def publish(home: Path, kind: str, period: str, kill_at: str | None) -> subprocess.CompletedProcess:
    """Publish in a child process (SIGKILLed at `kill_at`); its temporary directories (the
    partner packages' staging) go to `home/tmp`, so a test sees what it leaves there."""
    (home / "tmp").mkdir(exist_ok=True)
    environment = {**os.environ, "PYTHONPATH": str(PROJECT), "TMPDIR": str(home / "tmp")}
    environment.pop("CRIMESTAT_KILL_AT", None)
    if kill_at:
        environment["CRIMESTAT_KILL_AT"] = f"{kind}:{kill_at}"
    return subprocess.run(
        [sys.executable, "-c", PUBLISH, str(home), kind, period],
        env=environment, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def rows(home: Path, sql: str) -> list[tuple]:
    import contextlib

    import duckdb

    with contextlib.closing(duckdb.connect(str(home / "warehouse.duckdb"))) as con:
        return con.execute(sql).fetchall()


@pytest.mark.parametrize("kill_at", KILL_POINTS)
def test_a_release_killed_at_each_step_is_repaired_by_the_next_run(
    release_home: Path, tmp_path: Path, kill_at: str
) -> None:
    import shutil

    home = tmp_path / "home"
    shutil.copytree(release_home, home)
    killed = publish(home, "release", str(RELEASE_YEAR), kill_at)
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert rows(home, "select ident from releases.publication_intents") == [
        (f"CRIM_JUST-{RELEASE_YEAR}-v1",)
    ]
    if kill_at == "after_intent":  # the staging directory is left; later it is the release's
        assert [p.name for p in (home / "exports").glob(".staging-*")] != []
    stale = home / "exports" / f".staging-CRIM_JUST-{RELEASE_YEAR}-v1-killed00"
    stale.mkdir()  # as one killed before its intent leaves it
    (stale / "file.xml").write_text("written, never checked", encoding="utf-8")
    other = home / "exports" / f".staging-CRIM_JUST-{RELEASE_YEAR}-v10-notmine"
    other.mkdir()  # another release's prefix and no name mkdtemp gives: kept

    again = publish(home, "release", str(RELEASE_YEAR), None)

    assert again.returncode == 0, again.stderr[-2000:]
    assert again.stdout.strip() == f"CRIM_JUST-{RELEASE_YEAR}-v1"  # the same number, not v2
    assert rows(home, "select release_id from releases.releases") == [
        (f"CRIM_JUST-{RELEASE_YEAR}-v1",)
    ]
    assert rows(home, "select * from releases.publication_intents") == []
    year_dir = home / "exports" / "CRIM_JUST" / str(RELEASE_YEAR)
    assert [p.name for p in year_dir.iterdir()] == ["v1"]
    recorded = dict(rows(home, "select relative_path, sha256 from releases.release_files"))
    assert recorded and all(sha256(home / "exports" / p) == s for p, s in recorded.items())
    placed = {str(p.relative_to(home / "exports")) for p in (year_dir / "v1").iterdir()}
    assert set(recorded) <= placed  # every recorded file is there, with its bytes
    assert [p.name for p in (home / "exports").glob(".staging-*")] == [other.name]


@pytest.mark.parametrize("kill_at", KILL_POINTS)
def test_a_package_killed_at_each_step_is_repaired_by_the_next_run(
    partner_home: Path, tmp_path: Path, kill_at: str
) -> None:
    import shutil

    home = tmp_path / "home"
    shutil.copytree(partner_home, home)
    killed = publish(home, "package", PACKAGE_MONTH, kill_at)
    assert killed.returncode == -9, killed.stderr[-2000:]
    ident = f"LT-EE_{PACKAGE_MONTH}_package-001"
    assert [p.name.startswith(f"{ident}-") for p in (home / "tmp").iterdir()] == [True]

    again = publish(home, "package", PACKAGE_MONTH, None)

    assert again.returncode == 0, again.stderr[-2000:]
    assert again.stdout.strip() == ident
    [(package_id, destination, digest)] = rows(
        home, "select package_id, destination, sha256 from releases.partner_deliveries"
    )
    assert package_id == ident and sha256(Path(destination)) == digest
    assert sorted(p.name for p in (home / "outbox" / "EE").iterdir()) == [f"{ident}.zip"]
    assert rows(home, "select * from releases.publication_intents") == []
    assert list((home / "tmp").iterdir()) == []  # the killed package's staging is gone


# --------------------------------------------------------------------------------------
# Serving snapshots killed at each step, then published again (publication.serving)
# --------------------------------------------------------------------------------------

SNAPSHOT_KILL_POINTS = ("after_write", "after_rename", "after_pointer")

PUBLISH_SNAPSHOTS = """
import sys
from pathlib import Path
from publication.public_snapshot import publish_public_snapshot
from publication.serving import publish_snapshot
home = Path(sys.argv[1])
internal = publish_snapshot(home / "warehouse.duckdb", home / "serving",
                            exports_dir=home / "exports")
public = publish_public_snapshot(internal, home / "serving" / "public",
                                 exports_dir=home / "exports")
print(internal.name, public.name)
"""


@pytest.fixture(scope="module")
def snapshot_home(release_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The release warehouse with its snapshots published once, as the publication asset
    does: the state a killed publication starts from."""
    import shutil

    home = tmp_path_factory.mktemp("kill-snapshots") / "home"
    shutil.copytree(release_home, home)
    killed = publish_snapshots(home, None)
    assert killed.returncode == 0, killed.stderr[-2000:]
    return home


def publish_snapshots(home: Path, kill_at: str | None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(PROJECT)}
    environment.pop("CRIMESTAT_KILL_AT", None)
    if kill_at:
        environment["CRIMESTAT_KILL_AT"] = kill_at
    return subprocess.run(
        [sys.executable, "-c", PUBLISH_SNAPSHOTS, str(home)],
        env=environment, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def snapshot_files(directory: Path) -> set[str]:
    from publication.serving import SNAPSHOT_NAME

    return {p.name for p in (directory / "snapshots").iterdir() if SNAPSHOT_NAME.fullmatch(p.name)}


def readable_current(directory: Path) -> Path:
    """The snapshot the pointer names: it must open and have its information table."""
    from dashboards_fixtures import query

    from core.snapshot_layout import current_snapshot

    current = current_snapshot(directory)
    assert current is not None and current.is_file()
    assert query(current, "select count(*) from serving.snapshot_info") == [(1,)]
    return current


@pytest.mark.parametrize("kind", ["snapshot", "public_snapshot"])
@pytest.mark.parametrize("kill_at", SNAPSHOT_KILL_POINTS)
def test_a_snapshot_killed_at_each_step_is_repaired_by_the_next_publication(
    snapshot_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    kill_at: str,
) -> None:
    import shutil

    from dashboards_fixtures import query

    from dashboards import data

    home = tmp_path / "home"
    shutil.copytree(snapshot_home, home)
    faces = {"snapshot": home / "serving", "public_snapshot": home / "serving" / "public"}
    directory = faces[kind]
    before = readable_current(directory)
    # Files crimestat did not make, beside its own: never its to remove.
    foreign = {
        directory / "snapshots" / "snapshot-by-hand.duckdb": "an operator's copy",
        directory / "snapshots" / f"{before.name}.bak": "an operator's backup",
        directory / "snapshots" / "notes.txt": "notes",
        directory / ".current.json.backup": "an old pointer",
    }
    for path, text in foreign.items():
        path.write_text(text, encoding="utf-8")
    ever_current = {face: {readable_current(face).name} for face in faces.values()}

    killed = publish_snapshots(home, f"{kind}:{kill_at}")

    assert killed.returncode == -9, killed.stderr[-2000:]
    left = (
        {p.name for p in (directory / "snapshots").iterdir()}
        - {before.name}
        - {p.name for p in foreign}
    )
    assert len(left) == 1, left  # the killed publication's file, under one name or the other
    [name] = left
    assert name.endswith(".partial") if kill_at == "after_write" else name.endswith(".duckdb")
    # The pointer names a complete, readable snapshot at every step: the old one until the
    # new one is in place.
    current = readable_current(directory)
    assert current.name == (name if kill_at == "after_pointer" else before.name)
    for face in faces.values():
        ever_current[face].add(readable_current(face).name)

    staged = home / "exports" / ".staging-CRIM_JUST-2023-v1-abcdefgh" / "CRIM_JUST_2023.xml"
    staged.parent.mkdir(parents=True)
    staged.write_text("a release killed while writing its files", encoding="utf-8")

    again = publish_snapshots(home, None)

    assert again.returncode == 0, again.stderr[-2000:]
    internal = readable_current(home / "serving")
    assert query(internal, "select * from serving.export_files") == []  # no staging offered
    for face, published in zip(faces.values(), again.stdout.split(), strict=True):
        assert readable_current(face).name == published
        ever_current[face].add(published)
        # Exactly the snapshots that were current (keep=3 keeps them all): the one the killed
        # publication renamed but never pointed to is gone, and nothing half-written is left.
        assert snapshot_files(face) == ever_current[face]
        hidden = [p.name for p in face.rglob(".*") if p not in foreign]
        assert hidden == [], hidden
    assert all(path.read_text(encoding="utf-8") == text for path, text in foreign.items())
    # The dashboards' data layer opens the new snapshots, on both faces.
    monkeypatch.setenv("CRIMESTAT_HOME", str(home))
    for public, face in ((False, home / "serving"), (True, home / "serving" / "public")):
        monkeypatch.setenv("CRIMESTAT_DASHBOARDS_PUBLIC", "1" if public else "0")
        snap = data.current()
        assert snap is not None and snap.path == readable_current(face)
        assert data.published_at(snap) is not None


def test_snapshot_clean_up_removes_only_its_own_leftovers(tmp_path: Path) -> None:
    """reconcile_snapshots on hand-made files: what a killed publication leaves goes; the
    current snapshot, earlier ones, and every other name, link or directory stay."""
    import json

    from core.snapshot_layout import POINTER_FILE
    from publication.serving import reconcile_snapshots

    serving = tmp_path / "serving"
    snapshots = serving / "snapshots"
    snapshots.mkdir(parents=True)
    outside = tmp_path / "outside.duckdb"
    outside.write_text("someone else's", encoding="utf-8")

    def name(second: int) -> str:
        return f"snapshot-20240101T0000{second:02d}000000Z.duckdb"

    kept = [snapshots / name(1), snapshots / name(2), snapshots / "snapshot-latest.duckdb",
            snapshots / f"{name(9)}.bak", serving / ".current.json.backup",
            snapshots / f".{name(8)}.partial.old"]  # fmt: skip
    leftovers = [snapshots / name(3), snapshots / f".{name(4)}.partial",
                 snapshots / f".{name(4)}.partial.wal",
                 serving / ".current.json.4242.tmp"]  # fmt: skip
    for path in kept + leftovers:
        path.write_text("x", encoding="utf-8")
    (snapshots / name(5)).symlink_to(outside)  # a link under our name: not ours
    (snapshots / f".{name(6)}.partial").mkdir()  # a directory under our name: not ours
    pointer = serving / POINTER_FILE
    pointer.write_text(json.dumps({"snapshot": f"snapshots/{name(2)}"}), encoding="utf-8")

    done = reconcile_snapshots(serving)

    assert len(done) == len(leftovers)
    assert not any(p.exists() for p in leftovers)
    assert all(p.is_file() for p in kept)
    assert (snapshots / name(5)).is_symlink() and outside.read_text(encoding="utf-8")
    assert (snapshots / f".{name(6)}.partial").is_dir()

    pointer.write_text("{torn", encoding="utf-8")  # cannot tell what was current: keep all
    (snapshots / name(7)).write_text("x", encoding="utf-8")
    assert reconcile_snapshots(serving) == [] and (snapshots / name(7)).is_file()

    pointer.unlink()  # no pointer: no snapshot of ours was ever current
    reconcile_snapshots(serving)
    assert not any((snapshots / name(second)).exists() for second in (1, 2, 7))
    assert (snapshots / name(5)).is_symlink()
    assert all(p.is_file() for p in kept if p not in (snapshots / name(1), snapshots / name(2)))


# --------------------------------------------------------------------------------------
# One gate for every door: crimestat export and extracts ask the Dagster assets' gate
# --------------------------------------------------------------------------------------


def test_export_and_extracts_are_refused_by_the_gate(
    partner_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A blocking check that `crimestat check` found failing, then a mart older than the
    newest raw load: both commands refuse, naming the check and its values, the mart and
    its times; nothing is written."""
    import shutil
    from dataclasses import replace
    from datetime import datetime, timedelta

    import dagster as dg
    from click.testing import CliRunner

    from core.settings import load_settings
    from crimestat.cli import main
    from orchestration.definitions import defs
    from orchestration.gates import report_check_lines
    from orchestration.runs import dagster_instance
    from publication.checks import CheckLine

    home = tmp_path / "home"
    shutil.copytree(partner_home, home)
    monkeypatch.setenv("CRIMESTAT_HOME", str(home))
    graph = defs().resolve_asset_graph()
    extracts = ["extracts", "--partner", "EE", "--month", PACKAGE_MONTH]
    export = ["export", "--dataflow", "CRIM_JUST", "--year", "2023"]

    failing = CheckLine("gx_raw_convictions", "raw/convictions", "ERROR", False,
                        "citizenship: 2 e.g. [\"XX\"]")  # fmt: skip
    with dagster_instance(load_settings()) as instance:
        assert report_check_lines(instance, graph, [failing]) == 1
    for command in (extracts, export):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 1, result.output
        assert "check gx_raw_convictions on raw/convictions failed (crimestat check)" in (
            result.stderr
        )
        assert "citizenship: 2 e.g." in result.stderr
    assert not (home / "outbox").exists() and not (home / "exports").exists()

    with dagster_instance(load_settings()) as instance:  # checked again: it passes now
        report_check_lines(instance, graph, [replace(failing, passed=True, detail="")])
        instance.report_runless_asset_event(
            dg.AssetMaterialization(dg.AssetKey(["marts", "persons_convicted_by_citizenship"]))
        )
    loaded_at = datetime.now() + timedelta(minutes=5)  # a load after the mart was built
    import contextlib

    import duckdb

    with contextlib.closing(duckdb.connect(str(home / "warehouse.duckdb"))) as con:
        con.execute("insert into raw.file_loads values ('convictions', ?, 'c.jsonl.gz', 'x', "
                    "0, 0, 0, ?, 1)", [PACKAGE_MONTH, loaded_at])  # fmt: skip
    result = CliRunner().invoke(main, extracts)
    assert result.exit_code == 1, result.output
    assert "mart marts/persons_convicted_by_citizenship is stale: built at " in result.stderr
    assert f"newest load of raw/convictions at {loaded_at:%Y-%m-%d %H:%M:%S}" in result.stderr

    with contextlib.closing(duckdb.connect(str(home / "warehouse.duckdb"))) as con:
        con.execute("delete from raw.file_loads where _file = 'c.jsonl.gz'")
    result = CliRunner().invoke(main, extracts)
    assert result.exit_code == 0, result.output + result.stderr
