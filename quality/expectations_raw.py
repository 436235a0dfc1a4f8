"""Register contracts on raw data: the second line of defence behind the ingestion.

The ingestion judges every row before it lands (ingestion/registers/*.py); these suites check
what actually landed, so a loader bug, a table altered by hand or a row written around the
ingestion shows before anything is counted. Column lists, code lists and patterns come from
core/contracts.py and the reference seeds, never retyped here; mandatory fields are the
`not null` columns of the raw table definitions.
"""

from __future__ import annotations

from great_expectations.expectations import Expectation
from great_expectations.expectations.row_conditions import Column

from core import contracts as c
from quality import expect, frames
from quality.definitions import WARNING, FrameCheck, RowsCheck, Suite
from quality.references import (
    CONVICTION_OLDEST,
    CUSTOMS_OLDEST,
    INCIDENT_OLDEST,
    References,
)

# person_key is the base32 HMAC of ingestion/pseudonymisation.py: lowercase letters and 2-7,
# so it can never look like a personal code.
PERSON_KEY_PATTERN = r"^[a-z2-7]{52}$"
OLDEST_BIRTH_YEAR = CONVICTION_OLDEST.year
OLDEST_AGE = 120


def mandatory(table: c.RawTable) -> list[Expectation]:
    """Not null on every register column the raw table declares `not null`."""
    return [
        expect.not_null(name)
        for name, ddl in table.columns
        if "not null" in ddl and not name.startswith("_")
    ]


def dates_between(columns: tuple[str, ...], oldest, refs: References) -> list[Expectation]:
    return [expect.between(name, oldest, refs.latest_time) for name in columns]


def coordinates(refs: References) -> list[Expectation]:
    return [
        expect.between("lat", *refs.lat_range),
        expect.between("lon", *refs.lon_range),
    ]


def schema_check(table: c.RawTable) -> FrameCheck:
    return FrameCheck(
        name=f"{table.name}_columns",
        description=f"{table.qualified} has every contract column with its type",
        keys=("column_name",),
        query=frames.schema(table),
        expectations=lambda refs: [expect.pair_equal("expected_type", "actual_type")],
    )


def duplicates_check(table: c.RawTable, key: tuple[str, str]) -> FrameCheck:
    return FrameCheck(
        name=f"{table.name}_keys",
        description=(
            f"({', '.join(key)}) unique per partition and one content per key across "
            "partitions (identical re-deliveries allowed)"
        ),
        keys=(*key, "partitions"),
        query=frames.duplicate_versions(table, key),
        expectations=lambda refs: [
            expect.equals("repeats_within_partition", 0),
            expect.equals("contents", 1),
        ],
    )


def first_broken(*rules: tuple[str, str]) -> str:
    """SQL naming the first (condition, rule) a row breaks, null when it breaks none."""
    whens = " ".join(f"when {condition} then '{rule}'" for condition, rule in rules)
    return f"case {whens} end"


# --------------------------------------------------------------------------------------
# Incident register (SPEC 3.1)
# --------------------------------------------------------------------------------------

INCIDENT_DATES = (
    "written_at", "registered_at", "occurred_from", "occurred_to", "pretrial_started_at",
    "decision_at",
)  # fmt: skip
INCIDENT_DATE_ORDER = first_broken(
    ("occurred_to < occurred_from", "occurred_to before occurred_from"),
    ("registered_at::date < occurred_from::date", "registered_at before occurred_from"),
    ("written_at::date < registered_at::date", "written_at before registered_at"),
    ("pretrial_started_at::date < registered_at::date", "pretrial_started_at before registered_at"),
    ("decision_at::date < registered_at::date", "decision_at before registered_at"),
)


# The register writes an offence code for criminal and administrative events only.
OFFENCE_EXPECTED = Column("event_kind").is_in(["criminal", "administrative"])


def incident_rows(refs: References) -> list[Expectation]:
    return [
        *mandatory(c.INCIDENT_VERSIONS),
        expect.not_null("offence_code", when=OFFENCE_EXPECTED),
        expect.in_set("channel", c.CHANNELS),
        expect.in_set("event_kind", c.EVENT_KINDS),
        expect.in_set("status", c.INCIDENT_STATUSES),
        expect.in_set("municipality", refs.municipalities),
        expect.matches("agency_code", c.AGENCY_CODE_PATTERN),
        expect.matches("offence_code", c.OFFENCE_CODE_PATTERN),
        expect.between("version", 1),
        expect.between("victims", 0),
        expect.between("damage_eur", 0),
        *coordinates(refs),
        *dates_between(INCIDENT_DATES, INCIDENT_OLDEST, refs),
        expect.null("date_order"),
    ]  # fmt: skip


RAW_INCIDENTS = Suite(
    name="raw_incidents",
    asset_key=("raw", "incidents"),
    description="Incident register contract on raw.incident_versions (SPEC 3.1, 4)",
    partitioned=True,
    checks=(
        schema_check(c.INCIDENT_VERSIONS),
        RowsCheck(
            table=c.INCIDENT_VERSIONS,
            keys=("event_id", "version", "_partition"),
            expectations=incident_rows,
            derived=(("date_order", INCIDENT_DATE_ORDER),),
        ),
        duplicates_check(c.INCIDENT_VERSIONS, ("event_id", "version")),
    ),
)

# --------------------------------------------------------------------------------------
# Conviction register (SPEC 3.2)
# --------------------------------------------------------------------------------------

CONVICTION_DATE_ORDER = first_broken(
    ("final_at < judgment_at", "final_at before judgment_at"),
    ("written_at::date < judgment_at", "written_at before judgment_at"),
)


