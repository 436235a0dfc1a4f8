"""The `crimestat` command line: the one door for engineers and for the README's commands."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from core.settings import (
    DATABASE_URL_SCHEMES,
    DEMO_KEY_WARNING,
    DEMO_MARKER,
    Settings,
    SettingsError,
    claim_demo_home,
    load_settings,
    restrict_new_files,
)

if TYPE_CHECKING:
    from crimestat.backup_manifest import Manifest as BackupManifest
    from orchestration.runs import RunOutcome
    from synthetic import GenerationSummary


def _fail(message: str) -> None:
    click.secho(f"crimestat: {message}", fg="red", err=True)
    sys.exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """crimestat: official crime statistics from the registers to Eurostat, Eurojust and
    partners. Data lives under $CRIMESTAT_HOME (default ./var)."""
    restrict_new_files()  # owner-only files, here and in every process a command starts
    warnings.filterwarnings("ignore", module="dagster")


@main.command()
@click.option(
    "--out",
    "out_dir",
    default=None,
    type=click.Path(path_type=Path),
    help="Landing directory to write the registers' extracts into (required unless --to-db; "
    "with --to-db the files are kept there, else written to a temporary directory).",
)
@click.option(
    "--to-db",
    "database_url",
    default=None,
    metavar="URL",
    help="Also load the registers into this PostgreSQL database, in their own tables "
    "(schema $CRIMESTAT_REGISTER_DB_SCHEMA, default 'register'; created when missing; "
    "loading again replaces rows by key).",
)
@click.option("--start", default="2022-01", show_default=True, help="First month, YYYY-MM.")
@click.option("--months", default=12, show_default=True, type=click.IntRange(1, 600))
@click.option(
    "--scale",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0.001, 100),
    help="1 = Lithuania's real yearly volume.",
)
@click.option("--seed", default=42, show_default=True, type=int)
@click.option(
    "--defect-rate",
    default=0.001,
    show_default=True,
    type=click.FloatRange(0, 0.5),
    help="Share of rows carrying one planted defect.",
)
@click.option("--broken-files", default=0, show_default=True, type=click.IntRange(0),
              help="Number of whole files made unreadable (truncated gzip, wrong encoding, "
                   "missing column).")  # fmt: skip
def generate(out_dir: Path | None, database_url: str | None, start: str, months: int,
             scale: float, seed: int, defect_rate: float, broken_files: int) -> None:  # fmt: skip
    """Write synthetic registers (same arguments, same bytes), optionally into a database."""
    from synthetic import generate_registers

    if out_dir is None and database_url is None:
        _fail("name a landing directory with --out, or a database with --to-db URL")
    if database_url is not None and not database_url.startswith(DATABASE_URL_SCHEMES):
        _fail("--to-db must be a PostgreSQL URL (postgresql://user:password@host:port/database)")
    with (
        tempfile.TemporaryDirectory(prefix="crimestat-generate-")
        if out_dir is None
        else contextlib.nullcontext(out_dir)
    ) as landing:
        summary = _generate(Path(landing), start, months, scale, seed, defect_rate,
                            broken_files, generate_registers).to_dict()  # fmt: skip
        if database_url is not None:
            summary["database"] = _load_into_database(Path(landing), database_url)
    click.echo(json.dumps(summary, indent=2))


def _load_into_database(landing_dir: Path, url: str) -> dict[str, object]:
    """The landing files into the registers' tables; what was written and skipped."""
    from ingestion.database.connection import masked_url
    from ingestion.database.seeding import load_landing_into_database
    from ingestion.errors import SourceDatabaseError

    started = time.perf_counter()
    try:
        loaded = load_landing_into_database(
            landing_dir, url, load_settings(), progress=sys.stderr.isatty()
        )
    except (SourceDatabaseError, SettingsError) as error:
        _fail(str(error))
    click.secho(f"loaded the registers into {masked_url(url)} in "
                f"{time.perf_counter() - started:.1f} s", err=True)  # fmt: skip
    return loaded.to_dict()


def _generate(
    out_dir: Path, start: str, months: int, scale: float, seed: int, defect_rate: float,
    broken_files: int, generator: Callable[..., GenerationSummary],
) -> GenerationSummary:  # fmt: skip
    from core.contracts import MONTH_PATTERN

    if not MONTH_PATTERN.match(start):
        _fail(f"--start must look like YYYY-MM, got {start!r}")
    started = time.perf_counter()
    summary = generator(
        out_dir, start=start, months=months, scale=scale, seed=seed, defect_rate=defect_rate,
        broken_files=broken_files, progress=sys.stderr.isatty(),
    )  # fmt: skip
    click.secho(f"generated registers in {out_dir} in {time.perf_counter() - started:.1f} s",
                err=True)  # fmt: skip
    return summary


