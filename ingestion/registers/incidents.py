"""Incident register (SPEC 3.1): daily gzip CSV deltas of police events."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from core import contracts as c
from core.reference import load_code_lists
from core.settings import Settings
from ingestion.judging import Contract, Judgement, date_order_rule, judge, too_old_rule
from ingestion.pseudonymisation import mask_quarantine
from ingestion.records import FileRecords, read_delimited
from ingestion.validation import Field, Rule, below_rule, coordinate_rules, negative_rule

REGISTER = "incidents"
ENCODING = "utf-8"
OLDEST_DATE = "1990-01-01"
# Plausible maxima (above: absurd, quarantined); damage_eur must also fit DECIMAL(14,2).
MAX_VICTIMS = 10_000
MAX_DAMAGE_EUR = 1_000_000_000


def masked_quarantine(quarantine: pl.DataFrame) -> pl.DataFrame:
    """No personal fields here; personal-code-shaped digits are masked all the same, in case
    one was typed into a field (defence in depth)."""
    return mask_quarantine(quarantine)


def partition_files(landing_dir: Path, partition: str) -> list[Path]:
    return sorted((landing_dir / REGISTER / partition).glob("incidents_*.csv.gz"))


def contract(settings: Settings) -> Contract:
    codes = load_code_lists(settings.reference_dir)
    fields = (
        Field("event_id", mandatory=True),
        Field("version", "integer", mandatory=True),
        Field("written_at", "timestamp", mandatory=True),
        Field("registered_at", "timestamp", mandatory=True),
        Field("occurred_from", "timestamp", mandatory=True),
        Field("occurred_to", "timestamp"),
        Field("agency_code", mandatory=True, pattern=c.AGENCY_CODE_PATTERN),
        Field("channel", mandatory=True, codes=c.CHANNELS),
        Field("call_112_id"),
        Field("event_kind", mandatory=True, codes=c.EVENT_KINDS),
        Field("offence_code", pattern=c.OFFENCE_CODE_PATTERN),
        Field("attempt", "boolean", mandatory=True),
        Field(
            "municipality",
            mandatory=True,
            codes=codes.municipalities,
            code_list_name="municipalities of the reference seed",
        ),
        Field("lat", "float"),
        Field("lon", "float"),
        Field("victims", "integer", mandatory=True, maximum=MAX_VICTIMS),
        Field("damage_eur", "decimal", mandatory=True, maximum=MAX_DAMAGE_EUR),
        Field("status", mandatory=True, codes=c.INCIDENT_STATUSES),
        Field("pretrial_started_at", "timestamp"),
        Field("decision_at", "timestamp"),
    )
    return Contract(fields, key=("event_id", "version"), extra_rules=_incident_rules(settings))


def _incident_rules(settings: Settings):
    def rules(f: dict[str, Field]) -> list[Rule]:
        def day(name: str) -> pl.Expr:
            return f[name].typed().cast(pl.Date)

        offence_needed = pl.col("event_kind").is_in(["criminal", "administrative"])
        return [
            Rule(
                "offence_code",
                "missing_field",
                offence_needed & pl.col("offence_code").is_null(),
                pl.format("offence_code is empty for a {} event", pl.col("event_kind")),
            ),
            below_rule(f["version"], 1),
            below_rule(f["victims"], 0),
            negative_rule(f["damage_eur"]),
            *coordinate_rules(f, settings.country),
            *[
                too_old_rule(f[name], OLDEST_DATE)
                for name in (
                    "written_at",
                    "registered_at",
                    "occurred_from",
                    "occurred_to",
                    "pretrial_started_at",
                    "decision_at",
                )
            ],
            date_order_rule(
                "registered_at", day("registered_at"), day("occurred_from"), "occurred_from"
            ),
            date_order_rule(
                "occurred_to", f["occurred_to"].typed(), f["occurred_from"].typed(), "occurred_from"
            ),
            date_order_rule("written_at", day("written_at"), day("registered_at"), "registered_at"),
            date_order_rule(
                "pretrial_started_at",
                day("pretrial_started_at"),
                day("registered_at"),
                "registered_at",
            ),
            date_order_rule(
                "decision_at", day("decision_at"), day("registered_at"), "registered_at"
            ),
        ]

    return rules


def read_file(path: Path, label: str, settings: Settings) -> FileRecords:
    return read_delimited(
        path,
        label,
        c.INCIDENT_COLUMNS,
        encoding=ENCODING,
        separator=";",
        max_undecodable_share=settings.max_undecodable_share,
        max_line_bytes=settings.max_line_bytes,
    )


def raw_tables(
    records: pl.DataFrame, settings: Settings
) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    judged: Judgement = judge(records, contract(settings))
    return {c.INCIDENT_VERSIONS.name: judged.valid}, judged.quarantine
