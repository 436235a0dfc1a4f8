"""The end-of-run summary: what was produced, how much, and where it lives."""

from __future__ import annotations

from pathlib import Path

import click

from core.settings import Settings


def _size(path: Path) -> str:
    if path.is_file():
        size = path.stat().st_size
    elif path.is_dir():
        size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    else:
        return "absent"
    return f"{size / 1e6:,.1f} MB"


def print_summary(settings: Settings) -> None:
    if not settings.warehouse_path.exists():
        click.echo("no warehouse yet")
        return
    with settings.warehouse(read_only=True) as con:
        tables = con.sql(
            "select schema_name, table_name, estimated_size from duckdb_tables() "
            "order by schema_name, table_name"
        ).fetchall()
        files = con.sql(
            "select register, count(*), sum(rows_read), sum(rows_loaded), "
            "sum(rows_quarantined) from raw.file_loads group by register order by register"
        ).fetchall()
        quarantine = con.sql(
            "select register, rule, count(*) from raw.quarantine group by all order by all"
        ).fetchall()
    click.secho("\nRegisters loaded (landing files -> raw):", bold=True)
    click.echo(f"  {'register':<12} {'files':>6} {'read':>11} {'loaded':>11} {'quarantined':>11}")
    for register, n_files, read, loaded, quarantined in files:
        click.echo(f"  {register:<12} {n_files:>6} {read:>11,} {loaded:>11,} {quarantined:>11,}")
    click.secho("\nQuarantined rows by rule:", bold=True)
    for register, rule, n in quarantine:
        click.echo(f"  {register:<12} {rule:<16} {n:>8,}")
    click.secho("\nWarehouse tables:", bold=True)
    for schema, name, rows in tables:
        click.echo(f"  {schema}.{name:<40} {rows:>12,} rows")
    click.secho("\nOutputs:", bold=True)
    for label, path in (
        ("landing files", settings.landing_dir),
        ("warehouse", settings.warehouse_path),
        ("SDMX exports", settings.exports_dir),
        ("partner outbox", settings.outbox_dir),
        ("serving snapshot", settings.serving_dir),
        ("Dagster runs", settings.dagster_home),
    ):
        click.echo(f"  {label:<18} {path}  ({_size(path)})")