@main.command()
@click.option(
    "--select",
    "selection",
    default=None,
    help="Dagster asset selection, e.g. 'group:ingestion' or 'key:raw/incidents'.",
)
@click.option("--partition", default=None, help="One month YYYY-MM (default: every landed "
              "month).")  # fmt: skip
@click.option("--full-refresh", is_flag=True, help="Rebuild the staging models whole instead of "
              "taking in only the loads since their last build.")  # fmt: skip
def materialize(selection: str | None, partition: str | None, full_refresh: bool) -> None:
    """Materialize assets on $CRIMESTAT_HOME; exits non-zero when any step fails."""
    outcomes = _materialize(selection, partition, full_refresh)
    if not all(o.success for o in outcomes):
        sys.exit(1)


def _materialize(
    selection: str | None, partition: str | None, full_refresh: bool = False
) -> list[RunOutcome]:
    from ingestion.errors import SourceDatabaseError
    from orchestration.definitions import build_definitions
    from orchestration.runs import materialize_selection

    try:
        settings = load_settings()
        with _run_lock(settings, "crimestat materialize"):
            log_path = settings.home / "logs" / f"materialize-{time.strftime('%Y%m%dT%H%M%S')}.log"
            log_path.parent.mkdir(parents=True, exist_ok=True)
            click.echo(f"materializing on {settings.home} (dbt output in {log_path})")
            # dagster-dbt echoes every dbt log line to stdout: keep them in the run's log file.
            with log_path.open("w") as log, contextlib.redirect_stdout(log):
                defs = build_definitions(settings)
                outcomes = materialize_selection(defs, settings, selection, partition, full_refresh)
    except (ValueError, SettingsError, SourceDatabaseError) as exc:
        _fail(str(exc))
    for outcome in outcomes:
        layers = sorted({k.path[0] for k in outcome.step.keys})
        status = click.style("ok", fg="green") if outcome.success else click.style(
            "FAILED", fg="red")  # fmt: skip
        click.echo(
            f"[{status}] run {outcome.run_id[:8]} partitions {outcome.partitions}: "
            f"{len(outcome.step.keys)} assets ({', '.join(layers)}), "
            f"{outcome.checks_passed} checks passed"
        )
        for line in outcome.problems:
            click.secho(f"    {line}", fg="red")
        for line in outcome.warnings:
            click.secho(f"    {line}", fg="yellow")
    return outcomes


def _run_lock(settings: Settings, command: str) -> contextlib.ExitStack:
    """The home's run lock (core.run_lock), held until the returned stack closes: a
    second run waits, saying for whom, and gives up after CRIMESTAT_RUN_LOCK_WAIT_SECONDS
    naming the holder."""
    from core.run_lock import RunLockTimeout, run_lock

    stack = contextlib.ExitStack()
    try:
        stack.enter_context(run_lock(
            settings.home, command, settings.run_lock_wait_seconds,
            on_wait=lambda line: click.secho(line, fg="yellow", err=True),
        ))  # fmt: skip
    except RunLockTimeout as error:
        _fail(str(error))
    return stack


@main.command()
def check() -> None:
    """Run every check on the current warehouse and print a table; exit 1 on a failed
    blocking (ERROR) check."""
    from publication.checks import dbt_test_lines, reconciliation_lines, suite_lines

    settings = load_settings()
    if not settings.warehouse_path.exists():
        _fail(f"no warehouse at {settings.warehouse_path}: run `crimestat materialize` first")
    lines = [
        *reconciliation_lines(settings),
        *dbt_test_lines(settings),
        *suite_lines(settings),
    ]
    click.echo(f"{'check':<58} {'target':<34} {'severity':<8} result  detail")
    for line in lines:
        verdict = click.style("pass", fg="green") if line.passed else click.style(
            "FAIL", fg="red" if line.severity == "ERROR" else "yellow")  # fmt: skip
        click.echo(f"{line.check[:58]:<58} {line.target[:34]:<34} {line.severity:<8} {verdict}"
                   f"    {line.detail}")  # fmt: skip
    blocking = [line for line in lines if not line.passed and line.severity == "ERROR"]
    _report_to_the_gate(settings, lines)
    click.echo(f"\n{len(lines)} checks: {sum(line.passed for line in lines)} passed, "
               f"{len(blocking)} blocking failures, "
               f"{sum(not line.passed and line.severity == 'WARN' for line in lines)} warnings; "
               f"Data Docs: {settings.home / 'quality' / 'data_docs' / 'index.html'}")  # fmt: skip
    if blocking:
        sys.exit(1)


