"""Every setting of crimestat, in one place, read once.

Every part (ingestion, dbt profile, Dagster resources, dashboards, CLI) asks `load_settings()`
instead of reading the environment itself, so a deployment changes one set of variables and
every component follows; the settings are then passed down. What makes the deployment its
country's (the country code, the agency that publishes, the personal code's length, the
borders, the time zone) is the `CountryProfile`; what an SDMX delivery depends on besides the
data (`StructureSettings`: the agency, the country, the structures' version, what disclosure
control requires) is made from it by `Settings.structures`, so the country and the agency are
named once.
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from core.contracts import REGISTERS_TIMEZONE
from core.warehouse import LOCK_WAIT_SECONDS, warehouse_connection

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    import duckdb

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
# Reference data (code lists, correspondence, population) live as dbt seeds.
REFERENCE_DIR = DBT_PROJECT_DIR / "seeds" / "reference"

# Only for demo mode and tests: real deployments must provide their own secret, otherwise the
# pseudonyms would be recomputable by anyone who has this source code. It is refused whenever
# a register database URL is set or the home was not made by the demo (no DEMO_MARKER in it).
DEMO_PSEUDONYMISATION_KEY = "crimestat-demo-key-not-for-production"
DEMO_MARKER = ".crimestat-demo"
DEMO_KEY_WARNING = "CRIMESTAT_PSEUDONYMISATION_KEY is not set: using the demo key."

# What crimestat creates is its owner's only: files 0600, directories 0700 (SPEC 13).
OWNER_ONLY_UMASK = 0o077
# Partner packages in the outbox: owner-only unless a transfer job of the group reads them.
DEFAULT_OUTBOX_FILE_MODE = 0o600

# The smallest number of persons a published cell may show (disclosure control).
DEFAULT_THRESHOLD = 3


@dataclass(frozen=True)
class Requirement:
    """What disclosure control requires of every suppressed cell's feasible interval (the
    range an intruder can narrow its value to, `core.disclosure`): a primary cell's
    reaches `threshold` and spans at least `primary_span` (default: the threshold), a
    secondary cell's spans at least `secondary_span` (1: it is not a point)."""

    threshold: int = DEFAULT_THRESHOLD
    primary_span: int | None = None
    secondary_span: int = 1

    @property
    def span_of_primary(self) -> int:
        return self.threshold if self.primary_span is None else self.primary_span

    def describe(self) -> str:
        return (
            f"primary: upper >= {self.threshold} and upper - lower >= {self.span_of_primary}; "
            f"secondary: upper - lower >= {self.secondary_span}"
        )


