"""Conviction register (SPEC 3.2): daily gzip JSON Lines of conviction decisions.

The only register with personal data: the personal code is checked (format, check digit) and
replaced by its keyed hash, and the birth date is reduced to the birth year and the age at
judgment, before anything leaves this module.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl

from core import contracts as c
from core.reference import load_code_lists
from core.settings import Settings
from ingestion.judging import Contract, date_order_rule, judge, too_old_rule
from ingestion.pseudonymisation import holds_personal_digits, mask_quarantine, person_key
from ingestion.records import FileRecords, read_json_lines
from ingestion.validation import Field, Rule, below_rule, negative_rule

REGISTER = "convictions"
OLDEST_DATE = "1900-01-01"
# Plausible maxima (above: absurd, quarantined); fine_eur must also fit DECIMAL(14,2).
MAX_SENTENCE_MONTHS = 1_200
MAX_FINE_EUR = 100_000_000
OFFENCE_CODE = re.compile(c.OFFENCE_CODE_PATTERN)
PERSONAL_FIELDS = ("person_code", "birth_date")
# Free-text fields (no code list, no pattern) where a personal code typed by mistake would
# otherwise be loaded as is.
FREE_TEXT_FIELDS = ("conviction_id", "court_code")
OFFENCE_DTYPE = pl.List(
    pl.Struct({"offence_code": pl.String, "attempt": pl.Boolean, "is_main": pl.Boolean})
)


def partition_files(landing_dir: Path, partition: str) -> list[Path]:
    return sorted((landing_dir / REGISTER / partition).glob("convictions_*.jsonl.gz"))


def offences_problem(offences_json: str | None) -> str | None:
    """Why a conviction's offence list is unusable, or None when it is well formed."""
    if offences_json is None:
        return None
    try:
        offences = json.loads(offences_json)
    except json.JSONDecodeError:
        return "offences is not a JSON list"
    if not isinstance(offences, list) or not offences:
        return "offences is not a non-empty list"
    for i, offence in enumerate(offences, start=1):
        if not isinstance(offence, dict):
            return f"offence {i} is not an object"
        code = offence.get("offence_code")
        if not isinstance(code, str) or not OFFENCE_CODE.match(code):
            return f"offence {i} has offence_code {code!r} not matching {c.OFFENCE_CODE_PATTERN}"
        for flag in ("attempt", "is_main"):
            if not isinstance(offence.get(flag), bool):
                return f"offence {i} has {flag} {offence.get(flag)!r}, not true/false"
    mains = sum(o["is_main"] for o in offences)
    if mains != 1:
        return f"offences has {mains} main offences, exactly one is required"
    return None


def has_valid_check_digit(code: str) -> bool:
    return int(code[10]) == c.personal_code_check_digit(code[:10])


