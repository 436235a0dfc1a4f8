"""Secrets never reach a message: database URLs are named by user, host, port and database
only (parsed as libpq parses them), the settings print masked, SMTP credentials never travel
without TLS."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from core.masking import UNPARSEABLE, masked_url
from core.settings import SettingsError, load_settings

# (connection string, the secret it carries, how it is named)
URLS = [
    ("postgresql://crimestat:s3cr#et@db:5432/registers", "s3cr#et",
     "postgresql://crimestat@db:5432/registers"),
    ("postgresql://crimestat:pa/ss@db:5432/registers", "pa/ss", UNPARSEABLE),
    ("postgresql://crimestat:12/ss@db:5432/registers", "12/ss", UNPARSEABLE),
    ("postgresql://crimestat:pa%2Fss@db:5432/registers", "pa/ss",
     "postgresql://crimestat@db:5432/registers"),
    ("postgresql://crimestat:p%40ss%23w@db/registers", "p@ss#w",
     "postgresql://crimestat@db/registers"),
    ("postgresql://crimestat@db:5432/registers?sslmode=require&sslpassword=k3y-pass", "k3y-pass",
     "postgresql://crimestat@db:5432/registers"),
    ("postgresql://db:5432/registers?user=crimestat&password=qu3ry-pass", "qu3ry-pass",
     "postgresql://crimestat@db:5432/registers"),
    ("postgres://crimestat:v6pass@[::1]:5432/registers", "v6pass",
     "postgresql://crimestat@[::1]:5432/registers"),
    ("host=db port=5432 user=crimestat password='kv secret' dbname=registers", "kv secret",
     "postgresql://crimestat@db:5432/registers"),
    ("postgresql://crimestat:multi-pass@db1:5432,db2:5433/registers", "multi-pass",
     "postgresql://crimestat@db1:5432,db2:5433/registers"),
    ("postgresql://crimestat:bad-pass@db/registers?bogus=1", "bad-pass", UNPARSEABLE),
    ("not a connection string password=plain-pass", "plain-pass", UNPARSEABLE),
]  # fmt: skip


@pytest.mark.parametrize(("url", "secret", "named"), URLS)
def test_masked_url_names_only_user_host_port_and_database(
    url: str, secret: str, named: str
) -> None:
    masked = masked_url(url)
    assert masked == named
    assert secret not in masked
    for piece in secret.split("/"):
        assert len(piece) < 3 or piece not in masked


def test_settings_print_no_secret(crimestat_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRIMESTAT_INCIDENTS_DB_URL", URLS[0][0])
    monkeypatch.setenv("CRIMESTAT_CONVICTIONS_DB_URL", URLS[5][0])
    monkeypatch.setenv("CRIMESTAT_CUSTOMS_DB_URL", URLS[6][0])
    monkeypatch.setenv("CRIMESTAT_ALERT_SMTP_URL", "smtps://alerts:sm7p-pass@mail.vrm.lt")
    monkeypatch.setenv("CRIMESTAT_ALERT_EMAIL_TO", "duty@vrm.lt")
    settings = load_settings()
    assert settings.pseudonymisation_key  # read, and cached on the object
    assert settings.database_url("incidents") == URLS[0][0]  # the real URL is still there
    for text in (repr(settings), str(settings)):
        assert "postgresql://crimestat@db:5432/registers" in text
        for secret in ("s3cr", "k3y-pass", "qu3ry-pass", "sm7p-pass", "test-secret-key"):
            assert secret not in text


def test_an_unparseable_database_url_is_refused_without_quoting_it(
    crimestat_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRIMESTAT_CONVICTIONS_DB_URL", "postgresql://crimestat:pa/ss@db/registers")
    with pytest.raises(SettingsError, match=r"CRIMESTAT_CONVICTIONS_DB_URL .*percent-encode") as e:
        load_settings()
    assert "pa/ss" not in str(e.value) and "ss@db" not in str(e.value)


def test_a_failed_connection_names_the_database_without_its_secrets(crimestat_home: Path) -> None:
    from ingestion.database.connection import register_database
    from ingestion.errors import SourceDatabaseError

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nobody listens there once the probe is closed
    url = f"postgresql://crimestat:s3cr#et@127.0.0.1:{port}/registers?sslpassword=k3y-pass"
    with (
        pytest.raises(SourceDatabaseError, match="Connection refused") as raised,
        register_database(url, "the incidents register database", "Europe/Vilnius"),
    ):
        pass
    message = str(raised.value)
    assert f"database postgresql://crimestat@127.0.0.1:{port}/registers: " in message
    assert "s3cr" not in message and "k3y-pass" not in message
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    with (
        pytest.raises(SourceDatabaseError, match="percent-encode") as raised,
        register_database("postgresql://u:pa/ss@h/db", "the database", "Europe/Vilnius"),
    ):
        pass
    assert "pa/ss" not in str(raised.value)


@pytest.mark.parametrize(
    "url",
    ["smtp://alerts:sm7p-pass@mail.vrm.lt:587", "smtp://alerts:sm7p-pass@mail.vrm.lt?starttls=no",
     "smtp://alerts@mail.vrm.lt:25"],
)  # fmt: skip
def test_smtp_credentials_without_tls_are_refused(
    monkeypatch: pytest.MonkeyPatch, crimestat_home: Path, url: str
) -> None:
    monkeypatch.setenv("CRIMESTAT_ALERT_SMTP_URL", url)
    monkeypatch.setenv("CRIMESTAT_ALERT_EMAIL_TO", "duty@vrm.lt")
    with pytest.raises(SettingsError, match=r"CRIMESTAT_ALERT_SMTP_URL .* no TLS.*smtps://") as e:
        load_settings()
    assert "sm7p-pass" not in str(e.value)


def test_a_bad_smtp_url_is_refused_without_quoting_the_password(
    monkeypatch: pytest.MonkeyPatch, crimestat_home: Path
) -> None:
    monkeypatch.setenv("CRIMESTAT_ALERT_SMTP_URL", "smtps://alerts:sm7p#pass@mail.vrm.lt")
    monkeypatch.setenv("CRIMESTAT_ALERT_EMAIL_TO", "duty@vrm.lt")
    with pytest.raises(SettingsError, match=r"bad port .*percent-encoded") as e:
        load_settings()
    assert "sm7p" not in str(e.value)


@pytest.mark.parametrize(
    "url",
    ["smtps://alerts:sm7p-pass@mail.vrm.lt", "smtp://alerts:sm7p-pass@mail.vrm.lt:587?starttls=true",
     "smtp://mail.vrm.lt:25"],
)  # fmt: skip
def test_smtp_with_tls_or_without_credentials_is_accepted(
    monkeypatch: pytest.MonkeyPatch, crimestat_home: Path, url: str
) -> None:
    monkeypatch.setenv("CRIMESTAT_ALERT_SMTP_URL", url)
    monkeypatch.setenv("CRIMESTAT_ALERT_EMAIL_TO", "duty@vrm.lt")
    assert load_settings().alert_smtp is not None


def test_the_smtp_notifier_never_logs_in_without_tls() -> None:
    from core.settings import SmtpSettings
    from orchestration.alerts import Alert, SmtpNotifier

    smtp = SmtpSettings("127.0.0.1", 1, "alerts", "sm7p-pass", False, False, "a@b", ("c@d",))
    alert = Alert("run", "job", "-", (), (), "2024-01-01T00:00:00+00:00")
    with pytest.raises(ValueError, match="without TLS"):
        SmtpNotifier(smtp).notify(alert)


@pytest.fixture(scope="module")
def postgres():
    from postgres_server import running_postgres

    with running_postgres() as server:
        yield server


def test_a_real_server_refusal_and_failure_name_no_secret(postgres) -> None:
    from postgres_server import ROLE

    from ingestion.database.connection import check_source_tables, register_database
    from ingestion.database.tables import SOURCE_TABLES_BY_REGISTER
    from ingestion.errors import SourceDatabaseError

    where = f"postgresql://{ROLE}@127.0.0.1:{postgres.port}/postgres"
    wrong = f"postgresql://{ROLE}:wr0ng%23pass@127.0.0.1:{postgres.port}/postgres"
    with (
        pytest.raises(SourceDatabaseError, match="password authentication failed") as raised,
        register_database(wrong, "the incidents register database", "Europe/Vilnius"),
    ):
        pass
    assert where in str(raised.value) and "wr0ng" not in str(raised.value)
    # The right password in the query: libpq reads it there too, and it is masked alike.
    right = f"postgresql://{ROLE}@127.0.0.1:{postgres.port}/postgres?password={postgres.password}"
    with (
        pytest.raises(SourceDatabaseError, match="does not exist") as raised,
        register_database(right, "the incidents register database", "UTC") as con,
    ):
        check_source_tables(
            con, "register", SOURCE_TABLES_BY_REGISTER["incidents"],
            f"the incidents register database {masked_url(right)}",
        )  # fmt: skip
    assert where in str(raised.value) and postgres.password not in str(raised.value)


def test_dagster_events_and_alerts_of_a_refused_database_hold_no_secret(
    crimestat_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestration.definitions import defs
    from orchestration.runs import dagster_instance, materialize_selection

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://crimestat:s3cr#et@127.0.0.1:{port}/registers?sslpassword=k3y-pass"
    monkeypatch.setenv("CRIMESTAT_INCIDENTS_DB_URL", url)
    settings = load_settings()
    [outcome] = materialize_selection(defs(), settings, "key:raw/incidents", "2022-01")
    assert not outcome.success
    assert any(f"postgresql://crimestat@127.0.0.1:{port}/registers" in p for p in outcome.problems)
    records = dagster_instance(settings).get_records_for_run(outcome.run_id).records
    events = " ".join(repr(record.event_log_entry) for record in records)
    alerts = settings.alert_log_path.read_text()
    assert "Connection refused" in events and "Connection refused" in alerts
    for text in (events, alerts, " ".join(outcome.problems)):
        assert "s3cr" not in text and "k3y-pass" not in text