class SettingsError(RuntimeError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class CountryProfile:
    """What makes the deployment Lithuanian: kept as settings, never hard-coded in logic.
    The agency maintains the SDMX structures and sends the deliveries."""

    code: str = "LT"
    agency_id: str = "LT_IVPK"
    agency_name: str = "Statistics unit of the interior ministry's IT and communications department"
    personal_code_length: int = 11
    # WGS84 bounding box used to reject impossible coordinates at the door. It includes the
    # territorial sea (12 nautical miles): customs work at sea, e.g. at the Būtingė offshore
    # terminal west of 20.9°E.
    lat_range: tuple[float, float] = (53.85, 56.50)
    lon_range: tuple[float, float] = (20.60, 26.90)
    # The registers write local time; kept for documentation and for partition schedules.
    timezone: str = REGISTERS_TIMEZONE


@dataclass(frozen=True)
class StructureSettings:
    """Identity of the maintaining agency and the scope of the GEO code list: what the SDMX
    structures, the releases and the partner packages are made with. The CLI and Dagster pass
    `Settings.structures` down; the defaults are the default country profile's.

    `nuts_vintage` picks the NUTS column of `nuts_codes.csv` (`code_2021` or `code_2024`);
    `version` is the version of every maintainable artefact (code lists, concept scheme,
    DSDs, dataflows), so a change of structures is one new version, never an edit in place.
    `disclosure` is what disclosure control requires of every published table of persons.
    """

    agency_id: str = CountryProfile.agency_id
    agency_name: str = CountryProfile.agency_name
    country: str = CountryProfile.code
    nuts_vintage: str = "2024"
    version: str = "1.0"
    language: str = "en"
    reference_dir: Path = REFERENCE_DIR
    disclosure: Requirement = field(default_factory=Requirement)


@dataclass(frozen=True)
class ScheduleSettings:
    """When the automated runs happen (cron, in the country's time zone): a deployment's
    agreements with its partners, hence settings rather than code."""

    # Every morning: the previous day's extracts have landed during the night.
    daily_ingestion: str = "0 6 * * *"
    # The 5th of each month: partner packages for the previous month (SPEC 9).
    partner_extracts: str = "0 7 5 * *"
    # 1 June: the previous year's annual Eurostat and Eurojust delivery, after the spring's
    # late registrations and appeals have settled the year's figures.
    annual_delivery: str = "0 7 1 6 *"


@dataclass(frozen=True)
class SmtpSettings:
    """An SMTP relay for e-mail alerts, from CRIMESTAT_ALERT_SMTP_URL
    (smtp://[user:password@]host[:port][?starttls=true], or smtps:// for TLS from the start)."""

    host: str
    port: int
    username: str | None
    password: str | None
    starttls: bool
    implicit_tls: bool
    sender: str
    recipients: tuple[str, ...]

    def __repr__(self) -> str:  # never print the password
        return f"SmtpSettings(host={self.host!r}, port={self.port}, recipients={self.recipients})"


DEFAULT_MAX_LINE_BYTES = 64 * 1024


def _max_line_bytes() -> int:
    """CRIMESTAT_MAX_LINE_BYTES: a landing line longer than this is quarantined with its first
    bytes only (a damaged or hostile file cannot fill memory or the quarantine)."""
    value = os.environ.get("CRIMESTAT_MAX_LINE_BYTES", str(DEFAULT_MAX_LINE_BYTES)).strip()
    if not value.isdigit() or int(value) < 1024:
        raise SettingsError(
            f"CRIMESTAT_MAX_LINE_BYTES must be a whole number of bytes >= 1024, got {value!r}"
        )
    return int(value)


@dataclass(frozen=True)
class Settings:
    home: Path
    demo_mode: bool
    first_month: str
    country: CountryProfile
    schedules: ScheduleSettings = ScheduleSettings()
    alert_smtp: SmtpSettings | None = None
    # Share of undecodable lines above which a file is judged to be in the wrong encoding
    # (rather than carrying a few damaged rows that go to quarantine).
    max_undecodable_share: float = 0.05
    # Register -> SQL URL of its operational database (SPEC 3.4); a register without one is
    # read from the landing zone. The registers' tables live in schema `register_db_schema`.
    register_database_urls: dict[str, str] = field(default_factory=dict)
    register_db_schema: str = "register"
    # Worker processes that read and judge landing files of several months at once.
    ingestion_workers: int = 1
    # DuckDB's buffer memory per connection (dbt's included); beyond it DuckDB spills to disk,
    # so the pipeline's memory stays bounded whatever the data's size.
    duckdb_memory_limit: str = "1GB"
    # Longest landing line kept whole (CRIMESTAT_MAX_LINE_BYTES, read when settings are made).
    max_line_bytes: int = field(default_factory=_max_line_bytes)
    # Permission bits of delivered partner packages (their folders get the matching x bits).
    outbox_file_mode: int = DEFAULT_OUTBOX_FILE_MODE
    # How long a connection (crimestat's and dbt's) waits for the warehouse's lock while
    # another process writes it, and how long `crimestat materialize` waits for a run already
    # going on the same home, before giving up with a message.
    lock_wait_seconds: float = LOCK_WAIT_SECONDS
    run_lock_wait_seconds: float = 3600.0

    def __repr__(self) -> str:
        """What the settings hold, each database named without its secrets (settings are
        printed in errors and logs); the pseudonymisation key is never held as a field."""
        from core.masking import masked_url

        shown = []
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if name == "register_database_urls":
                value = {register: masked_url(url) for register, url in value.items()}
            shown.append(f"{name}={value!r}")
        return f"Settings({', '.join(shown)})"

    def warehouse(self, **options: Any) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        """A connection to the warehouse with this deployment's memory limit (options:
        read_only, wait_seconds, as core.warehouse.warehouse_connection takes them)."""
        options.setdefault("wait_seconds", self.lock_wait_seconds)
        return warehouse_connection(
            self.warehouse_path, memory_limit=self.duckdb_memory_limit, **options
        )

    def database_url(self, register: str) -> str | None:
        return self.register_database_urls.get(register)

    @cached_property
    def pseudonymisation_key(self) -> bytes:
        """Read only when personal codes are hashed, so other commands work without it."""
        return _pseudonymisation_key(self)

    @property
    def landing_dir(self) -> Path:
        return self.home / "landing"

    @property
    def warehouse_path(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def exports_dir(self) -> Path:
        return self.home / "exports"

    @property
    def outbox_dir(self) -> Path:
        return self.home / "outbox"

    @property
    def serving_dir(self) -> Path:
        return self.home / "serving"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def dbt_target_dir(self) -> Path:
        """dbt's working files of this data directory's Dagster runs: the partial-parse state
        (valid for one data directory only) and the folder of a call that failed."""
        return self.home / "dbt" / "target"

    @property
    def alert_log_path(self) -> Path:
        """Every alert, one JSON object per line, whatever other notifiers are configured."""
        return self.home / "logs" / "alerts.log"

    @property
    def dbt_project_dir(self) -> Path:
        return DBT_PROJECT_DIR

    @property
    def reference_dir(self) -> Path:
        return REFERENCE_DIR

    @property
    def structures(self) -> StructureSettings:
        """What the SDMX structures and deliveries are made with, from the country profile."""
        return StructureSettings(
            agency_id=self.country.agency_id,
            agency_name=self.country.agency_name,
            country=self.country.code,
            reference_dir=self.reference_dir,
        )


def _pseudonymisation_key(settings: Settings) -> bytes:
    key = os.environ.get("CRIMESTAT_PSEUDONYMISATION_KEY", "")
    if key:
        if len(key) < 16:
            raise SettingsError(
                "CRIMESTAT_PSEUDONYMISATION_KEY must be at least 16 characters long"
            )
        if key == DEMO_PSEUDONYMISATION_KEY:
            _refuse_demo_key_outside_demo(settings)
        return key.encode()
    if settings.demo_mode:
        _refuse_demo_key_outside_demo(settings)
        warnings.warn(
            f"{DEMO_KEY_WARNING} Never run real registers in demo mode.",
            stacklevel=4,  # the code that read settings.pseudonymisation_key
        )
        return DEMO_PSEUDONYMISATION_KEY.encode()
    raise SettingsError(
        "CRIMESTAT_PSEUDONYMISATION_KEY is not set: it is the secret of the keyed hash that "
        "replaces personal codes. Set it, or set CRIMESTAT_DEMO=1 for synthetic data."
    )


def _refuse_demo_key_outside_demo(settings: Settings) -> None:
    """The public demo key hashes only synthetic registers: never those of a register
    database, never in a home that holds something the demo did not make."""
    databases = [f"CRIMESTAT_{r.upper()}_DB_URL" for r in sorted(settings.register_database_urls)]
    if databases:
        raise SettingsError(
            f"the public demo key (CRIMESTAT_DEMO=1 without CRIMESTAT_PSEUDONYMISATION_KEY) is "
            f"refused: {', '.join(databases)} point(s) at a real register database. Set "
            "CRIMESTAT_PSEUDONYMISATION_KEY to the deployment's secret"
        )
    if not claim_demo_home(settings.home):
        raise SettingsError(
            f"the public demo key (CRIMESTAT_DEMO=1 without CRIMESTAT_PSEUDONYMISATION_KEY) is "
            f"refused: {settings.home} (CRIMESTAT_HOME) holds data and was not made by the demo "
            f"(it has no {DEMO_MARKER}). Set CRIMESTAT_PSEUDONYMISATION_KEY to the deployment's "
            "secret, or point CRIMESTAT_HOME at a new directory for a demo"
        )


def claim_demo_home(home: Path) -> bool:
    """True when `home` is the demo's: it has the demo marker, or it is new or empty (then it
    gets the marker, so it stays the demo's). False for a home holding anything else."""
    marker = home / DEMO_MARKER
    if marker.is_file():
        return True
    # The run lock (core.run_lock) a command left behind holds no data.
    if home.is_dir() and any(p.name != ".run.lock" for p in home.iterdir()):
        return False
    home.mkdir(parents=True, exist_ok=True)
    marker.write_text(
        "This home was made by the crimestat demo: synthetic registers hashed with the public "
        "demo key. Never load real registers here.\n",
        encoding="utf-8",
    )
    return True


def _first_month() -> str:
    value = os.environ.get("CRIMESTAT_FIRST_MONTH", "2010-01")
    parts = value.split("-")
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or not 1 <= int(parts[1]) <= 12:
        raise SettingsError(f"CRIMESTAT_FIRST_MONTH must look like YYYY-MM, got {value!r}")
    return value


def _schedules() -> ScheduleSettings:
    defaults = ScheduleSettings()
    crons = {}
    for name in ("daily_ingestion", "partner_extracts", "annual_delivery"):
        variable = f"CRIMESTAT_{name.upper()}_CRON"
        value = os.environ.get(variable, getattr(defaults, name)).strip()
        fields = value.split()
        if len(fields) != 5:
            raise SettingsError(
                f"{variable} must be a cron string of 5 fields (minute hour day month weekday), "
                f"got {value!r}"
            )
        crons[name] = value
    return ScheduleSettings(**crons)


def _alert_smtp() -> SmtpSettings | None:
    url = os.environ.get("CRIMESTAT_ALERT_SMTP_URL", "").strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise SettingsError(
            "CRIMESTAT_ALERT_SMTP_URL must look like smtp://[user:password@]host[:port]"
            f"[?starttls=true], got scheme {parts.scheme!r}"
        )
    recipients = tuple(
        r.strip() for r in os.environ.get("CRIMESTAT_ALERT_EMAIL_TO", "").split(",") if r.strip()
    )
    if not recipients:
        raise SettingsError(
            "CRIMESTAT_ALERT_EMAIL_TO must name at least one address when "
            "CRIMESTAT_ALERT_SMTP_URL is set"
        )
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 25)
    except ValueError:  # the error would quote the "port": maybe half of a password
        raise SettingsError(
            "CRIMESTAT_ALERT_SMTP_URL has a bad port (or a user name or password holding "
            "/ # ? @ : that is not percent-encoded, e.g. # as %23)"
        ) from None
    starttls = parse_qs(parts.query).get("starttls", ["false"])[0].lower() in {"1", "true", "yes"}
    if (parts.username or parts.password) and not (starttls or parts.scheme == "smtps"):
        raise SettingsError(
            "CRIMESTAT_ALERT_SMTP_URL has a user name and password but no TLS: they would "
            "cross the network in clear. Use smtps://user:password@host[:port] (TLS from the "
            "start, port 465) or add ?starttls=true (port 587), or drop the credentials"
        )
    return SmtpSettings(
        host=parts.hostname,
        port=port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        starttls=starttls,
        implicit_tls=parts.scheme == "smtps",
        sender=os.environ.get("CRIMESTAT_ALERT_EMAIL_FROM", f"crimestat@{parts.hostname}"),
        recipients=recipients,
    )


# PostgreSQL is the reference register database; the pull speaks its COPY protocol.
DATABASE_URL_SCHEMES = ("postgresql://", "postgres://")
SQL_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def _register_database_urls() -> dict[str, str]:
    from core.contracts import REGISTERS  # plain constants; imports nothing back
    from core.masking import UNPARSEABLE, masked_url

    urls = {}
    for register in REGISTERS:
        variable = f"CRIMESTAT_{register.upper()}_DB_URL"
        value = os.environ.get(variable, "").strip()
        if not value:
            continue
        if not value.startswith(DATABASE_URL_SCHEMES):
            raise SettingsError(
                f"{variable} must be a PostgreSQL URL (postgresql://user:password@host:port/"
                f"database), got one starting {value.split(':', 1)[0]!r}"
            )
        if masked_url(value) == UNPARSEABLE:  # never quote the value: it holds a password
            raise SettingsError(
                f"{variable} is not a URL libpq can read (postgresql://user:password@host:port/"
                "database): percent-encode any / : @ # ? in the user name or password "
                "(/ as %2F, @ as %40)"
            )
        urls[register] = value
    return urls


def _register_db_schema() -> str:
    value = os.environ.get("CRIMESTAT_REGISTER_DB_SCHEMA", "register")
    if not SQL_IDENTIFIER.match(value):
        raise SettingsError(
            f"CRIMESTAT_REGISTER_DB_SCHEMA must be a lower-case SQL identifier, got {value!r}"
        )
    return value


def _ingestion_workers() -> int:
    value = os.environ.get("CRIMESTAT_INGESTION_WORKERS", str(os.cpu_count() or 1))
    if not value.isdigit() or int(value) < 1:
        raise SettingsError(
            f"CRIMESTAT_INGESTION_WORKERS must be a whole number >= 1, got {value!r}"
        )
    return int(value)


def _duckdb_memory_limit() -> str:
    value = os.environ.get("CRIMESTAT_DUCKDB_MEMORY_LIMIT", Settings.duckdb_memory_limit).strip()
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB|%)", value):
        raise SettingsError(
            f"CRIMESTAT_DUCKDB_MEMORY_LIMIT must be a size such as 1GB, 512MB or 50%, got {value!r}"
        )
    return value


