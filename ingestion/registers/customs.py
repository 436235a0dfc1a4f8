"""Customs violations register (SPEC 3.3): a monthly pair of Windows-1257 CSV files."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from core import contracts as c
from core.reference import load_code_lists
from core.settings import Settings
from ingestion.judging import Contract, date_order_rule, judge, too_old_rule
from ingestion.pseudonymisation import mask_quarantine
from ingestion.records import FileRecords, read_delimited
from ingestion.validation import Field, Rule, below_rule, coordinate_rules, negative_rule

REGISTER = "customs"
ENCODING = "cp1257"
OLDEST_DATE = "1990-01-01"
# Plausible maxima (above: absurd, quarantined), within DECIMAL(18,3) and DECIMAL(14,2).
MAX_LINE_NO = 10_000
MAX_QUANTITY = 1_000_000_000
MAX_VALUE_EUR = 10_000_000_000
VIOLATIONS_PREFIX = "violations_"
SEIZURES_PREFIX = "seizures_"


def masked_quarantine(quarantine: pl.DataFrame) -> pl.DataFrame:
    """No personal fields here; personal-code-shaped digits are masked all the same, in case
    one was typed into a field (defence in depth)."""
    return mask_quarantine(quarantine)


def partition_files(landing_dir: Path, partition: str) -> list[Path]:
    folder = landing_dir / REGISTER / partition
    return sorted(folder.glob(f"{VIOLATIONS_PREFIX}*.csv")) + sorted(
        folder.glob(f"{SEIZURES_PREFIX}*.csv")
    )


def _is_seizures(path: Path) -> bool:
    return path.name.startswith(SEIZURES_PREFIX)


def _decimal_comma(*names: str):
    def normalise(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(pl.col(n).str.replace(",", ".", literal=True) for n in names)

    return normalise


def violations_contract(settings: Settings) -> Contract:
    codes = load_code_lists(settings.reference_dir)
    fields = (
        Field("violation_id", mandatory=True),
        Field("version", "integer", mandatory=True),
        Field("written_at", "timestamp", mandatory=True),
        Field("detected_at", "timestamp", mandatory=True),
        Field("unit_code", mandatory=True),
        Field("task_id"),
        # A code list, not free text: an unknown post (or a formula such as =HYPERLINK(...),
        # which would be live in a spreadsheet) is quarantined, never loaded.
        Field(
            "customs_post",
            mandatory=True,
            codes=codes.customs_posts,
            code_list_name="reference customs_posts",
        ),
        Field("border_section", mandatory=True, codes=c.BORDER_SECTIONS),
        Field("lat", "float"),
        Field("lon", "float"),
        Field("violation_type", mandatory=True, codes=c.VIOLATION_TYPES),
        Field("procedure", mandatory=True, codes=c.PROCEDURES),
        Field(
            "offender_citizenship",
            codes=(*codes.countries, c.CITIZENSHIP_STATELESS),
            code_list_name="ISO 3166-1 alpha-2 or XX",
        ),
        Field("vehicle_type", mandatory=True, codes=c.VEHICLE_TYPES),
    )

    def rules(f: dict[str, Field]) -> list[Rule]:
        return [
            below_rule(f["version"], 1),
            *coordinate_rules(f, settings.country),
            *[too_old_rule(f[n], OLDEST_DATE) for n in ("written_at", "detected_at")],
            date_order_rule(
                "written_at", f["written_at"].typed(), f["detected_at"].typed(), "detected_at"
            ),
        ]

    return Contract(
        fields,
        key=("violation_id", "version"),
        extra_rules=rules,
        normalise=_decimal_comma("lat", "lon"),
    )


def seizures_contract() -> Contract:
    fields = (
        Field("violation_id", mandatory=True),
        Field("line_no", "integer", mandatory=True, maximum=MAX_LINE_NO),
        Field("cn_code", mandatory=True, pattern=c.CN_CODE_PATTERN),
        Field("goods_category", mandatory=True, codes=c.GOODS_CATEGORIES),
        Field("quantity", "decimal", mandatory=True, maximum=MAX_QUANTITY),
        Field("unit", mandatory=True, codes=c.SEIZURE_UNITS),
        Field("value_eur", "decimal", mandatory=True, maximum=MAX_VALUE_EUR),
    )

    def rules(f: dict[str, Field]) -> list[Rule]:
        return [
            below_rule(f["line_no"], 1),
            negative_rule(f["quantity"]),
            negative_rule(f["value_eur"]),
        ]

    return Contract(
        fields,
        key=("violation_id", "line_no"),
        extra_rules=rules,
        normalise=_decimal_comma("quantity", "value_eur"),
    )


def read_file(path: Path, label: str, settings: Settings) -> FileRecords:
    columns = c.CUSTOMS_SEIZURE_COLUMNS if _is_seizures(path) else c.CUSTOMS_VIOLATION_COLUMNS
    records = read_delimited(
        path,
        label,
        columns,
        encoding=ENCODING,
        separator=";",
        max_undecodable_share=settings.max_undecodable_share,
        max_line_bytes=settings.max_line_bytes,
    )
    return tagged(records, "seizures" if _is_seizures(path) else "violations")


def tagged(records: FileRecords, kind: str) -> FileRecords:
    """Records of one of the register's two kinds (violations, seizures), from a file or a
    database table, marked so `raw_tables` judges each against its own contract."""
    return FileRecords(
        records.label,
        records.rows.with_columns(pl.lit(kind).alias("_kind")),
        records.rejected,
        records.sha256,
    )


def _records_of_kind(records: pl.DataFrame, kind: str, columns: tuple[str, ...]) -> pl.DataFrame:
    """The month's violations or seizures; absent columns when that file was unreadable."""
    subset = records.filter(pl.col("_kind") == kind)
    return subset.with_columns(
        pl.lit(None, pl.String).alias(name) for name in columns if name not in subset.columns
    ).select("_file", "_line", "_text", *columns)


def raw_tables(
    records: pl.DataFrame, settings: Settings
) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    violations = judge(
        _records_of_kind(records, "violations", c.CUSTOMS_VIOLATION_COLUMNS),
        violations_contract(settings),
    )
    seizures = judge(
        _records_of_kind(records, "seizures", c.CUSTOMS_SEIZURE_COLUMNS), seizures_contract()
    )
    return (
        {
            c.CUSTOMS_VIOLATION_VERSIONS.name: violations.valid,
            c.CUSTOMS_SEIZURES.name: seizures.valid,
        },
        pl.concat([violations.quarantine, seizures.quarantine]),
    )
