"""The registers' extract contracts (SPEC 3.1-3.3) and the raw tables they land in.

One definition serves the synthetic generator (what to write), the readers (what to expect),
the validators (code lists, mandatory fields) and the warehouse DDL, so the three can never
drift apart.

Landing layout, under `$CRIMESTAT_HOME/landing/`:
  incidents/YYYY-MM/incidents_YYYY-MM-DD.csv.gz        daily delta, UTF-8, ';', header row
  convictions/YYYY-MM/convictions_YYYY-MM-DD.jsonl.gz  daily delta, UTF-8 JSON Lines
  customs/YYYY-MM/violations_YYYY-MM.csv               monthly, Windows-1257, ';', decimal comma
  customs/YYYY-MM/seizures_YYYY-MM.csv                 monthly, Windows-1257, ';', decimal comma
The folder name is the month partition. Values never contain the separator; a value may be
wrapped in double quotes. Timestamps are ISO 8601 local time without offset
(`YYYY-MM-DDTHH:MM:SS`), dates `YYYY-MM-DD`, booleans `true`/`false`, empty = null.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

REGISTERS = ("incidents", "convictions", "customs")
# The registers write their timestamps (written_at, registered_at, ...) as local wall-clock
# time of this zone, without an offset.
REGISTERS_TIMEZONE = "Europe/Vilnius"

INCIDENT_COLUMNS = (
    "event_id", "version", "written_at", "registered_at", "occurred_from", "occurred_to",
    "agency_code", "channel", "call_112_id", "event_kind", "offence_code", "attempt",
    "municipality", "lat", "lon", "victims", "damage_eur", "status", "pretrial_started_at",
    "decision_at",
)  # fmt: skip

CONVICTION_FIELDS = (
    "conviction_id", "version", "written_at", "person_code", "birth_date", "sex",
    "citizenship", "court_code", "judgment_at", "final_at", "status", "offences", "sanction",
    "sentence_months", "fine_eur", "ecris_member_state",
)  # fmt: skip
CONVICTION_OFFENCE_FIELDS = ("offence_code", "attempt", "is_main")

CUSTOMS_VIOLATION_COLUMNS = (
    "violation_id", "version", "written_at", "detected_at", "unit_code", "task_id",
    "customs_post", "border_section", "lat", "lon", "violation_type", "procedure",
    "offender_citizenship", "vehicle_type",
)  # fmt: skip
CUSTOMS_SEIZURE_COLUMNS = (
    "violation_id", "line_no", "cn_code", "goods_category", "quantity", "unit", "value_eur",
)  # fmt: skip

# Code lists fixed by the registers' own documentation (SPEC 3). Municipalities and
# citizenship codes come from the reference seeds instead, because they are national data.
CHANNELS = ("112", "in_person", "online", "proactive")
EVENT_KINDS = ("criminal", "administrative", "incident")
INCIDENT_STATUSES = (
    "registered", "pretrial_started", "refused", "solved", "sent_to_court", "closed", "annulled",
)  # fmt: skip
SEXES = ("M", "F")
CONVICTION_STATUSES = ("pending", "final", "annulled", "amended")
SANCTIONS = (
    "imprisonment", "suspended", "restriction_of_liberty", "community_work", "fine", "arrest",
    "other",
)  # fmt: skip
BORDER_SECTIONS = ("LT-BY", "LT-RU", "LT-LV", "LT-PL", "inland", "airport", "seaport")
VIOLATION_TYPES = (
    "cigarettes", "alcohol", "fuel", "drugs", "weapons", "cash", "counterfeit", "other",
)  # fmt: skip
PROCEDURES = ("administrative", "criminal")
VEHICLE_TYPES = ("car", "truck", "bus", "train", "vessel", "aircraft", "pedestrian", "none")
GOODS_CATEGORIES = (
    "cigarettes", "tobacco", "alcohol", "fuel", "drugs", "weapons", "cash", "counterfeit",
    "other",
)  # fmt: skip
SEIZURE_UNITS = ("sticks", "l", "kg", "pcs", "eur")

# Formats of register-assigned codes.
AGENCY_CODE_PATTERN = r"^(POL|MUN|FRS)-[0-9]{3}$"  # state police / municipal police / fire-rescue
OFFENCE_CODE_PATTERN = r"^(BK|ANK)[0-9]{1,3}(-[0-9]{1,2})?$"  # criminal code / admin. code art.
CN_CODE_PATTERN = r"^[0-9]{8}$"
CITIZENSHIP_STATELESS = "XX"

# The rules a row can break. The synthetic generator plants one defect kind per rule named the
# same (except malformed_value, which only real extracts produce).
QUARANTINE_RULES = (
    "duplicate",  # same record id and version seen earlier in the partition
    "unknown_code",  # value outside its code list (municipality, status, country, ...)
    "impossible_date",  # date order or range impossible (occurred after registered, ...)
    "missing_field",  # mandatory field empty
    "bad_check_digit",  # personal code whose check digit does not match
    "broken_encoding",  # line not decodable in the file's encoding
    "truncated_row",  # line with fewer fields than the header / cut JSON
    "malformed_value",  # value not parseable as its type or pattern
)

MONTH_PATTERN = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class RawTable:
    """A table of the `raw` schema: register columns plus lineage columns."""

    name: str
    columns: tuple[tuple[str, str], ...]

    @property
    def qualified(self) -> str:
        return f"raw.{self.name}"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    def ddl(self) -> str:
        cols = ",\n  ".join(f"{name} {sql_type}" for name, sql_type in self.columns)
        return f"create table if not exists {self.qualified} (\n  {cols}\n)"


# Every raw row says where it came from: the month partition, the landing file (relative to
# the landing directory) and its 1-based line number in that file (header = line 1).
LINEAGE = (("_partition", "varchar not null"), ("_file", "varchar not null"),
           ("_line", "integer not null"))  # fmt: skip

INCIDENT_VERSIONS = RawTable(
    "incident_versions",
    (
        ("event_id", "varchar not null"),
        ("version", "integer not null"),
        ("written_at", "timestamp not null"),
        ("registered_at", "timestamp not null"),
        ("occurred_from", "timestamp not null"),
        ("occurred_to", "timestamp"),
        ("agency_code", "varchar not null"),
        ("channel", "varchar not null"),
        ("call_112_id", "varchar"),
        ("event_kind", "varchar not null"),
        ("offence_code", "varchar"),
        ("attempt", "boolean not null"),
        ("municipality", "varchar not null"),
        ("lat", "double"),
        ("lon", "double"),
        ("victims", "integer not null"),
        ("damage_eur", "decimal(14,2) not null"),
        ("status", "varchar not null"),
        ("pretrial_started_at", "timestamp"),
        ("decision_at", "timestamp"),
        *LINEAGE,
    ),
)

# person_code never lands: it is replaced by person_key (HMAC-SHA256, hex) and birth_date by
# birth_year plus the age at judgment computed from the full date before it is discarded.
CONVICTION_VERSIONS = RawTable(
    "conviction_versions",
    (
        ("conviction_id", "varchar not null"),
        ("version", "integer not null"),
        ("written_at", "timestamp not null"),
        ("person_key", "varchar not null"),
        ("birth_year", "integer not null"),
        ("age_at_judgment", "integer not null"),
        ("sex", "varchar not null"),
        ("citizenship", "varchar"),
        ("court_code", "varchar not null"),
        ("judgment_at", "date not null"),
        ("final_at", "date"),
        ("status", "varchar not null"),
        ("sanction", "varchar not null"),
        ("sentence_months", "integer"),
        ("fine_eur", "decimal(14,2)"),
        ("ecris_member_state", "varchar"),
        *LINEAGE,
    ),
)

CONVICTION_OFFENCES = RawTable(
    "conviction_offences",
    (
        ("conviction_id", "varchar not null"),
        ("version", "integer not null"),
        ("offence_seq", "integer not null"),
        ("offence_code", "varchar not null"),
        ("attempt", "boolean not null"),
        ("is_main", "boolean not null"),
        *LINEAGE,
    ),
)

CUSTOMS_VIOLATION_VERSIONS = RawTable(
    "customs_violation_versions",
    (
        ("violation_id", "varchar not null"),
        ("version", "integer not null"),
        ("written_at", "timestamp not null"),
        ("detected_at", "timestamp not null"),
        ("unit_code", "varchar not null"),
        ("task_id", "varchar"),
        ("customs_post", "varchar not null"),
        ("border_section", "varchar not null"),
        ("lat", "double"),
        ("lon", "double"),
        ("violation_type", "varchar not null"),
        ("procedure", "varchar not null"),
        ("offender_citizenship", "varchar"),
        ("vehicle_type", "varchar not null"),
        *LINEAGE,
    ),
)

CUSTOMS_SEIZURES = RawTable(
    "customs_seizures",
    (
        ("violation_id", "varchar not null"),
        ("line_no", "integer not null"),
        ("cn_code", "varchar not null"),
        ("goods_category", "varchar not null"),
        ("quantity", "decimal(18,3) not null"),
        ("unit", "varchar not null"),
        ("value_eur", "decimal(14,2) not null"),
        *LINEAGE,
    ),
)

# Rows that failed their contract: nothing is dropped silently. `rule` is the contract rule the
# row broke (one of QUARANTINE_RULES), `reason` says it for a person with the offending value
# (never the value of a personal field), `record` is what may be kept of the row as read: the
# line of a CSV register, the contract's non-personal fields of a conviction (JSON), with
# personal-code-shaped digits masked everywhere (ingestion/pseudonymisation.mask_quarantine).
QUARANTINE = RawTable(
    "quarantine",
    (
        ("register", "varchar not null"),
        ("_partition", "varchar not null"),
        ("_file", "varchar not null"),
        ("_line", "integer not null"),
        ("field", "varchar"),
        ("rule", "varchar not null"),
        ("reason", "varchar not null"),
        ("record", "varchar"),
    ),
)

# One row per landing file (or database pull batch) whose rows are in the warehouse now, keyed
# by its name (`_file`): rows read = rows loaded + rows quarantined is checked against the
# tables themselves by an asset check. Earlier contents of the same name: FILE_LOAD_HISTORY.
# `load_seq` numbers the loads in the order they were written, across registers, and is never
# given twice (FILE_LOAD_HISTORY keeps the numbers of loads no longer current): the staging
# models take in only the loads numbered after their last build (dbt incremental models).
FILE_LOADS = RawTable(
    "file_loads",
    (
        ("register", "varchar not null"),
        ("_partition", "varchar not null"),
        ("_file", "varchar not null"),
        ("sha256", "varchar not null"),
        ("rows_read", "integer not null"),
        ("rows_loaded", "integer not null"),
        ("rows_quarantined", "integer not null"),
        ("loaded_at", "timestamp not null"),
        ("load_seq", "bigint not null"),
    ),
)
LOAD_SEQ = "load_seq"

# Loads that are no longer current: a landing file re-delivered with other bytes (`replaced`,
# its rows were swapped for the new content's) or removed on purpose by `crimestat forget`
# (`forgotten`). The FILE_LOADS row as it was, and when and why it stopped being current.
FILE_LOAD_HISTORY = RawTable(
    "file_load_history",
    (
        *FILE_LOADS.columns,
        ("superseded_at", "timestamp not null"),
        ("superseded_how", "varchar not null"),  # replaced or forgotten
        ("superseded_by_sha256", "varchar"),  # the content that replaced it
    ),
)

# Where each pull from a register database stopped, per source table and month partition:
# the next pull of that month reads only rows written after `watermark` (ingestion/database).
# Moved in the same transaction as the rows it covers. An instant (TIMESTAMPTZ, written in
# UTC), never local wall-clock text: in the hour that repeats when clocks go back, local text
# would be read back an hour off and skip rows.
SOURCE_WATERMARKS = RawTable(
    "source_watermarks",
    (
        ("register", "varchar not null"),
        ("source_table", "varchar not null"),
        ("_partition", "varchar not null"),
        ("watermark", "timestamptz not null"),
        ("rows", "integer not null"),  # rows of the pull batch that moved it last
        ("pulled_at", "timestamp not null"),
    ),
)

RAW_TABLES_BY_REGISTER: dict[str, tuple[RawTable, ...]] = {
    "incidents": (INCIDENT_VERSIONS,),
    "convictions": (CONVICTION_VERSIONS, CONVICTION_OFFENCES),
    "customs": (CUSTOMS_VIOLATION_VERSIONS, CUSTOMS_SEIZURES),
}
ALL_RAW_TABLES = (
    INCIDENT_VERSIONS, CONVICTION_VERSIONS, CONVICTION_OFFENCES, CUSTOMS_VIOLATION_VERSIONS,
    CUSTOMS_SEIZURES, QUARANTINE, FILE_LOADS, SOURCE_WATERMARKS, FILE_LOAD_HISTORY,
)  # fmt: skip


def personal_code_check_digit(first_ten: str) -> int:
    """Lithuanian personal code check digit (weights 1..9,1 then 3..9,1,2,3; 10 -> 0)."""
    digits = [int(c) for c in first_ten]
    for weights in ((1, 2, 3, 4, 5, 6, 7, 8, 9, 1), (3, 4, 5, 6, 7, 8, 9, 1, 2, 3)):
        remainder = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        if remainder != 10:
            return remainder
    return 0
