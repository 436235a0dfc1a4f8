"""The registers' own tables in their operational database (PostgreSQL, the reference).

Typed as an operational database types them: one row per version, keyed by record id and
version, timestamps, dates, booleans and numbers as such, the offences of a conviction as a
jsonb list. Columns are nullable wherever a real register can hold a value the contract
refuses (a missing mandatory field, an unknown code, an impossible date order, a bad check
digit): the pull must bring such rows to quarantine exactly as the file path does. Only the
key and `written_at` (the pull's watermark column) are NOT NULL.

The same declarations give the DDL (`crimestat generate --to-db`), the type check a pull runs
before reading, and the SELECT that renders each typed row into the text form the landing
files carry (core/contracts.py), so the rows reach the one loader as if read from a file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TIMESTAMP_TEXT = 'YYYY-MM-DD"T"HH24:MI:SS'
# The watermark keeps the full precision of written_at, whatever the landing form shows.
WATERMARK_TEXT = 'YYYY-MM-DD"T"HH24:MI:SS.US'
DATE_TEXT = "YYYY-MM-DD"

# Types a column of each family may have in a register's database (information_schema names).
ACCEPTED_TYPES = {
    "text": ("text", "character varying", "character"),
    "integer": ("integer", "smallint", "bigint"),
    "numeric": ("numeric",),
    "float": ("double precision", "real", "numeric"),
    "timestamp": ("timestamp without time zone", "timestamp with time zone"),
    "date": ("date",),
    "boolean": ("boolean",),
    "json": ("jsonb", "json"),
}


@dataclass(frozen=True)
class SourceColumn:
    name: str
    sql_type: str  # as created by `crimestat generate --to-db`

    @property
    def family(self) -> str:
        base = self.sql_type.split("(")[0]
        return {
            "text": "text", "integer": "integer", "numeric": "numeric",
            "double precision": "float", "timestamp": "timestamp", "date": "date",
            "boolean": "boolean", "jsonb": "json",
        }[base]  # fmt: skip

    def rendered(self, alias: str) -> str:
        """The value as the landing files write it: ISO times, true/false, '.' decimals."""
        value = f"{alias}.{self.name}"
        match self.family:
            case "text":
                return value
            case "timestamp":
                return f"to_char({value}, '{TIMESTAMP_TEXT}')"
            case "date":
                return f"to_char({value}, '{DATE_TEXT}')"
            case _:
                return f"{value}::text"


@dataclass(frozen=True)
class SourceTable:
    """One table of a register's database and how a month of it is delivered."""

    register: str
    name: str
    columns: tuple[SourceColumn, ...]  # the contract's columns, in contract order
    key: tuple[str, ...]
    # Seizure lines carry their own write time but are delivered, like the monthly export
    # does, with every month's versions of the violation they belong to.
    delivered_with: str | None = None
    record_kind: str | None = None  # customs: which of the register's record kinds
    json_records: bool = False  # the register delivers JSON objects (form of quarantined rows)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(col.name for col in self.columns)

    @property
    def table_columns(self) -> tuple[SourceColumn, ...]:
        """Stored columns: the contract's, plus the audit time of tables delivered with
        another's versions."""
        if self.delivered_with is None:
            return self.columns
        return (*self.columns, SourceColumn("written_at", "timestamp"))

    def qualified(self, schema: str) -> str:
        return f"{schema}.{self.name}"

    def ddl(self, schema: str) -> list[str]:
        not_null = {*self.key, "written_at"}
        columns = ",\n  ".join(
            f"{col.name} {col.sql_type}{' not null' if col.name in not_null else ''}"
            for col in self.table_columns
        )
        return [
            f"create table if not exists {self.qualified(schema)} (\n  {columns},\n"
            f"  primary key ({', '.join(self.key)})\n)",
            # The incremental pull reads by written_at: an operational database indexes it.
            f"create index if not exists {self.name}_written_at "
            f"on {self.qualified(schema)} (written_at)",
        ]

    def delivered_rows(self, schema: str) -> str:
        """The table's rows delivered in the month [%(start)s, %(end)s), with the time
        `_delivered_at` each is delivered at (the watermark column)."""
        month = "{0} >= %(start)s and {0} < %(end)s"
        if self.delivered_with is None:
            return (
                f"select t.*, t.written_at as _delivered_at from {self.qualified(schema)} as t "
                f"where {month.format('t.written_at')}"
            )
        owner = self.key[0]
        # A line goes with the month's first version of its owner written since the line
        # itself, or at its own write time when that falls in the month.
        return f"""
            with month_versions as (
                select {owner}, written_at from {schema}.{self.delivered_with}
                where {month.format("written_at")}
            )
            select t.*, least(
                (select min(v.written_at) from month_versions as v
                 where v.{owner} = t.{owner} and v.written_at >= t.written_at),
                case when {month.format("t.written_at")} then t.written_at end
            ) as _delivered_at
            from {self.qualified(schema)} as t
            where t.{owner} in (select {owner} from month_versions)
               or ({month.format("t.written_at")})"""

    def delivery_query(self, schema: str) -> str:
        """COPY source: the month's rows after the watermark %(after)s (an instant; null =
        from the start), rendered as text, ordered by delivery time and key (the batch's line
        order); `_text` (JSON registers only) and `_delivered_at` (UTC) close each row."""
        rendered = [col.rendered("r") for col in self.columns]
        if self.json_records:
            pairs = ", ".join(f"'{col.name}', r.{col.name}" for col in self.columns)
            rendered.append(f"json_build_object({pairs})::text")
        # The watermark is an instant, rendered in UTC: a naive column is read in the
        # session's zone (the registers' own), a timestamptz column is one already.
        rendered.append(
            f"to_char(r._delivered_at::timestamptz at time zone 'UTC', '{WATERMARK_TEXT}')"
        )
        order = ", ".join(f"r.{name}" for name in self.key)
        return (
            f"select {', '.join(rendered)} from ({self.delivered_rows(schema)}) as r "
            "where r._delivered_at is not null "
            "and (%(after)s::timestamptz is null "
            "or r._delivered_at::timestamptz > %(after)s::timestamptz) "
            f"order by r._delivered_at, {order}"
        )