def _report_to_the_gate(settings: Settings, lines: list) -> None:
    """`crimestat check`'s results become the latest evaluations of the same asset checks in
    the Dagster instance, which the publication gate reads."""
    from orchestration.definitions import build_definitions
    from orchestration.gates import report_check_lines
    from orchestration.runs import dagster_instance

    graph = build_definitions(settings).resolve_asset_graph()
    with dagster_instance(settings) as instance:
        report_check_lines(instance, graph, lines)


def _publication_gate(settings: Settings, asset_key: list[str], con: object) -> None:
    """The one publication gate (orchestration.gates), as the Dagster assets ask it: refuse,
    naming each failed blocking check and stale mart, before anything is written."""
    import dagster as dg

    from orchestration.definitions import build_definitions
    from orchestration.gates import PublicationRefused, require_publication_allowed
    from orchestration.runs import dagster_instance

    graph = build_definitions(settings).resolve_asset_graph()
    with dagster_instance(settings) as instance:
        try:
            require_publication_allowed(instance, graph, dg.AssetKey(asset_key), con)
        except PublicationRefused as refused:
            _fail(str(refused))


@main.command()
@click.option("--start", default="2022-01", show_default=True, help="First month, YYYY-MM.")
@click.option("--months", default=12, show_default=True, type=click.IntRange(1, 600))
@click.option("--scale", default=1.0, show_default=True, type=click.FloatRange(0.001, 100))
def demo(start: str, months: int, scale: float) -> None:
    """Synthetic registers into $CRIMESTAT_HOME/landing, every asset, then a summary."""
    from synthetic import generate_registers

    os.environ.setdefault("CRIMESTAT_DEMO", "1")
    try:
        settings = load_settings()
    except SettingsError as error:
        _fail(str(error))
    if settings.register_database_urls:  # checked first: a refused home gets no marker
        names = [f"CRIMESTAT_{r.upper()}_DB_URL" for r in sorted(settings.register_database_urls)]
        _fail("the demo runs on synthetic registers only, never a register database: unset "
              + ", ".join(names))  # fmt: skip
    if not claim_demo_home(settings.home):
        _fail(
            f"{settings.home} (CRIMESTAT_HOME) holds data and was not made by the demo (it has "
            f"no {DEMO_MARKER}); the demo replaces its landing files: point CRIMESTAT_HOME at a "
            "new or empty directory (or remove an earlier demo's home)"
        )
    if settings.landing_dir.is_symlink():  # the demo deletes only what lies in its home
        _fail(f"{settings.landing_dir} is a link to {settings.landing_dir.readlink()}: the demo "
              "replaces its landing files and deletes nothing outside its home; remove the "
              "link or point CRIMESTAT_HOME at a new or empty directory")  # fmt: skip
    _demo_key_warning_once(settings)
    click.secho(f"crimestat demo in {settings.home}", bold=True)
    with _run_lock(settings, "crimestat demo"):  # its materialize runs under the same lock
        if settings.landing_dir.exists():
            click.echo(f"replacing the demo's landing files in {settings.landing_dir}")
            shutil.rmtree(settings.landing_dir)
        _generate(settings.landing_dir, start, months, scale, 42, 0.001, 0, generate_registers)
        outcomes = _materialize(None, None)
    from crimestat.summary import print_summary

    print_summary(settings)
    if not all(o.success for o in outcomes):
        sys.exit(1)


