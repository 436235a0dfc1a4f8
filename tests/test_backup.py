"""Backup and restore of a home: a real warehouse (hand-written registers, real dbt build),
real releases made by the real export asset in the home's real Dagster instance, partner
files in the outbox; restored into an empty home it gives the same tables, files, runs and
check history; every kind of damage is refused and leaves the target home as it was."""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from click.testing import CliRunner
from conftest import TEST_PSEUDONYMISATION_KEY
from dashboards_fixtures import build_warehouse_before_releases

from core.settings import Settings, load_settings
from crimestat.backup import backup_home
from crimestat.backup_manifest import MANIFEST_NAME, BackupError
from crimestat.cli import main
from crimestat.restore import restore_home
from orchestration.runs import RunOutcome

YEAR = 2023
# A blocking check upstream of every CRIM_OFF_CAT release, failed after the first release.
FAILED_CHECK = dg.AssetCheckKey(
    dg.AssetKey(["marts", "recorded_offences_annual"]), "assert_iccs_rollup_adds_up"
)
CRIM_OFF_CAT_ASSET = dg.AssetKey(["exports", "crim_off_cat"])


@contextlib.contextmanager
def home_environment(home: Path) -> Iterator[Settings]:
    """The settings of `home`, with the environment every component reads them from."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CRIMESTAT_HOME", str(home))
        patch.setenv("CRIMESTAT_PSEUDONYMISATION_KEY", TEST_PSEUDONYMISATION_KEY)
        patch.setenv("DAGSTER_HOME", str(home / "dagster"))
        patch.delenv("CRIMESTAT_DEMO", raising=False)
        yield load_settings()


def export_release(settings: Settings, dataflow_asset: dg.AssetKey) -> RunOutcome:
    """One run of the real export asset, as `crimestat materialize --select` makes it (the
    gate sees the whole asset graph), recorded in the home's Dagster instance."""
    from orchestration.definitions import defs
    from orchestration.runs import materialize_selection

    (outcome,) = materialize_selection(
        defs(), settings, f"key:{dataflow_asset.to_user_string()}", f"{YEAR}-12"
    )
    return outcome


@pytest.fixture(scope="module")
def source_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from orchestration.runs import dagster_instance

    home = build_warehouse_before_releases(tmp_path_factory.mktemp("source") / "home")
    with home_environment(home) as settings:
        for dataflow in (CRIM_OFF_CAT_ASSET, dg.AssetKey(["exports", "crim_just"])):
            assert export_release(settings, dataflow).success
        dagster_instance(settings).report_runless_asset_event(
            dg.AssetCheckEvaluation(
                asset_key=FAILED_CHECK.asset_key, check_name=FAILED_CHECK.name, passed=False,
                severity=dg.AssetCheckSeverity.ERROR,
            )
        )  # fmt: skip
    # What a partner delivery leaves in the outbox (written by another part of crimestat).
    package = home / "outbox" / "LV" / "crimestat-LV-2023-12-001.zip"
    package.parent.mkdir(parents=True)
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("manifest.json", '{"package": 1}')
    (home / "outbox" / "delivery-log.jsonl").write_text('{"package": 1, "partner": "LV"}\n')
    (home / "quality" / "gx").mkdir(parents=True)
    (home / "quality" / "gx" / ".ge_store_backend_id").write_text("store-backend-id = 1\n")
    # Never in a backup: re-delivered, derived or transient.
    for name in ("landing/incidents/2023-01/incidents_2023-01-02.csv.gz",
                 "serving/current.json", "logs/materialize.log"):  # fmt: skip
        (home / name).parent.mkdir(parents=True, exist_ok=True)
        (home / name).write_text("not backed up")
    return home


