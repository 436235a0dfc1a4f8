"""`crimestat ui` starts the Dagster UI and the dashboards and stops both on Ctrl-C; the
dashboards run headless, without telemetry and without looking up an external address.
(`crimestat dashboards` itself is run for real by test_dashboards_browser.py.)"""

from __future__ import annotations

import importlib
import signal
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner

from crimestat import cli


class FakeServer:
    """Stands for a server process: runs until it is sent a signal."""

    started: ClassVar[list[FakeServer]] = []

    def __init__(self, command: list[str], env: dict[str, str], start_new_session: bool) -> None:
        self.command, self.env, self.new_session = command, env, start_new_session
        self.signals: list[int] = []
        self.returncode: int | None = None
        FakeServer.started.append(self)

    def poll(self) -> int | None:
        return self.returncode

    def send_signal(self, sent: int) -> None:
        self.signals.append(sent)
        self.returncode = -sent

    def wait(self, timeout: float | None = None) -> int | None:
        return self.returncode


def test_ui_starts_dagster_and_dashboards_and_stops_both(
    crimestat_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `ui` imports Dagster, whose import runs `file` (platform.architecture): imported here
    # first, so the fake stands only for the two servers whatever ran before this test.
    importlib.import_module("dagster")

    FakeServer.started = []
    monkeypatch.setattr(cli.subprocess, "Popen", FakeServer)

    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli.time, "sleep", interrupt)
    monkeypatch.setattr(cli.signal, "signal", lambda *args: None)
    result = CliRunner().invoke(cli.main, ["ui", "--port", "8600", "--dagster-port", "3100"])

    assert result.exit_code == 0, result.output
    dagster, dashboards = FakeServer.started
    assert dagster.command[1:] == ["-m", "dagster", "dev", "-m", "orchestration.definitions",
                                   "--port", "3100"]  # fmt: skip
    assert dagster.env["DAGSTER_HOME"] == str(crimestat_home / "dagster")
    assert (crimestat_home / "dagster").is_dir()
    assert dashboards.command[1:4] == ["-m", "streamlit", "run"]
    assert all(s.signals == [signal.SIGINT] and s.new_session for s in FakeServer.started)


def test_dashboards_command_is_headless_offline_and_silent() -> None:
    command = cli._dashboards_command(8600, "0.0.0.0")
    options = dict(zip(command[5::2], command[6::2], strict=True))
    assert command[4].endswith("dashboards/app.py")
    assert options == {
        "--server.headless": "true", "--server.port": "8600", "--server.address": "0.0.0.0",
        "--browser.serverAddress": "localhost", "--browser.gatherUsageStats": "false",
        "--client.toolbarMode": "viewer",
    }  # fmt: skip