def _seconds(variable: str, default: float) -> float:
    value = os.environ.get(variable, "").strip() or str(default)
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise SettingsError(f"{variable} must be a number of seconds >= 0, got {value!r}")
    return seconds


def restrict_new_files() -> None:
    """Whatever this process (and the processes it starts) creates from now on is its owner's
    only: files 0600, directories 0700, SQLite, DuckDB and dbt files included."""
    os.umask(OWNER_ONLY_UMASK)


def directory_mode(file_mode: int) -> int:
    """The mode of a directory holding files of `file_mode`: x wherever r is (0640 -> 0750)."""
    return file_mode | (file_mode & 0o444) >> 2


def _outbox_file_mode() -> int:
    value = os.environ.get("CRIMESTAT_OUTBOX_FILE_MODE", f"{DEFAULT_OUTBOX_FILE_MODE:04o}").strip()
    mode = int(value, 8) if re.fullmatch(r"0?[0-7]{3}", value) else None
    if mode is None or mode & 0o600 != 0o600 or mode & ~0o644:
        raise SettingsError(
            "CRIMESTAT_OUTBOX_FILE_MODE must be an octal file mode the owner can read and write "
            "and nobody else can write or execute: 0600 (owner only, the default) or 0640 (the "
            f"group too, e.g. a transfer job's), got {value!r}"
        )
    return mode


