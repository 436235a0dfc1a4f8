"""The warehouse keeps the fingerprint of its pseudonymisation key: a load with another key
is refused before anything is written, whichever source it reads (files or a database)."""

from __future__ import annotations

import socket
from pathlib import Path

import duckdb
import pytest
from conftest import TEST_PSEUDONYMISATION_KEY
from landing_files import land_three_months
from test_ingestion_runs import raw_snapshot

from core.settings import (
    DEMO_MARKER,
    DEMO_PSEUDONYMISATION_KEY,
    SettingsError,
    load_settings,
)
from ingestion.database.pull import pull_partition
from ingestion.key_check import KEY_FINGERPRINT_TABLE
from ingestion.loading import load_partition, load_partitions
from ingestion.pseudonymisation import key_fingerprint

OTHER_KEY = "another-secret-key-9876543210"


def fingerprints(warehouse: Path) -> list[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [
            row[0]
            for row in con.execute(f"select fingerprint from {KEY_FINGERPRINT_TABLE}").fetchall()
        ]


def test_the_first_load_records_the_fingerprint_and_the_same_key_loads_again(
    crimestat_home: Path,
) -> None:
    land_three_months(crimestat_home / "landing")
    settings = load_settings()
    load_partition("convictions", "2022-01", settings)
    expected = key_fingerprint(TEST_PSEUDONYMISATION_KEY.encode())
    assert fingerprints(settings.warehouse_path) == [expected]
    assert expected == key_fingerprint(settings.pseudonymisation_key)  # HMAC of a constant
    list(load_partitions("convictions", ["2022-01", "2022-02"], load_settings()))
    assert fingerprints(settings.warehouse_path) == [expected]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_load_with_another_key_is_refused_and_writes_nothing(
    crimestat_home: Path, monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    land_three_months(crimestat_home / "landing")
    settings = load_settings()
    load_partition("convictions", "2022-01", settings)
    load_partition("incidents", "2022-01", settings)
    before = raw_snapshot(settings.warehouse_path)

    monkeypatch.setenv("CRIMESTAT_PSEUDONYMISATION_KEY", OTHER_KEY)
    monkeypatch.setenv("CRIMESTAT_INGESTION_WORKERS", workers)
    other = load_settings()
    with pytest.raises(SettingsError, match="CRIMESTAT_PSEUDONYMISATION_KEY is not the key") as e:
        list(load_partitions("convictions", ["2022-01", "2022-02", "2022-03"], other))
    message = str(e.value)
    assert key_fingerprint(OTHER_KEY.encode())[:8] in message
    assert key_fingerprint(OTHER_KEY.encode()) not in message
    assert OTHER_KEY not in message and TEST_PSEUDONYMISATION_KEY not in message
    after = raw_snapshot(settings.warehouse_path)
    for name, frame in before.items():
        assert frame.equals(after[name]), f"{name} changed by a refused load"


def test_a_database_pull_with_another_key_is_refused_before_it_connects(
    crimestat_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    land_three_months(crimestat_home / "landing")
    load_partition("incidents", "2022-01", load_settings())
    before = raw_snapshot(load_settings().warehouse_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # no database there: the key is refused first
    monkeypatch.setenv("CRIMESTAT_INCIDENTS_DB_URL", f"postgresql://u:p@127.0.0.1:{port}/db")
    monkeypatch.setenv("CRIMESTAT_PSEUDONYMISATION_KEY", OTHER_KEY)
    with pytest.raises(SettingsError, match="CRIMESTAT_PSEUDONYMISATION_KEY is not the key"):
        pull_partition("incidents", "2022-02", load_settings())
    after = raw_snapshot(load_settings().warehouse_path)
    for name, frame in before.items():
        assert frame.equals(after[name]), f"{name} changed by a refused pull"


def demo_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRIMESTAT_DEMO", "1")
    monkeypatch.delenv("CRIMESTAT_PSEUDONYMISATION_KEY")


def test_the_demo_key_is_refused_with_a_register_database(
    crimestat_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo_environment(monkeypatch)
    monkeypatch.setenv("CRIMESTAT_CONVICTIONS_DB_URL", "postgresql://u:p@db/registers")
    with pytest.raises(SettingsError, match=r"demo key .* CRIMESTAT_CONVICTIONS_DB_URL"):
        _ = load_settings().pseudonymisation_key  # the property refuses the key
    assert not (crimestat_home / DEMO_MARKER).exists()


def test_the_demo_key_is_refused_in_a_home_the_demo_did_not_make(
    crimestat_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    land_three_months(crimestat_home / "landing")  # a home holding the registers' files
    demo_environment(monkeypatch)
    with pytest.raises(SettingsError, match=rf"demo key .*\(CRIMESTAT_HOME\) .* no \{DEMO_MARKER}"):
        _ = load_settings().pseudonymisation_key  # the property refuses the key
    # Set explicitly, the demo key is the demo key all the same.
    monkeypatch.delenv("CRIMESTAT_DEMO")
    monkeypatch.setenv("CRIMESTAT_PSEUDONYMISATION_KEY", DEMO_PSEUDONYMISATION_KEY)
    with pytest.raises(SettingsError, match=r"demo key .*\(CRIMESTAT_HOME\)"):
        _ = load_settings().pseudonymisation_key  # the property refuses the key


def test_the_demo_key_in_a_new_home_marks_it_the_demos(
    tmp_path: Path, crimestat_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo_environment(monkeypatch)
    monkeypatch.setenv("CRIMESTAT_HOME", str(tmp_path / "new-home"))
    with pytest.warns(UserWarning, match="using the demo key"):
        assert load_settings().pseudonymisation_key == DEMO_PSEUDONYMISATION_KEY.encode()
    assert (tmp_path / "new-home" / DEMO_MARKER).is_file()
    land_three_months(tmp_path / "new-home" / "landing")
    load_partition("incidents", "2022-01", load_settings())  # a demo home: still allowed


def test_the_demo_claims_an_empty_home_refuses_another_and_warns_once(
    crimestat_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from crimestat import cli

    def steps(*_: object) -> list:
        for _ in range(3):  # every step loads the settings and reads the key
            _ = load_settings().pseudonymisation_key  # the property refuses the key
        return []

    monkeypatch.setattr(cli, "_generate", steps)
    monkeypatch.setattr(cli, "_materialize", steps)
    monkeypatch.setattr("crimestat.summary.print_summary", steps)
    monkeypatch.delenv("CRIMESTAT_PSEUDONYMISATION_KEY")
    monkeypatch.delenv("CRIMESTAT_DEMO", raising=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("warnings.filters", [])  # the run's filters stay within this test
        result = CliRunner().invoke(cli.main, ["demo"])
    assert result.exit_code == 0, result.output
    assert (crimestat_home / DEMO_MARKER).is_file()
    assert result.stderr.count("using the demo key") == 1

    other = crimestat_home.parent / "registers-home"
    land_three_months(other / "landing")
    monkeypatch.setenv("CRIMESTAT_HOME", str(other))
    result = CliRunner().invoke(cli.main, ["demo"])
    assert result.exit_code == 1
    assert f"no {DEMO_MARKER}" in result.stderr and "new or empty directory" in result.stderr
    assert sorted(p.name for p in other.iterdir()) == ["landing"]  # nothing replaced