@pytest.fixture(scope="module")
def backup_dir(source_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("backups") / "full"
    with home_environment(source_home) as settings:
        backup_home(settings, target)
    return target


def relations(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table and view of a warehouse, in a fixed order."""
    with contextlib.closing(duckdb.connect(str(path), read_only=True)) as con:
        names = con.execute(
            "select schema_name, table_name from duckdb_tables() where not internal union "
            "select schema_name, view_name from duckdb_views() where not internal order by all"
        ).fetchall()
        return {
            f"{schema}.{name}": con.execute(
                f'select * from "{schema}"."{name}" order by all'
            ).fetchall()
            for schema, name in names
        }


def digests(root: Path, folder: str) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted((root / folder).rglob("*"))
        if path.is_file()
    }


def tree(root: Path) -> dict[str, bytes | None]:
    """Every entry under `root` with its bytes (None for a directory): to see any change."""
    if not root.exists():
        return {}
    return {
        path.relative_to(root).as_posix(): path.read_bytes() if path.is_file() else None
        for path in sorted(root.rglob("*"))
    }


def test_restore_into_an_empty_home_gives_the_same_warehouse_files_and_runs(
    source_home: Path, backup_dir: Path, tmp_path: Path
) -> None:
    from orchestration.runs import dagster_instance

    target = tmp_path / "new-home"  # does not exist yet
    with home_environment(target) as settings:
        summary = restore_home(backup_dir, settings)

    assert summary.replaced == []
    assert summary.backup.release_files_checked == 10  # two releases of five files
    source_relations = relations(source_home / "warehouse.duckdb")
    assert any(rows for rows in source_relations.values())
    assert {"releases.release_files", "marts.recorded_offences_annual", "raw.quarantine",
            "staging.stg_incidents__events"} <= source_relations.keys()  # fmt: skip
    assert relations(target / "warehouse.duckdb") == source_relations
    for folder in ("exports", "outbox", "quality"):
        assert digests(target, folder) == digests(source_home, folder), folder
    assert len(digests(target, "exports")) == 10
    with contextlib.closing(duckdb.connect(str(target / "warehouse.duckdb"))) as con:
        recorded = con.execute(
            "select relative_path, sha256 from releases.release_files"
        ).fetchall()
    assert {f"exports/{path}": sha for path, sha in recorded} == digests(target, "exports")
    assert not any((target / name).exists() for name in ("landing", "serving", "logs"))

    # The Dagster instance: the same runs, and the check history the publication gate reads.
    with home_environment(source_home) as settings:
        source_runs = {(r.run_id, r.status) for r in dagster_instance(settings).get_runs()}
    with home_environment(target) as settings:
        assert {(r.run_id, r.status) for r in dagster_instance(settings).get_runs()} == (
            source_runs
        )
        refused = export_release(settings, CRIM_OFF_CAT_ASSET)
    assert len(source_runs) == 2
    assert not refused.success
    message = " ".join(refused.problems)
    assert "exports/crim_off_cat not published: blocking checks failed" in message
    assert "check assert_iccs_rollup_adds_up on marts/recorded_offences_annual failed" in message


def test_manifest_lists_every_file_and_every_table(source_home: Path, backup_dir: Path) -> None:
    manifest = json.loads((backup_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
    listed = {entry["path"]: entry for entry in manifest["files"]}
    present = {p.relative_to(backup_dir).as_posix() for p in backup_dir.rglob("*") if p.is_file()}
    assert present - {MANIFEST_NAME} == listed.keys()
    for path, entry in listed.items():
        content = (backup_dir / path).read_bytes()
        assert (len(content), hashlib.sha256(content).hexdigest()) == (
            entry["size"], entry["sha256"]
        ), path  # fmt: skip
    assert {path.split("/")[0] for path in listed} == {
        "warehouse.duckdb", "exports", "outbox", "dagster", "quality"
    }  # fmt: skip
    # Dagster's SQLite databases come whole from the online backup API, without companions.
    assert "dagster/history/runs.db" in listed
    assert not [p for p in listed if p.endswith(("-wal", "-shm", "-journal"))]
    with contextlib.closing(
        duckdb.connect(str(source_home / "warehouse.duckdb"), read_only=True)
    ) as con:
        tables = con.execute("select schema_name, table_name from duckdb_tables()").fetchall()
        counts = {
            f"{schema}.{table}": len(con.execute(f"from {schema}.{table}").fetchall())
            for schema, table in tables
        }
    assert manifest["warehouse"]["tables"] == counts
    assert manifest["home"] == str(source_home)
    assert manifest["crimestat_version"] == "0.1.0"
    assert manifest["git_commit"] is None or len(manifest["git_commit"]) == 40
    assert not list(backup_dir.glob(".partial-*"))


def set_manifest(backup: Path, change: Callable[[dict], None]) -> None:
    manifest = json.loads((backup / MANIFEST_NAME).read_text(encoding="utf-8"))
    change(manifest)
    (backup / MANIFEST_NAME).write_text(json.dumps(manifest), encoding="utf-8")


def entry(manifest: dict, path: str) -> dict:
    return next(e for e in manifest["files"] if e["path"] == path)


RELEASE_FILE = f"exports/CRIM_OFF_CAT/{YEAR}/v1/CRIM_OFF_CAT_A_{YEAR}_0000.csv"


def flip_a_byte(backup: Path) -> None:
    path = backup / RELEASE_FILE
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0x01
    path.write_bytes(bytes(content))


def truncate_the_warehouse(backup: Path) -> None:
    path = backup / "warehouse.duckdb"
    with path.open("r+b") as stream:
        stream.truncate(path.stat().st_size // 2)


def alter_a_release_file_and_its_manifest_entry(backup: Path) -> None:
    """Damage no checksum can see: only the warehouse's record of the release tells."""
    path = backup / RELEASE_FILE
    path.write_bytes(path.read_bytes().replace(b"ICCS0101", b"ICCS0102", 1))
    content = path.read_bytes()

    def rewrite(manifest: dict) -> None:
        entry(manifest, RELEASE_FILE).update(
            size=len(content), sha256=hashlib.sha256(content).hexdigest()
        )

    set_manifest(backup, rewrite)


def miscount_a_table(backup: Path) -> None:
    def change(manifest: dict) -> None:
        manifest["warehouse"]["tables"]["raw.incident_versions"] += 1

    set_manifest(backup, change)


def alter_the_warehouse_and_its_manifest_entry(backup: Path) -> None:
    path = backup / "warehouse.duckdb"
    with path.open("r+b") as stream:
        stream.write(b"\x00" * 64)  # the file header
    content = path.read_bytes()

    def rewrite(manifest: dict) -> None:
        entry(manifest, "warehouse.duckdb").update(
            size=len(content), sha256=hashlib.sha256(content).hexdigest()
        )

    set_manifest(backup, rewrite)


CORRUPTIONS = {
    "flipped byte": (flip_a_byte, [f"{RELEASE_FILE}: SHA-256", "(content altered)"]),
    "missing file": (
        lambda backup: (backup / "outbox" / "delivery-log.jsonl").unlink(),
        ["outbox/delivery-log.jsonl: listed in the manifest but missing from the backup"],
    ),
    "extra file": (
        lambda backup: (backup / "exports" / "stray.xml").write_text("<x/>"),
        ["exports/stray.xml: not in the manifest (a file added to the backup)"],
    ),
    "truncated warehouse": (truncate_the_warehouse, ["warehouse.duckdb: ", "(truncated)"]),
    "damaged manifest": (
        lambda backup: (backup / MANIFEST_NAME).write_bytes(
            (backup / MANIFEST_NAME).read_bytes()[:500]
        ),
        [f"{MANIFEST_NAME}: damaged, not valid JSON (line"],
    ),
    "manifest missing a field": (
        lambda backup: set_manifest(backup, lambda m: m.pop("files")),
        [f"{MANIFEST_NAME}: damaged: \"field 'files' is missing\""],
    ),
    "no manifest": (
        lambda backup: (backup / MANIFEST_NAME).unlink(),
        [f"no {MANIFEST_NAME}: not a crimestat backup, or one that was never completed"],
    ),
    "release file altered with its checksum": (
        alter_a_release_file_and_its_manifest_entry,
        [f"{RELEASE_FILE}: SHA-256", f"release CRIM_OFF_CAT-{YEAR}-v1 recorded"],
    ),
    "row count differs": (
        miscount_a_table,
        ["warehouse.duckdb: table raw.incident_versions has", "the manifest says"],
    ),
    "warehouse unreadable with its checksum": (
        alter_the_warehouse_and_its_manifest_entry,
        ["warehouse.duckdb: DuckDB cannot read it"],
    ),
}


@pytest.mark.parametrize("kind", list(CORRUPTIONS))
def test_damaged_backup_is_refused_and_the_home_left_as_it_was(
    backup_dir: Path, tmp_path: Path, kind: str
) -> None:
    damage, expected = CORRUPTIONS[kind]
    damaged = tmp_path / "damaged"
    shutil.copytree(backup_dir, damaged)
    damage(damaged)
    target = tmp_path / "home"
    (target / "landing" / "customs").mkdir(parents=True)
    (target / "landing" / "customs" / "violations_2024-01.csv").write_text("kept\n")
    before = tree(target)

    with home_environment(target) as settings, pytest.raises(BackupError) as refused:
        restore_home(damaged, settings)

    message = str(refused.value)
    assert all(part in message for part in expected), message
    assert tree(target) == before


def test_backup_goes_only_into_an_empty_or_new_directory(source_home: Path, tmp_path: Path) -> None:
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "notes.txt").write_text("mine")
    a_file = tmp_path / "a-file"
    a_file.write_text("mine")
    with home_environment(source_home) as settings:
        with pytest.raises(BackupError, match=r"occupied is not empty \(notes.txt\)"):
            backup_home(settings, occupied)
        with pytest.raises(BackupError, match="a-file is a file"):
            backup_home(settings, a_file)
        with pytest.raises(BackupError, match="is inside the home"):
            backup_home(settings, source_home / "backups")
        empty = tmp_path / "empty"
        empty.mkdir()
        assert (backup_home(settings, empty).directory / MANIFEST_NAME).is_file()
    assert tree(occupied) == {"notes.txt": b"mine"}
    assert a_file.read_text() == "mine"
    with (
        home_environment(tmp_path / "no-home") as settings,
        pytest.raises(BackupError, match=r"no warehouse at .*: nothing to back up"),
    ):
        backup_home(settings, tmp_path / "never")
    assert not (tmp_path / "never").exists()


HOLDER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
print("holding", flush=True)
sys.stdin.readline()
con.execute("create schema if not exists probe")
con.execute("create table probe.written_while_the_backup_waited as select 42 as answer")
con.close()
"""


@contextlib.contextmanager
def writer_holding(warehouse: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process with the warehouse open for writing until a line reaches its stdin;
    it then writes a table and closes."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(warehouse)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "holding"
        yield holder
    finally:
        if holder.poll() is None:
            holder.stdin.write("go\n")
            holder.stdin.flush()
        assert holder.wait(timeout=120) == 0


def test_backup_waits_for_a_writing_process_then_copies_what_it_wrote(
    source_home: Path, tmp_path: Path
) -> None:
    home = tmp_path / "busy-home"
    shutil.copytree(source_home, home)
    target = tmp_path / "backup"
    with home_environment(home) as settings, ThreadPoolExecutor(1) as pool:
        with writer_holding(settings.warehouse_path):
            with pytest.raises(BackupError, match="stayed locked by a writing process"):
                backup_home(settings, tmp_path / "impatient", lock_wait_seconds=0.2)
            assert not (tmp_path / "impatient").exists()
            waiting = pool.submit(backup_home, settings, target)
            while not list(target.glob(".partial-*")) and not waiting.done():
                time.sleep(0.05)
            time.sleep(0.5)
            # The writer still holds the file: no backup can have been completed.
            assert not waiting.done()
        # The writer has written its table and closed the file: now the backup goes on.
        summary = waiting.result()
    assert summary.manifest.tables["probe.written_while_the_backup_waited"] == 1
    restored = tmp_path / "restored"
    with home_environment(restored) as settings:
        restore_home(target, settings)
    rows = relations(restored / "warehouse.duckdb")
    assert rows["probe.written_while_the_backup_waited"] == [(42,)]


def test_write_ahead_log_of_a_killed_writer_is_carried_and_replayed(
    source_home: Path, tmp_path: Path
) -> None:
    home = tmp_path / "crashed-home"
    shutil.copytree(source_home, home)
    killed = (
        "import os, sys, duckdb\n"
        "con = duckdb.connect(sys.argv[1])\n"
        "con.execute('create table raw.after_the_crash as select 7 as n')\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", killed, str(home / "warehouse.duckdb")], check=True)
    assert (home / "warehouse.duckdb.wal").is_file()
    with home_environment(home) as settings:
        summary = backup_home(settings, tmp_path / "backup")
    assert "warehouse.duckdb.wal" in summary.manifest.by_path()
    assert summary.manifest.tables["raw.after_the_crash"] == 1
    with home_environment(tmp_path / "restored") as settings:
        restore_home(tmp_path / "backup", settings)
    assert relations(tmp_path / "restored" / "warehouse.duckdb")["raw.after_the_crash"] == [(7,)]


def test_restore_over_a_home_needs_force_and_then_replaces_everything_it_holds(
    source_home: Path, backup_dir: Path, tmp_path: Path
) -> None:
    target = tmp_path / "home"
    (target / "exports" / "OLD").mkdir(parents=True)
    (target / "exports" / "OLD" / "file.xml").write_text("old")
    (target / "outbox").mkdir()
    (target / "outbox" / "old.zip").write_text("old")
    with contextlib.closing(duckdb.connect(str(target / "warehouse.duckdb"))) as con:
        con.execute("create table old_table as select 1 as n")
    (target / "warehouse.duckdb.wal").write_bytes(b"a log of the old warehouse")
    (target / "landing").mkdir()
    (target / "landing" / "kept.csv").write_text("kept")
    before = tree(target)
    with home_environment(target) as settings:
        with pytest.raises(BackupError, match=r"already holds warehouse\.duckdb, "
                           r"warehouse\.duckdb\.wal, exports, outbox: .* --force"):  # fmt: skip
            restore_home(backup_dir, settings)
        assert tree(target) == before
        (target / "warehouse.duckdb.wal").unlink()  # a real log would be replayed on open
        with (
            writer_holding(target / "warehouse.duckdb"),
            pytest.raises(BackupError, match="is open in another process"),
        ):
            restore_home(backup_dir, settings, force=True)
        (target / "warehouse.duckdb.wal").write_bytes(b"a log of the old warehouse")
        summary = restore_home(backup_dir, settings, force=True)

    assert summary.replaced == ["warehouse.duckdb", "warehouse.duckdb.wal", "exports", "outbox"]
    assert not (target / "warehouse.duckdb.wal").exists()
    assert not (target / "exports" / "OLD").exists()
    assert not (target / "outbox" / "old.zip").exists()
    assert (target / "landing" / "kept.csv").read_text() == "kept"
    assert relations(target / "warehouse.duckdb") == relations(source_home / "warehouse.duckdb")
    assert digests(target, "outbox") == digests(source_home, "outbox")
    assert not list(target.glob(".restore-*"))


def test_cli_backup_and_restore(source_home: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    target = tmp_path / "backup"
    source_env = {"CRIMESTAT_HOME": str(source_home)}

    result = runner.invoke(main, ["backup", str(target)], env=source_env)
    assert result.exit_code == 0, result.output
    assert f"backed up {source_home} into {target}" in result.output
    assert "exports" in result.output and "warehouse tables" in result.output
    assert f"manifest: {target / MANIFEST_NAME}" in result.output

    again = runner.invoke(main, ["backup", str(target)], env=source_env)
    assert again.exit_code == 1
    assert "is not empty" in again.output

    new_env = {"CRIMESTAT_HOME": str(tmp_path / "new-home")}
    restored = runner.invoke(main, ["restore", str(target)], env=new_env)
    assert restored.exit_code == 0, restored.output
    assert "verified" in restored.output and "10 release files" in restored.output
    assert f"restored into {tmp_path / 'new-home'}" in restored.output

    occupied = runner.invoke(main, ["restore", str(target)], env=new_env)
    assert occupied.exit_code == 1
    assert "already holds" in occupied.output and "--force" in occupied.output

    forced = runner.invoke(main, ["restore", "--force", str(target)], env=new_env)
    assert forced.exit_code == 0, forced.output
    assert f"replaced in {tmp_path / 'new-home'}: warehouse.duckdb, exports" in forced.output

    flip_a_byte(target)
    damaged = runner.invoke(main, ["restore", "--force", str(target)], env=new_env)
    assert damaged.exit_code == 1
    assert f"{RELEASE_FILE}: SHA-256" in damaged.output
    assert "nothing was restored" in damaged.output

    missing = runner.invoke(main, ["restore", str(tmp_path / "nowhere")], env=new_env)
    assert missing.exit_code == 1
    assert "is not a directory: no backup to restore" in missing.output