def _columns(declaration: str) -> tuple[SourceColumn, ...]:
    """From 'name type, name type, ...' as in the DDL (commas inside a type's parentheses
    belong to the type)."""
    pairs = re.split(r",(?![^(]*\))", " ".join(declaration.split()))
    return tuple(SourceColumn(*pair.strip().split(" ", 1)) for pair in pairs)


INCIDENTS = SourceTable(
    "incidents",
    "incidents",
    _columns(
        """event_id text, version integer, written_at timestamp, registered_at timestamp,
        occurred_from timestamp, occurred_to timestamp, agency_code text, channel text,
        call_112_id text, event_kind text, offence_code text, attempt boolean,
        municipality text, lat double precision, lon double precision, victims integer,
        damage_eur numeric(14,2), status text, pretrial_started_at timestamp,
        decision_at timestamp"""
    ),
    key=("event_id", "version"),
)
# The source database holds personal data (person_code, birth_date): the pull hashes and
# reduces them at the door like the file path does, before anything is written.
CONVICTIONS = SourceTable(
    "convictions",
    "convictions",
    _columns(
        """conviction_id text, version integer, written_at timestamp, person_code text,
        birth_date date, sex text, citizenship text, court_code text, judgment_at date,
        final_at date, status text, offences jsonb, sanction text, sentence_months integer,
        fine_eur numeric(14,2), ecris_member_state text"""
    ),
    key=("conviction_id", "version"),
    json_records=True,
)
CUSTOMS_VIOLATIONS = SourceTable(
    "customs",
    "customs_violations",
    _columns(
        """violation_id text, version integer, written_at timestamp, detected_at timestamp,
        unit_code text, task_id text, customs_post text, border_section text,
        lat double precision, lon double precision, violation_type text, procedure text,
        offender_citizenship text, vehicle_type text"""
    ),
    key=("violation_id", "version"),
    record_kind="violations",
)
CUSTOMS_SEIZURES = SourceTable(
    "customs",
    "customs_seizures",
    _columns(
        """violation_id text, line_no integer, cn_code text, goods_category text,
        quantity numeric(18,3), unit text, value_eur numeric(14,2)"""
    ),
    key=("violation_id", "line_no"),
    delivered_with=CUSTOMS_VIOLATIONS.name,
    record_kind="seizures",
)

SOURCE_TABLES_BY_REGISTER: dict[str, tuple[SourceTable, ...]] = {
    "incidents": (INCIDENTS,),
    "convictions": (CONVICTIONS,),
    "customs": (CUSTOMS_VIOLATIONS, CUSTOMS_SEIZURES),
}