def conviction_rows(refs: References) -> list[Expectation]:
    return [
        *mandatory(c.CONVICTION_VERSIONS),
        expect.matches("person_key", PERSON_KEY_PATTERN),
        expect.in_set("sex", c.SEXES),
        expect.in_set("status", c.CONVICTION_STATUSES),
        expect.in_set("sanction", c.SANCTIONS),
        expect.in_set("citizenship", refs.citizenships),
        expect.in_set("ecris_member_state", refs.other_member_states),
        expect.between("version", 1),
        expect.between("birth_year", OLDEST_BIRTH_YEAR, refs.now.year),
        expect.between("age_at_judgment", 0, OLDEST_AGE),
        expect.between("sentence_months", 0),
        expect.between("fine_eur", 0),
        *dates_between(("written_at", "judgment_at", "final_at"), CONVICTION_OLDEST, refs),
        expect.null("date_order"),
    ]


def conviction_offence_rows(refs: References) -> list[Expectation]:
    return [
        *mandatory(c.CONVICTION_OFFENCES),
        expect.matches("offence_code", c.OFFENCE_CODE_PATTERN),
        expect.between("version", 1),
        expect.between("offence_seq", 1),
    ]


RAW_CONVICTIONS = Suite(
    name="raw_convictions",
    asset_key=("raw", "convictions"),
    description=(
        "Conviction register contract on raw.conviction_versions and raw.conviction_offences "
        "(SPEC 3.2, 4; no personal code past the door)"
    ),
    partitioned=True,
    checks=(
        schema_check(c.CONVICTION_VERSIONS),
        schema_check(c.CONVICTION_OFFENCES),
        RowsCheck(
            table=c.CONVICTION_VERSIONS,
            keys=("conviction_id", "version", "_partition"),
            expectations=conviction_rows,
            derived=(("date_order", CONVICTION_DATE_ORDER),),
        ),
        RowsCheck(
            table=c.CONVICTION_OFFENCES,
            keys=("conviction_id", "version", "offence_seq", "_partition"),
            expectations=conviction_offence_rows,
        ),
        duplicates_check(c.CONVICTION_VERSIONS, ("conviction_id", "version")),
        FrameCheck(
            name="main_offences",
            description="each delivered conviction version has exactly one main offence",
            keys=("conviction_id", "version", "_file", "_line"),
            query=frames.main_offences,
            expectations=lambda refs: [
                expect.equals("main_offences", 1),
                expect.in_set("version_delivered", [True]),
            ],
        ),
    ),
)

# --------------------------------------------------------------------------------------
# Customs violations register (SPEC 3.3)
# --------------------------------------------------------------------------------------


def violation_rows(refs: References) -> list[Expectation]:
    return [
        *mandatory(c.CUSTOMS_VIOLATION_VERSIONS),
        expect.in_set("border_section", c.BORDER_SECTIONS),
        expect.in_set("violation_type", c.VIOLATION_TYPES),
        expect.in_set("procedure", c.PROCEDURES),
        expect.in_set("vehicle_type", c.VEHICLE_TYPES),
        expect.in_set("offender_citizenship", refs.citizenships),
        expect.between("version", 1),
        *coordinates(refs),
        *dates_between(("written_at", "detected_at"), CUSTOMS_OLDEST, refs),
        expect.null("date_order"),
    ]


def seizure_rows(refs: References) -> list[Expectation]:
    return [
        *mandatory(c.CUSTOMS_SEIZURES),
        expect.matches("cn_code", c.CN_CODE_PATTERN),
        expect.in_set("goods_category", c.GOODS_CATEGORIES),
        expect.in_set("unit", c.SEIZURE_UNITS),
        expect.between("line_no", 1),
        expect.between("quantity", 0),
        expect.between("value_eur", 0),
    ]


RAW_CUSTOMS = Suite(
    name="raw_customs",
    asset_key=("raw", "customs"),
    description=(
        "Customs register contract on raw.customs_violation_versions and raw.customs_seizures "
        "(SPEC 3.3, 4)"
    ),
    partitioned=True,
    checks=(
        schema_check(c.CUSTOMS_VIOLATION_VERSIONS),
        schema_check(c.CUSTOMS_SEIZURES),
        RowsCheck(
            table=c.CUSTOMS_VIOLATION_VERSIONS,
            keys=("violation_id", "version", "_partition"),
            expectations=violation_rows,
            derived=(
                (
                    "date_order",
                    first_broken(("written_at < detected_at", "written_at before detected_at")),
                ),
            ),
        ),
        RowsCheck(
            table=c.CUSTOMS_SEIZURES,
            keys=("violation_id", "line_no", "_partition"),
            expectations=seizure_rows,
        ),
        duplicates_check(c.CUSTOMS_VIOLATION_VERSIONS, ("violation_id", "version")),
        FrameCheck(
            name="customs_seizures_keys",
            description="(violation_id, line_no) unique per monthly export",
            keys=("violation_id", "line_no", "_partition"),
            query=frames.seizure_line_repeats,
            expectations=lambda refs: [expect.equals("deliveries", 1)],
        ),
        FrameCheck(
            name="seizures_without_violation",
            description="seizure lines arrive with their violation in the same export",
            keys=("violation_id", "_partition"),
            query=frames.seizures_without_violation,
            expectations=lambda refs: [expect.no_rows(severity=WARNING)],
        ),
    ),
)

RAW_SUITES = (RAW_INCIDENTS, RAW_CONVICTIONS, RAW_CUSTOMS)
