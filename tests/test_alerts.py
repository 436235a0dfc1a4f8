"""Alerts leave by every configured notifier: the alert log always, e-mail through a real SMTP
server when one is set; a notifier that fails is itself recorded and loses no alert."""

from __future__ import annotations

import json
import socket
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from landing_files import land_three_months

from core.settings import load_settings


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(
            (envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default))
        )
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def fail_an_ingestion_run(home: Path) -> str:
    from orchestration.definitions import defs
    from orchestration.runs import materialize_selection

    land_three_months(home / "landing")
    cut = home / "landing/incidents/2022-02/incidents_2022-02-20.csv.gz"
    cut.write_bytes(cut.read_bytes()[:-30])
    outcomes = materialize_selection(defs(), load_settings(), "group:ingestion", "2022-02")
    assert not outcomes[-1].success
    return outcomes[-1].run_id


def log_entries(home: Path) -> list[dict]:
    return [json.loads(line) for line in (home / "logs/alerts.log").read_text().splitlines()]


def test_failed_run_alert_goes_to_the_log_and_by_email(
    crimestat_home: Path, smtp_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    controller, inbox = smtp_server
    monkeypatch.setenv("CRIMESTAT_ALERT_SMTP_URL", f"smtp://127.0.0.1:{controller.port}")
    monkeypatch.setenv("CRIMESTAT_ALERT_EMAIL_TO", "duty@vrm.lt, stats@vrm.lt")
    monkeypatch.setenv("CRIMESTAT_ALERT_EMAIL_FROM", "crimestat@vrm.lt")

    run_id = fail_an_ingestion_run(crimestat_home)

    [entry] = log_entries(crimestat_home)
    assert entry["alert"]["run_id"] == run_id
    assert entry["alert"]["partitions"] == "2022-02"
    assert entry["alert"]["job"] == "crimestat materialize"
    problem = "incidents/2022-02/incidents_2022-02-20.csv.gz: gzip stream is truncated"
    assert any(problem in p for p in entry["alert"]["problems"])
    [(recipients, mail)] = inbox.messages
    assert recipients == ["duty@vrm.lt", "stats@vrm.lt"]
    assert mail["Subject"].strip() == entry["subject"]  # a long subject is folded
    assert mail["From"] == "crimestat@vrm.lt"
    assert problem in mail.get_content()


def test_a_failing_notifier_is_recorded_and_the_alert_kept(
    crimestat_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRIMESTAT_ALERT_SMTP_URL", f"smtp://127.0.0.1:{free_port()}")  # nobody
    monkeypatch.setenv("CRIMESTAT_ALERT_EMAIL_TO", "duty@vrm.lt")

    run_id = fail_an_ingestion_run(crimestat_home)

    alert, failure = log_entries(crimestat_home)
    assert alert["alert"]["run_id"] == run_id
    assert failure["notifier_failed"] == "smtp" and failure["run_id"] == run_id
    assert "ConnectionRefusedError" in failure["error"]


@pytest.mark.parametrize(
    ("url", "to", "message"),
    [
        ("http://mail.vrm.lt", "a@vrm.lt", "must look like smtp://"),
        ("smtp://mail.vrm.lt", "", "CRIMESTAT_ALERT_EMAIL_TO must name at least one address"),
        ("smtp://mail.vrm.lt:99999", "a@vrm.lt", "bad port"),
    ],
)
def test_bad_smtp_settings_are_named(
    monkeypatch: pytest.MonkeyPatch, url: str, to: str, message: str
) -> None:
    from core.settings import SettingsError

    monkeypatch.setenv("CRIMESTAT_ALERT_SMTP_URL", url)
    monkeypatch.setenv("CRIMESTAT_ALERT_EMAIL_TO", to)
    with pytest.raises(SettingsError, match=message):
        load_settings()


def test_smtp_password_never_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "CRIMESTAT_ALERT_SMTP_URL", "smtp://alerts:s3cr%40t@mail.vrm.lt:587?starttls=1"
    )
    monkeypatch.setenv("CRIMESTAT_ALERT_EMAIL_TO", "a@vrm.lt")
    smtp = load_settings().alert_smtp
    assert (smtp.username, smtp.password, smtp.port, smtp.starttls) == (
        "alerts",
        "s3cr@t",
        587,
        True,
    )
    assert "s3cr" not in repr(smtp) and "s3cr" not in repr(load_settings())


def an_alert() -> object:
    from orchestration.alerts import Alert

    return Alert(run_id="deadbeef" * 4, job="month_refresh", partitions="2022-02",
                 problems=("step raw/incidents failed",), failed_blocking_checks=(),
                 raised_at="2024-01-01T00:00:00+00:00")  # fmt: skip


def make_logs_unwritable(home: Path) -> None:
    """An unwritable logs directory: 0500 for a normal user; root writes anywhere, so there
    `logs` is a file (no alerts.log can be created under it either way)."""
    import os

    if os.geteuid() == 0:
        (home / "logs").write_text("not a directory")
    else:
        (home / "logs").mkdir()
        (home / "logs").chmod(0o500)


def test_an_unwritable_log_does_not_stop_the_email(
    crimestat_home: Path, smtp_server, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from orchestration.alerts import send_alert

    controller, inbox = smtp_server
    monkeypatch.setenv("CRIMESTAT_ALERT_SMTP_URL", f"smtp://127.0.0.1:{controller.port}")
    monkeypatch.setenv("CRIMESTAT_ALERT_EMAIL_TO", "duty@vrm.lt")
    make_logs_unwritable(crimestat_home)

    failures = send_alert(an_alert(), load_settings())

    [(recipients, mail)] = inbox.messages  # the e-mail still arrives
    assert recipients == ["duty@vrm.lt"]
    assert "step raw/incidents failed" in mail.get_content()
    assert "alert notifier alert-log failed" in mail.get_content()  # recorded in the e-mail
    [failure] = failures
    assert failure.startswith("alert-log: ")
    err = capsys.readouterr().err
    assert "notifier alert-log failed" in err and "deadbeef" in err


def test_every_notifier_failing_is_printed_without_secrets(
    crimestat_home: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """Disk full for the log, SMTP down: both failures on stderr, neither raises, no
    password shown."""
    from orchestration import alerts

    monkeypatch.setenv("CRIMESTAT_ALERT_SMTP_URL",
                       f"smtps://duty:pa55-w0rd-secret@127.0.0.1:{free_port()}")  # fmt: skip
    monkeypatch.setenv("CRIMESTAT_ALERT_EMAIL_TO", "duty@vrm.lt")

    def disk_full(self, entry: dict) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(alerts.AlertLog, "_append", disk_full)

    failures = alerts.send_alert(an_alert(), load_settings())

    assert [f.split(":")[0] for f in failures] == ["alert-log", "smtp"]
    err = capsys.readouterr().err
    assert "No space left on device" in err and "notifier smtp failed" in err
    assert "not recorded in" in err  # the log could not take the failures either
    assert "pa55-w0rd-secret" not in err
