"""Everything crimestat writes under its home and into backups is its owner's only
(directories 0700, files 0600), whatever the umask of the shell that started it; partner
packages have the deployment's CRIMESTAT_OUTBOX_FILE_MODE."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from landing_files import land_three_months

from core.settings import SettingsError, load_settings

PROJECT = Path(__file__).resolve().parent.parent
GROUP_OR_OTHER = 0o077


def too_open(root: Path, skip: tuple[str, ...] = ()) -> list[str]:
    """Every entry under `root` (not `root` itself) that its group or others may use."""
    found = []
    for directory, folders, files in os.walk(root):
        here = Path(directory)
        folders[:] = [f for f in folders if (here / f).relative_to(root).parts[0] not in skip]
        for name in [*folders, *files]:
            path = here / name
            mode = path.lstat().st_mode
            if not stat.S_ISLNK(mode) and mode & GROUP_OR_OTHER:
                found.append(f"{path.relative_to(root)} {stat.filemode(mode)}")
    return found


def crimestat(*arguments: str) -> subprocess.CompletedProcess[str]:
    """The real command, started from a shell whose umask would let everyone read."""
    return subprocess.run(
        [sys.executable, "-m", "crimestat.cli", *arguments],
        cwd=PROJECT, env=os.environ.copy(), capture_output=True, text=True, timeout=600,
        umask=0o022,
    )  # fmt: skip


def test_a_run_and_a_backup_leave_only_owner_only_files(
    crimestat_home: Path, tmp_path: Path
) -> None:
    land_three_months(crimestat_home / "landing")  # delivered by the registers: not ours
    run = crimestat("materialize", "--select", "group:ingestion", "--partition", "2022-01")
    assert run.returncode == 0, run.stdout + run.stderr
    backup = tmp_path / "backups" / "first"
    taken = crimestat("backup", str(backup))
    assert taken.returncode == 0, taken.stderr
    written = {p.relative_to(crimestat_home).parts[0] for p in crimestat_home.rglob("*")}
    assert {"warehouse.duckdb", "dagster", "logs", "quality"} <= written
    assert too_open(crimestat_home, skip=("landing",)) == []
    assert stat.S_IMODE(backup.stat().st_mode) == 0o700
    assert {p.name for p in backup.iterdir()} >= {"warehouse.duckdb", "dagster"}
    assert too_open(backup) == []


def test_backup_and_restore_tighten_files_an_older_version_left_open(
    crimestat_home: Path, tmp_path: Path
) -> None:
    from crimestat.backup import backup_home
    from crimestat.restore import restore_home
    from ingestion.loading import load_partition

    land_three_months(crimestat_home / "landing")
    settings = load_settings()
    load_partition("incidents", "2022-01", settings)
    release = crimestat_home / "exports" / "CRIM_OFF_CAT" / "2022" / "v1" / "manifest.json"
    release.parent.mkdir(parents=True)
    release.write_text("{}")
    for path in [crimestat_home / "warehouse.duckdb", release]:
        path.chmod(0o644)
    backup_home(settings, tmp_path / "backup")
    assert too_open(tmp_path / "backup") == []
    restored = tmp_path / "restored"
    os.environ["CRIMESTAT_HOME"] = str(restored)  # the fixture's monkeypatch restores it
    restore_home(tmp_path / "backup", load_settings())
    assert too_open(restored) == []


def test_release_directories_are_owner_only(tmp_path: Path) -> None:
    from publication.releases import _place

    staging = Path(tempfile.mkdtemp(dir=tmp_path))
    (staging / "data.xml").write_text("<data/>")
    directory = tmp_path / "exports" / "CRIM_OFF_CAT" / "2022" / "v1"
    _place(staging, directory)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700


@pytest.mark.parametrize(("setting", "file_mode", "folder_mode"),
                         [(None, 0o600, 0o700), ("0640", 0o640, 0o750)])  # fmt: skip
def test_partner_packages_have_the_outbox_mode(
    crimestat_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    setting: str | None, file_mode: int, folder_mode: int,
) -> None:  # fmt: skip
    from publication.partners.delivery import delivery_adapter

    if setting is not None:
        monkeypatch.setenv("CRIMESTAT_OUTBOX_FILE_MODE", setting)
    settings = load_settings()
    assert settings.outbox_file_mode == file_mode
    package = tmp_path / "LT-LV_2022-01_package-001.zip"
    package.write_bytes(b"PK")
    package.chmod(0o644)
    adapter = delivery_adapter("outbox", settings.outbox_dir, settings.outbox_file_mode)
    delivered = Path(adapter.deliver(package, "LV"))
    assert stat.S_IMODE(delivered.stat().st_mode) == file_mode
    for folder in (settings.outbox_dir, settings.outbox_dir / "LV"):
        assert stat.S_IMODE(folder.stat().st_mode) == folder_mode


@pytest.mark.parametrize("value", ["0666", "0700", "0400", "0660", "640x", "rw-------"])
def test_an_outbox_mode_others_could_write_or_run_is_refused(
    crimestat_home: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("CRIMESTAT_OUTBOX_FILE_MODE", value)
    with pytest.raises(SettingsError, match="CRIMESTAT_OUTBOX_FILE_MODE must be"):
        load_settings()