def _demo_key_warning_once(settings: Settings) -> None:
    """Check the key before any work (a demo key refused fails here, named); the demo key's
    warning is printed once, here, and silenced in the runs that follow."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            settings.pseudonymisation_key  # noqa: B018 (read for its checks and warning)
        except SettingsError as error:
            _fail(str(error))
    for warning in caught:
        click.secho(f"warning: {warning.message}", fg="yellow", err=True)
    warnings.filterwarnings("ignore", message=re.escape(DEMO_KEY_WARNING))


def _dashboards_command(port: int, address: str) -> list[str]:
    """`streamlit run` of the app: headless (no browser opened on a server), no telemetry,
    and a browser address given, so Streamlit never asks a web service for its external IP
    (the dashboards must work with no internet)."""
    app = Path(__file__).resolve().parent.parent / "dashboards" / "app.py"
    shown = "localhost" if address in ("0.0.0.0", "::") else address
    return [
        sys.executable, "-m", "streamlit", "run", str(app),
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", address,
        "--browser.serverAddress", shown,
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "viewer",
    ]  # fmt: skip


ADDRESS_HELP = "Address the dashboards listen on (0.0.0.0 = every interface)."


def _dashboards_environment(public: bool) -> dict[str, str]:
    """The Streamlit process's environment: the face is fixed there, once (dashboards.face);
    --public, or CRIMESTAT_DASHBOARDS_PUBLIC, makes it the public one."""
    from core.snapshot_layout import PUBLIC_SETTING, setting_value

    environment = dict(os.environ)
    try:
        public = setting_value(environment.get(PUBLIC_SETTING, "")) or public
    except ValueError as error:
        _fail(str(error))
    environment[PUBLIC_SETTING] = "1" if public else "0"
    return environment


@main.command()
@click.option("--port", default=8501, show_default=True, type=click.IntRange(1, 65535))
@click.option("--address", default="localhost", show_default=True, help=ADDRESS_HELP)
@click.option(
    "--public",
    is_flag=True,
    help="The public face: only the public snapshot ($CRIMESTAT_HOME/serving/public), "
    "no data quality page, nothing to switch off (also CRIMESTAT_DASHBOARDS_PUBLIC=1).",
)
def dashboards(port: int, address: str, public: bool) -> None:
    """Serve the dashboards on the current serving snapshot of $CRIMESTAT_HOME."""
    environment = _dashboards_environment(public)
    face = "public" if environment["CRIMESTAT_DASHBOARDS_PUBLIC"] == "1" else "internal"
    click.echo(f"{face} dashboards on http://{address}:{port}")
    _serve([_dashboards_command(port, address)], environment)


@main.command()
@click.option("--port", default=8501, show_default=True, type=click.IntRange(1, 65535),
              help="Port of the dashboards.")  # fmt: skip
@click.option("--address", default="localhost", show_default=True, help=ADDRESS_HELP)
@click.option("--dagster-port", default=3000, show_default=True, type=click.IntRange(1, 65535))
def ui(port: int, address: str, dagster_port: int) -> None:
    """The Dagster UI and the dashboards together; Ctrl-C stops both."""
    from orchestration.runs import dagster_instance

    settings = load_settings()
    dagster_instance(settings)  # the instance's dagster.yaml: one run at a time, no telemetry
    environment = {**os.environ, "DAGSTER_HOME": str(settings.dagster_home)}
    dagster = [sys.executable, "-m", "dagster", "dev", "-m", "orchestration.definitions",
               "--port", str(dagster_port)]  # fmt: skip
    click.echo(f"Dagster UI on http://localhost:{dagster_port}, "
               f"dashboards on http://{address}:{port}")  # fmt: skip
    _serve([dagster, _dashboards_command(port, address)], environment)


def _serve(commands: list[list[str]], environment: dict[str, str]) -> None:
    """Run servers until one ends or Ctrl-C (or SIGTERM), then stop them all.

    Each child runs in its own session: Ctrl-C reaches only this process, which passes
    exactly one SIGINT to each (dagster dev shuts its code servers down on the first one; a
    second signal would cut that short and leave them behind).
    """
    # Set before the children start: a SIGINT ignored here (a shell's background job) would
    # be ignored by them too, and they could then not be stopped gracefully.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    processes = [
        subprocess.Popen(command, env=environment, start_new_session=True) for command in commands
    ]
    try:
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
    except KeyboardInterrupt:
        click.echo("stopping")
    finally:
        _stop(processes)
    sys.exit(0 if all(p.returncode in (0, -signal.SIGINT) for p in processes) else 1)


def _stop(processes: list[subprocess.Popen[bytes]], grace_seconds: float = 30) -> None:
    """SIGINT to every child still running, SIGTERM to those that outlive the grace, then
    SIGKILL."""
    for stop in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        running = [p for p in processes if p.poll() is None]
        for process in running:
            process.send_signal(stop)
        deadline = time.monotonic() + grace_seconds
        for process in running:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.0, deadline - time.monotonic()))


def _settings_with_warehouse() -> Settings:
    """The settings, for a command that needs a warehouse built already."""
    try:
        settings = load_settings()
    except SettingsError as error:
        _fail(str(error))
    if not settings.warehouse_path.exists():
        _fail(f"no warehouse at {settings.warehouse_path}: run `crimestat materialize` first")
    return settings


@main.command()
@click.option("--dataflow", "dataflow_id", required=True,
              type=click.Choice(["CRIM_OFF_CAT", "CRIM_JUST", "EJ_XB_CONV"]),
              help="The dataflow to deliver.")  # fmt: skip
@click.option("--year", required=True, type=click.IntRange(1900, 2999), help="Reference year.")
@click.option("--vintage", default=None, type=click.IntRange(1),
              help="Reproduce this vintage (default: the next one, from the mart).")  # fmt: skip
@click.option("--final", is_flag=True, help="A final release (OBS_STATUS A), not provisional.")
def export(dataflow_id: str, year: int, vintage: int | None, final: bool) -> None:
    """Produce one SDMX delivery under $CRIMESTAT_HOME/exports (validated before it lands)."""
    from publication.releases import ReleaseError, produce_release

    settings = _settings_with_warehouse()
    try:
        with settings.warehouse() as con:
            _publication_gate(settings, ["exports", dataflow_id.lower()], con)
            release = produce_release(
                con, settings.exports_dir, dataflow_id, year, vintage=vintage,
                status="final" if final else "provisional", settings=settings.structures,
            )  # fmt: skip
    except ReleaseError as error:
        _fail(str(error))
    action = "reproduced" if release.reproduced else "produced"
    click.echo(f"{action} {release.release_id} ({release.status}, "
               f"{release.observations} observations)")  # fmt: skip
    for file in release.files:
        click.echo(f"  {settings.exports_dir / file.relative_path}  sha256={file.sha256}")
    click.echo(f"manifest: {release.manifest_path}")


class PartnerCode(click.Choice):
    """The configured partners (publication/partners/config), listed when the command asks,
    not when the CLI is imported: an import reads no file."""

    def __init__(self) -> None:
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        from publication.partners.config import partner_codes

        return tuple(partner_codes())

    @choices.setter
    def choices(self, _: tuple[str, ...]) -> None:
        """click.Choice sets its fixed list; this one is read from the configuration."""


@main.command()
@click.option("--partner", required=True, type=PartnerCode(),
              help="Partner whose agreed tables to package (its publication/partners/config "
                   "file).")  # fmt: skip
@click.option("--month", required=True, help="Reference month, YYYY-MM.")
def extracts(partner: str, month: str) -> None:
    """Package a partner's agreed tables for one month and deliver the package (a new
    numbered package only when the tables changed since the last one)."""
    from core.contracts import MONTH_PATTERN
    from publication.partners.config import PartnerConfigError
    from publication.partners.delivery import DeliveryError
    from publication.partners.packages import deliver_package
    from publication.releases import ReleaseError

    if not MONTH_PATTERN.match(month):
        _fail(f"--month must look like YYYY-MM, got {month!r}")
    settings = _settings_with_warehouse()
    try:
        with settings.warehouse() as con:
            _publication_gate(settings, ["extracts", partner.lower()], con)
            outcome = deliver_package(con, partner, month, settings.outbox_dir,
                                      outbox_file_mode=settings.outbox_file_mode,
                                      settings=settings.structures)  # fmt: skip
    except (PartnerConfigError, ReleaseError, DeliveryError) as error:
        _fail(str(error))
    if not outcome.created:
        click.echo(f"{partner} {month}: unchanged since package {outcome.number}; "
                   f"nothing new delivered ({outcome.destination})")  # fmt: skip
        return
    assert outcome.manifest is not None
    package = outcome.manifest["package"]
    supersedes = f", supersedes {package['supersedes']}" if package["supersedes"] else ""
    click.echo(f"package {outcome.number} for {partner} {month}{supersedes}: "
               f"{outcome.destination}  sha256={outcome.sha256}")  # fmt: skip
    for table in outcome.manifest["tables"]:
        click.echo(f"  {table['release_id']}: {table['rows']} rows"
                   + (", disclosure control" if table["disclosure_control"] else ""))  # fmt: skip
    for file in outcome.manifest["files"]:
        click.echo(f"  {file['name']}  sha256={file['sha256']}")
    click.echo(f"manifest: manifest.json in {outcome.destination}")


@main.command()
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--structures", "structures_file", default=None,
              type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="SDMX-ML structure file to check against (default: the project's).")  # fmt: skip
def validate(file: Path, structures_file: Path | None) -> None:
    """Run the delivery gate on any SDMX file; print each problem with where it is."""
    from sdmx_export.structures import build_structures
    from sdmx_export.validation import validate_sdmx_file

    try:
        structures = structures_file or build_structures(load_settings().structures)
        problems = validate_sdmx_file(file, structures)
    except SettingsError as error:
        _fail(str(error))
    except (ValueError, OSError) as error:
        _fail(f"{file}: {error}")
    for problem in problems:
        click.echo(f"{file}: {problem}")
    if problems:
        click.secho(f"{len(problems)} problem(s): {file} cannot be delivered", fg="red", err=True)
        sys.exit(1)
    click.echo(f"{file}: valid")


@main.command()
@click.option("--register", required=True, type=click.Choice(["incidents", "convictions",
              "customs"]), help="Register the files were loaded for.")  # fmt: skip
@click.option("--file", "files", required=True, multiple=True, metavar="NAME",
              help="Loaded file (or database batch) to remove, as named in raw.file_loads "
                   "(e.g. incidents/2023-01/incidents_2023-01-05.csv.gz); repeatable.")  # fmt: skip
def forget(register: str, files: tuple[str, ...]) -> None:
    """Remove the versions of loaded files from the warehouse, on purpose: the only way rows
    leave it (a reload never drops rows of files that are gone). All or nothing; what was
    removed is printed, kept in raw.file_load_history and logged under $CRIMESTAT_HOME/logs."""
    from ingestion.loading import forget_files

    settings = load_settings()
    if not settings.warehouse_path.exists():
        _fail(f"no warehouse at {settings.warehouse_path}")
    try:
        with settings.warehouse() as con:
            removed = forget_files(con, register, files)
    except KeyError as error:
        _fail(f"{error.args[0]}; nothing was removed")
    record = {
        "at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "register": register,
        "user": os.environ.get("USER", ""),
        "removed": removed,
    }
    log_path = settings.home / "logs" / "forget.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("a") as log:
        log.write(json.dumps(record) + "\n")
    for name, tables in removed.items():
        counts = ", ".join(f"{table} {rows}" for table, rows in tables.items() if rows)
        click.echo(f"forgot {register} {name}: {counts or 'no rows'}")
    click.echo(f"logged in {log_path}")


@main.command()
@click.argument("directory", type=click.Path(path_type=Path))
def backup(directory: Path) -> None:
    """Back up $CRIMESTAT_HOME (warehouse, exports, outbox, Dagster instance, quality results)
    into DIRECTORY, empty or new, with a manifest of SHA-256 checksums."""
    from crimestat.backup import backup_home
    from crimestat.backup_manifest import MANIFEST_NAME, BackupError

    try:
        summary = backup_home(load_settings(), directory, progress=sys.stderr.isatty())
    except (BackupError, SettingsError) as error:
        _fail(str(error))
    click.echo(f"backed up {summary.manifest.home} into {summary.directory}")
    _echo_backup_contents(summary.manifest)
    click.echo(f"manifest: {summary.directory / MANIFEST_NAME}")


@main.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True,
              help="Replace the home's warehouse, exports, outbox, Dagster instance and quality "
                   "results when it has them.")  # fmt: skip
def restore(directory: Path, force: bool) -> None:
    """Verify the backup in DIRECTORY whole (checksums, row counts, release files), then
    restore it into $CRIMESTAT_HOME; a damaged backup changes nothing."""
    from crimestat.backup_manifest import BackupError
    from crimestat.restore import restore_home

    try:
        summary = restore_home(directory, load_settings(), force=force,
                               progress=sys.stderr.isatty())  # fmt: skip
    except (BackupError, SettingsError) as error:
        _fail(str(error))
    verified = summary.backup
    click.echo(f"verified {verified.directory} (taken {verified.manifest.taken_at} from "
               f"{verified.manifest.home}): every file's size and SHA-256, "
               f"{len(verified.manifest.tables)} tables' row counts, "
               f"{verified.release_files_checked} release files against "
               "releases.release_files")  # fmt: skip
    if summary.replaced:
        click.echo(f"replaced in {summary.home}: {', '.join(summary.replaced)}")
    click.echo(f"restored into {summary.home}")
    _echo_backup_contents(verified.manifest)


def _echo_backup_contents(manifest: BackupManifest) -> None:
    for entry, (files, size) in manifest.entry_totals().items():
        click.echo(f"  {entry:<22} {files:>6} files {size / 1e6:>10,.1f} MB")
    click.echo(f"  warehouse tables       {len(manifest.tables):>6} "
               f"{sum(manifest.tables.values()):>16,} rows")  # fmt: skip


if __name__ == "__main__":
    main()
