"""Alerts when a run fails or a blocking check fails (SPEC 11).

Every alert is appended to the alert log (`$CRIMESTAT_HOME/logs/alerts.log`, one JSON object
per line), whatever else is configured, so no alert is ever lost to a mail server being down;
further notifiers plug in beside it (e-mail over SMTP when CRIMESTAT_ALERT_SMTP_URL is set). A
notifier that fails never stops the others: the failure is printed to stderr, named in the
alert the later notifiers send, and recorded in the alert log when that can be written.

Two paths raise alerts: the run-failure sensor (runs launched by schedules, sensors, the UI,
seen by the Dagster daemon) and `materialize_selection` (runs of the command line, which run
in process and never pass through the daemon).
"""

from __future__ import annotations

import contextlib
import json
import smtplib
import ssl
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

import dagster as dg

from core.settings import Settings, SmtpSettings
from orchestration.run_events import (
    PARTITION_RANGE_END_TAG,
    PARTITION_RANGE_START_TAG,
    PARTITION_TAG,
    partition_span,
    run_events,
    summarise_run_events,
)

SMTP_TIMEOUT_SECONDS = 30
LAUNCHED_BY_TAG = "crimestat/launched_by"
# Command-line runs execute an ephemeral job; the alert names the command instead.
CLI_JOB = "crimestat materialize"


@dataclass(frozen=True)
class Alert:
    """What went wrong in one run, in words an engineer can act on."""

    run_id: str
    job: str
    partitions: str
    problems: tuple[str, ...]
    failed_blocking_checks: tuple[str, ...]
    raised_at: str  # ISO 8601, UTC

    @property
    def subject(self) -> str:
        what = "blocking check failed" if self.failed_blocking_checks else "run failed"
        return f"crimestat: {what} in run {self.run_id[:8]} ({self.job}, {self.partitions})"

    @property
    def text(self) -> str:
        lines = [
            self.subject,
            "",
            f"run: {self.run_id}",
            f"job: {self.job}",
            f"partitions: {self.partitions}",
            f"at: {self.raised_at}",
            "",
            *(f"- {problem}" for problem in self.problems or ("the run failed",)),
        ]
        return "\n".join(lines) + "\n"


class Notifier(Protocol):
    """Anything that can pass an alert on; raising means the alert did not go out."""

    name: str

    def notify(self, alert: Alert) -> None: ...


class AlertLog:
    """The alert log file: always on, the record of every alert and of notifier failures."""

    name = "alert-log"

    def __init__(self, path: Path) -> None:
        self.path = path

    def notify(self, alert: Alert) -> None:
        self._append({"alert": asdict(alert), "subject": alert.subject})

    def record_failure(
        self, alert: Alert, notifier: str, error: Exception, text: str | None = None
    ) -> None:
        self._append(
            {
                "notifier_failed": notifier,
                "run_id": alert.run_id,
                "error": text or f"{type(error).__name__}: {error}",
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
        )

    def _append(self, entry: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as log:
            log.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")


class SmtpNotifier:
    """E-mail through the ministry's SMTP relay."""

    name = "smtp"

    def __init__(self, smtp: SmtpSettings) -> None:
        self.smtp = smtp

    def notify(self, alert: Alert) -> None:
        if self.smtp.username and not (self.smtp.starttls or self.smtp.implicit_tls):
            # The settings refuse this; never send credentials in clear whatever built them.
            raise ValueError("SMTP credentials without TLS are refused (CRIMESTAT_ALERT_SMTP_URL)")
        message = EmailMessage()
        message["Subject"] = alert.subject
        message["From"] = self.smtp.sender
        message["To"] = ", ".join(self.smtp.recipients)
        message.set_content(alert.text)
        context = ssl.create_default_context()
        if self.smtp.implicit_tls:
            client = smtplib.SMTP_SSL(
                self.smtp.host, self.smtp.port, timeout=SMTP_TIMEOUT_SECONDS, context=context
            )
        else:
            client = smtplib.SMTP(self.smtp.host, self.smtp.port, timeout=SMTP_TIMEOUT_SECONDS)
        with client:
            if self.smtp.starttls:
                client.starttls(context=context)
            if self.smtp.username:
                client.login(self.smtp.username, self.smtp.password or "")
            client.send_message(message)


def notifiers(settings: Settings) -> list[Notifier]:
    """The alert log, plus e-mail when an SMTP relay is configured."""
    chosen: list[Notifier] = [AlertLog(settings.alert_log_path)]
    if settings.alert_smtp is not None:
        chosen.append(SmtpNotifier(settings.alert_smtp))
    return chosen


def send_alert(alert: Alert, settings: Settings, extra: Sequence[Notifier] = ()) -> list[str]:
    """Pass the alert to every notifier; one that fails (log unwritable, disk full, SMTP down)
    never stops the others. Each failure is printed to stderr (secrets masked), named in the
    alert the later notifiers send, and recorded in the alert log when it can be written.
    Returns the failures, one line each."""
    failures: list[tuple[str, Exception]] = []
    for notifier in [*notifiers(settings), *extra]:
        sent = alert
        if failures:  # the e-mail says the log could not be written, and so on
            sent = replace(alert, problems=(*alert.problems, *(
                f"alert notifier {name} failed: {_masked(error, settings)}"
                for name, error in failures)))  # fmt: skip
        try:
            notifier.notify(sent)
        except Exception as error:  # any notifier failure must not hide the alert
            failures.append((notifier.name, error))
            _to_stderr(f"alert for run {alert.run_id[:8]}: notifier {notifier.name} failed: "
                       f"{_masked(error, settings)}")  # fmt: skip
    log = AlertLog(settings.alert_log_path)
    for name, error in failures:
        try:
            log.record_failure(alert, name, error, _masked(error, settings))
        except Exception as log_error:
            _to_stderr(f"alert for run {alert.run_id[:8]}: failure of notifier {name} not "
                       f"recorded in {log.path}: {_masked(log_error, settings)}")  # fmt: skip
    return [f"{name}: {_masked(error, settings)}" for name, error in failures]


def _masked(error: BaseException, settings: Settings) -> str:
    """`Type: message` with the SMTP credentials (if any) replaced by ***."""
    text = f"{type(error).__name__}: {error}"
    smtp = settings.alert_smtp
    for secret in (smtp.password, smtp.username) if smtp else ():
        if secret:
            text = text.replace(secret, "***")
    return text


def _to_stderr(line: str) -> None:
    with contextlib.suppress(Exception):  # a closed stderr must not stop the alert either
        print(f"crimestat: {line}", file=sys.stderr, flush=True)


def alert_for_run(instance: dg.DagsterInstance, run: dg.DagsterRun) -> Alert:
    """The alert of a finished run, from its events in the instance."""
    summary = summarise_run_events(run_events(instance, run.run_id))
    tags = run.tags
    start = tags.get(PARTITION_RANGE_START_TAG)
    partitions = tags.get(PARTITION_TAG) or (
        partition_span(start, tags.get(PARTITION_RANGE_END_TAG, start)) if start else "-"
    )
    return Alert(
        run_id=run.run_id,
        job=CLI_JOB if tags.get(LAUNCHED_BY_TAG) == "cli" else run.job_name,
        partitions=partitions,
        problems=tuple(summary.problems),
        failed_blocking_checks=tuple(summary.failed_blocking_checks),
        raised_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