def load_settings() -> Settings:
    """Read the environment once; CRIMESTAT_HOME defaults to ./var of the working directory.

    Every process that writes under the home reads its settings here first (the CLI, each
    Dagster step, dbt through them, the dashboards): so this is where the process is made to
    create owner-only files (`restrict_new_files`)."""
    restrict_new_files()
    demo_mode = os.environ.get("CRIMESTAT_DEMO", "") in {"1", "true", "yes"}
    home = Path(os.environ.get("CRIMESTAT_HOME", "var")).expanduser().resolve()
    return Settings(
        home=home,
        demo_mode=demo_mode,
        first_month=_first_month(),
        country=CountryProfile(),
        schedules=_schedules(),
        alert_smtp=_alert_smtp(),
        register_database_urls=_register_database_urls(),
        register_db_schema=_register_db_schema(),
        ingestion_workers=_ingestion_workers(),
        duckdb_memory_limit=_duckdb_memory_limit(),
        outbox_file_mode=_outbox_file_mode(),
        lock_wait_seconds=_seconds("CRIMESTAT_LOCK_WAIT_SECONDS", Settings.lock_wait_seconds),
        run_lock_wait_seconds=_seconds(
            "CRIMESTAT_RUN_LOCK_WAIT_SECONDS", Settings.run_lock_wait_seconds
        ),
    )