def contract(settings: Settings) -> Contract:
    codes = load_code_lists(settings.reference_dir)
    citizenships = (*codes.countries, c.CITIZENSHIP_STATELESS)
    other_member_states = tuple(s for s in codes.eu_member_states if s != settings.country.code)
    length = settings.country.personal_code_length
    fields = (
        Field("conviction_id", mandatory=True),
        Field("version", "integer", mandatory=True),
        Field("written_at", "timestamp", mandatory=True),
        Field("person_code", mandatory=True, pattern=rf"^[0-9]{{{length}}}$", personal=True),
        Field("birth_date", "date", mandatory=True, personal=True),
        Field("sex", mandatory=True, codes=c.SEXES),
        Field("citizenship", codes=citizenships, code_list_name="ISO 3166-1 alpha-2 or XX"),
        Field("court_code", mandatory=True),
        Field("judgment_at", "date", mandatory=True),
        Field("final_at", "date"),
        Field("status", mandatory=True, codes=c.CONVICTION_STATUSES),
        Field("offences", mandatory=True),
        Field("sanction", mandatory=True, codes=c.SANCTIONS),
        Field("sentence_months", "integer", maximum=MAX_SENTENCE_MONTHS),
        Field("fine_eur", "decimal", maximum=MAX_FINE_EUR),
        Field(
            "ecris_member_state", codes=other_member_states, code_list_name="other EU member states"
        ),
    )

    def rules(f: dict[str, Field]) -> list[Rule]:
        judgment = f["judgment_at"].typed()
        return [
            Rule(
                "offences",
                "malformed_value",
                pl.col("_offences_problem").is_not_null(),
                pl.col("_offences_problem"),
            ),
            Rule(
                "person_code",
                "bad_check_digit",
                ~pl.col("_check_digit_ok"),
                pl.lit("person_code check digit does not match"),
            ),
            *[
                Rule(
                    name,
                    "malformed_value",
                    pl.col(name)
                    .map_elements(holds_personal_digits, return_dtype=pl.Boolean)
                    .fill_null(False),
                    pl.lit(f"{name} holds a number shaped like a personal code (masked)"),
                )
                for name in FREE_TEXT_FIELDS
            ],
            below_rule(f["version"], 1),
            below_rule(f["sentence_months"], 0),
            negative_rule(f["fine_eur"]),
            *[
                too_old_rule(f[name], OLDEST_DATE)
                for name in ("written_at", "birth_date", "judgment_at", "final_at")
            ],
            date_order_rule(
                "judgment_at", judgment, f["birth_date"].typed(), "birth_date", show_earlier=False
            ),
            date_order_rule("final_at", f["final_at"].typed(), judgment, "judgment_at"),
            date_order_rule(
                "written_at", f["written_at"].typed().cast(pl.Date), judgment, "judgment_at"
            ),
        ]

    def normalise(frame: pl.DataFrame) -> pl.DataFrame:
        # Problems that need Python (nested JSON, check digits) become columns the rules read.
        return frame.with_columns(
            pl.col("offences")
            .map_elements(offences_problem, return_dtype=pl.String)
            .alias("_offences_problem"),
            pl.when(pl.col("person_code").str.contains(rf"^[0-9]{{{length}}}$"))
            .then(
                pl.col("person_code").map_elements(has_valid_check_digit, return_dtype=pl.Boolean)
            )
            .otherwise(True)
            .alias("_check_digit_ok"),
        )

    return Contract(
        fields, key=("conviction_id", "version"), extra_rules=rules, normalise=normalise
    )


def masked_quarantine(quarantine: pl.DataFrame) -> pl.DataFrame:
    """Refused conviction records keep only the contract's non-personal fields (see
    pseudonymisation.private_json_record); dropped fields are named in the reason."""
    return mask_quarantine(
        quarantine, c.CONVICTION_FIELDS, PERSONAL_FIELDS, c.CONVICTION_OFFENCE_FIELDS
    )


def read_file(path: Path, label: str, settings: Settings) -> FileRecords:
    return read_json_lines(
        path,
        label,
        c.CONVICTION_FIELDS,
        max_undecodable_share=settings.max_undecodable_share,
        max_line_bytes=settings.max_line_bytes,
    )


def age_in_full_years(birth: pl.Expr, on: pl.Expr) -> pl.Expr:
    before_birthday = (on.dt.month() < birth.dt.month()) | (
        (on.dt.month() == birth.dt.month()) & (on.dt.day() < birth.dt.day())
    )
    return on.dt.year() - birth.dt.year() - before_birthday.cast(pl.Int32)


def raw_tables(
    records: pl.DataFrame, settings: Settings
) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    judged = judge(records, contract(settings))
    secret = settings.pseudonymisation_key
    versions = judged.valid.with_columns(
        pl.col("person_code")
        .map_elements(lambda code: person_key(code, secret), return_dtype=pl.String)
        .alias("person_key"),
        pl.col("birth_date").dt.year().alias("birth_year"),
        age_in_full_years(pl.col("birth_date"), pl.col("judgment_at")).alias("age_at_judgment"),
    ).drop("person_code", "birth_date")
    offences = (
        versions.select(
            "conviction_id",
            "version",
            "_file",
            "_line",
            pl.col("offences").str.json_decode(OFFENCE_DTYPE),
        )
        .with_columns(pl.int_ranges(1, pl.col("offences").list.len() + 1).alias("offence_seq"))
        .explode("offences", "offence_seq")
        .unnest("offences")
    )
    return (
        {
            c.CONVICTION_VERSIONS.name: versions.drop("offences"),
            c.CONVICTION_OFFENCES.name: offences,
        },
        judged.quarantine,
    )
