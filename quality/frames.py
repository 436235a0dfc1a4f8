"""The SQL check frames: DuckDB computes, over whole tables, what no single batch of rows can
show (a key repeated in two partitions, a roll-up that does not add up, a missing year), and
returns a small frame that GX then validates.

Every function returns a FrameQuery (connection, references, partitions) -> polars frame.
Raw frames are scoped to the records touched by the partitions in scope (a duplicate between
an old and a new partition shows when the new one is checked); mart frames read whole marts.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import polars as pl

from core.contracts import (
    CONVICTION_OFFENCES,
    CONVICTION_VERSIONS,
    CUSTOMS_SEIZURES,
    CUSTOMS_VIOLATION_VERSIONS,
    RawTable,
)
from core.vocabulary import TOTAL, UNMAPPED
from quality.definitions import FrameQuery
from quality.references import References

MARTS = "marts"
# Year-on-year plausibility: cells of at least this many cases may change by this share at most.
YOY_MIN_CASES = 20
YOY_MAX_CHANGE = 0.5


def _scope(partitions: Sequence[str] | None, alias: str = "") -> tuple[str, dict]:
    """A where-condition on the partitions in scope (none = every partition)."""
    if partitions is None:
        return "true", {}
    prefix = f"{alias}." if alias else ""
    return f"{prefix}_partition in (select unnest($partitions))", {"partitions": list(partitions)}


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> pl.DataFrame:
    return con.sql(sql, params=params or None).pl()


def _sql_type(ddl: str) -> str:
    """'decimal(14,2) not null' -> 'DECIMAL(14,2)', as information_schema writes it."""
    return ddl.lower().split(" not null")[0].strip().upper()


# --------------------------------------------------------------------------------------
# Raw layer
# --------------------------------------------------------------------------------------


def schema(table: RawTable) -> FrameQuery:
    """One row per contract column: its expected type and the type the table has (null when
    the column is missing)."""

    def query(con, refs, partitions) -> pl.DataFrame:
        schema_name, table_name = table.qualified.split(".")
        return _frame(
            con,
            """
            with expected as (
                select unnest($positions) as position, unnest($names) as column_name,
                       unnest($types) as expected_type
            )
            select expected.column_name, expected.expected_type, columns.data_type as actual_type
            from expected
            left join information_schema.columns as columns
                on columns.table_schema = $schema and columns.table_name = $table
                and columns.column_name = expected.column_name
            order by expected.position
            """,
            {
                "positions": list(range(len(table.columns))),
                "names": [name for name, _ in table.columns],
                "types": [_sql_type(ddl) for _, ddl in table.columns],
                "schema": schema_name,
                "table": table_name,
            },
        )

    return query


def duplicate_versions(table: RawTable, key: tuple[str, str]) -> FrameQuery:
    """Record versions delivered more than once, with how often within one partition and how
    many different contents they came with.

    A version re-sent identically in a later partition is legitimate (staging keeps its first
    delivery); a repeat within a partition (the ingestion quarantines those) or a second,
    different content for the same key is not. Conviction versions compare their offence
    lists too.
    """
    key_list = ", ".join(key)
    content = [f"versions.{name}" for name, _ in table.columns if not name.startswith("_")]
    offence_lists, offences_join = "", ""
    if table is CONVICTION_VERSIONS:
        content.append("offence_lists.offence_list")
        offence_lists = f"""
            offence_lists as (
                select conviction_id, version, _file, _line,
                       string_agg(concat_ws(':', offence_code, attempt, is_main), ','
                                  order by offence_seq) as offence_list
                from {CONVICTION_OFFENCES.qualified}
                semi join repeated using ({key_list})
                group by all
            ),"""
        offences_join = "left join offence_lists using (conviction_id, version, _file, _line)"

    def query(con, refs, partitions) -> pl.DataFrame:
        condition, params = _scope(partitions)
        # Keys delivered more than once come first (one cheap group-by), so only their rows
        # are hashed; scoped, only the keys that the partitions in scope touch.
        touched = (
            f"semi join (select distinct {key_list} from {table.qualified} where {condition}) "
            f"using ({key_list})"
            if partitions is not None
            else ""
        )
        return _frame(
            con,
            f"""
            with repeated as (
                select {key_list} from {table.qualified} {touched}
                group by {key_list} having count(*) > 1
            ),
            {offence_lists}
            deliveries as (
                select versions.{key[0]}, versions.{key[1]}, versions._partition,
                       hash({", ".join(content)}) as content
                from {table.qualified} as versions
                semi join repeated using ({key_list})
                {offences_join}
            )
            select {key_list},
                   string_agg(distinct _partition, ', ' order by _partition) as partitions,
                   count(*) as deliveries,
                   count(*) - count(distinct _partition) as repeats_within_partition,
                   count(distinct content) as contents
            from deliveries
            group by {key_list}
            order by {key_list}
            """,
            params,
        )

    return query


def main_offences(con, refs, partitions) -> pl.DataFrame:
    """Delivered conviction versions without exactly one main offence, and offence rows whose
    conviction version was not delivered with them (SPEC 3.2: exactly one main offence)."""
    versions_scope, params = _scope(partitions)
    return _frame(
        con,
        f"""
        with versions as (
            select conviction_id, version, _partition, _file, _line, true as delivered
            from {CONVICTION_VERSIONS.qualified} where {versions_scope}
        ),
        offences as (
            select conviction_id, version, _partition, _file, _line,
                   count(*) as offences, count(*) filter (where is_main) as main_offences
            from {CONVICTION_OFFENCES.qualified} where {versions_scope}
            group by all
        )
        select conviction_id, version, _partition, _file, _line,
               coalesce(versions.delivered, false) as version_delivered,
               coalesce(offences.offences, 0) as offences,
               coalesce(offences.main_offences, 0) as main_offences
        from versions
        full join offences using (conviction_id, version, _partition, _file, _line)
        where versions.delivered is null or coalesce(offences.main_offences, 0) <> 1
        order by all
        """,
        params,
    )


def seizure_line_repeats(con, refs, partitions) -> pl.DataFrame:
    """Seizure lines (violation_id, line_no) delivered more than once in one monthly export."""
    condition, params = _scope(partitions)
    return _frame(
        con,
        f"""
        select violation_id, line_no, _partition, count(*) as deliveries
        from {CUSTOMS_SEIZURES.qualified}
        where {condition}
        group by all
        having count(*) > 1
        order by all
        """,
        params,
    )


def seizures_without_violation(con, refs, partitions) -> pl.DataFrame:
    """Seizure lines whose violation is not in the same monthly export (staging cannot attach
    them; usually the violation row went to quarantine)."""
    condition, params = _scope(partitions, "seizures")
    return _frame(
        con,
        f"""
        select seizures.violation_id, seizures._partition, count(*) as lines
        from {CUSTOMS_SEIZURES.qualified} as seizures
        anti join {CUSTOMS_VIOLATION_VERSIONS.qualified} as violations
            using (violation_id, _partition)
        where {condition}
        group by all
        order by all
        """,
        params,
    )


# --------------------------------------------------------------------------------------
# Marts
# --------------------------------------------------------------------------------------


def mart(name: str, derived: str = "") -> FrameQuery:
    """The mart itself, with columns DuckDB derives for a check (`derived`: select items)."""

    def query(con, refs, partitions) -> pl.DataFrame:
        extra = f", {derived}" if derived else ""
        return _frame(con, f"select *{extra} from {MARTS}.{name} order by all")

    return query


def distinct_pairs(mart_name: str, column_a: str, column_b: str) -> FrameQuery:
    """The distinct (column_a, column_b) pairs of a mart with how many rows carry each: a
    pair rule is then checked once per pair, not per row (GX checks pairs in Python)."""

    def query(con, refs, partitions) -> pl.DataFrame:
        return _frame(
            con,
            f"""
            select {column_a}, {column_b}, count(*) as mart_rows
            from {MARTS}.{mart_name}
            group by all
            order by all
            """,
        )

    return query


def _sections(refs: References) -> list[str]:
    return [c.code for c in refs.iccs if c.level == 1]


def total_vs_sections(con, refs: References, partitions) -> pl.DataFrame:
    """Per year and geo: TOTAL against the sum of the ICCS sections and UNMAPPED."""
    return _frame(
        con,
        f"""
        with sums as (
            select ref_year, geo,
                   coalesce(sum(offences) filter (where iccs_code = '{TOTAL}'), 0) as total,
                   coalesce(sum(offences) filter (
                       where iccs_code in (select unnest($sections)) or iccs_code = '{UNMAPPED}'
                   ), 0) as sections_and_unmapped
            from {MARTS}.recorded_offences_annual
            group by ref_year, geo
        )
        select *, total - sections_and_unmapped as difference from sums order by all
        """,
        {"sections": _sections(refs)},
    )


def parent_vs_children(con, refs: References, partitions) -> pl.DataFrame:
    """Per year, geo and ICCS code: offences = offences at the code itself + the sum of its
    child codes' offences (a code missing while its children have offences shows too)."""
    return _frame(
        con,
        f"""
        with hierarchy as (
            select unnest($codes) as iccs_code, unnest($parents) as parent
        ),
        annual as (
            select ref_year, geo, iccs_code, offences, offences_at_code
            from {MARTS}.recorded_offences_annual
            where iccs_code in (select iccs_code from hierarchy)
        ),
        children as (
            select annual.ref_year, annual.geo, hierarchy.parent as iccs_code,
                   sum(annual.offences) as children_offences
            from annual
            join hierarchy using (iccs_code)
            where hierarchy.parent is not null
            group by all
        )
        select ref_year, geo, iccs_code,
               coalesce(annual.offences, 0) as offences,
               coalesce(annual.offences_at_code, 0) as offences_at_code,
               coalesce(children.children_offences, 0) as children_offences,
               coalesce(annual.offences, 0) - coalesce(annual.offences_at_code, 0)
                   - coalesce(children.children_offences, 0) as difference
        from annual
        full join children using (ref_year, geo, iccs_code)
        order by all
        """,
        {"codes": [c.code for c in refs.iccs], "parents": [c.parent for c in refs.iccs]},
    )


def country_vs_nuts3(con, refs: References, partitions) -> pl.DataFrame:
    """Per year and ICCS code: the country against the sum of its counties."""
    return _frame(
        con,
        f"""
        with sums as (
            select ref_year, iccs_code,
                   coalesce(sum(offences) filter (where geo = $country), 0) as country,
                   coalesce(sum(offences) filter (where geo <> $country), 0) as nuts3_sum
            from {MARTS}.recorded_offences_annual
            group by ref_year, iccs_code
        )
        select *, country - nuts3_sum as difference from sums order by all
        """,
        {"country": refs.country_code},
    )


def monthly_vs_annual(con, refs: References, partitions) -> pl.DataFrame:
    """Per year, geo (country and counties) and ICCS code: the monthly mart's sum against the
    annual mart's offences classified exactly at that code."""
    return _frame(
        con,
        f"""
        with monthly as (
            select year(ref_month) as ref_year, nuts3 as geo, iccs_code,
                   sum(offences) as offences
            from {MARTS}.recorded_offences
            where nuts3 is not null
            group by all
            union all
            select year(ref_month), $country, iccs_code, sum(offences)
            from {MARTS}.recorded_offences
            group by all
        ),
        annual as (
            select ref_year, geo, iccs_code, offences_at_code as offences
            from {MARTS}.recorded_offences_annual
            where iccs_code <> '{TOTAL}'
        )
        select ref_year, geo, iccs_code,
               coalesce(monthly.offences, 0) as monthly,
               coalesce(annual.offences, 0) as annual,
               coalesce(monthly.offences, 0) - coalesce(annual.offences, 0) as difference
        from monthly
        full join annual using (ref_year, geo, iccs_code)
        where coalesce(monthly.offences, 0) <> 0 or coalesce(annual.offences, 0) <> 0
        order by all
        """,
        {"country": refs.country_code},
    )


def section_coverage(con, refs: References, partitions) -> pl.DataFrame:
    """Per year, every ICCS section the correspondence classifies into, with its national
    offences (0 when the mart has no row)."""
    return _frame(
        con,
        f"""
        with years as (select distinct ref_year from {MARTS}.recorded_offences_annual),
        sections as (select unnest($sections) as iccs_code),
        national as (
            select ref_year, iccs_code, offences
            from {MARTS}.recorded_offences_annual where geo = $country
        )
        select years.ref_year, sections.iccs_code, coalesce(national.offences, 0) as offences
        from years
        cross join sections
        left join national
            on national.ref_year = years.ref_year and national.iccs_code = sections.iccs_code
        order by all
        """,
        {"sections": list(refs.mapped_sections), "country": refs.country_code},
    )


def county_coverage(con, refs: References, partitions) -> pl.DataFrame:
    """Per year, every county of the reference with its total offences (0 when absent)."""
    return _frame(
        con,
        f"""
        with years as (select distinct ref_year from {MARTS}.recorded_offences_annual),
        counties as (select unnest($nuts3) as geo),
        totals as (
            select ref_year, geo, offences
            from {MARTS}.recorded_offences_annual where iccs_code = '{TOTAL}'
        )
        select years.ref_year, counties.geo, coalesce(totals.offences, 0) as offences
        from years
        cross join counties
        left join totals on totals.ref_year = years.ref_year and totals.geo = counties.geo
        order by all
        """,
        {"nuts3": list(refs.nuts3_codes)},
    )


def municipality_coverage(con, refs: References, partitions) -> pl.DataFrame:
    """Per year, every municipality of the reference with its offences (0 when absent)."""
    return _frame(
        con,
        f"""
        with years as (
            select distinct year(ref_month) as ref_year from {MARTS}.recorded_offences
        ),
        municipalities as (select unnest($municipalities) as municipality),
        counts as (
            select year(ref_month) as ref_year, municipality, sum(offences) as offences
            from {MARTS}.recorded_offences
            group by all
        )
        select years.ref_year, municipalities.municipality,
               coalesce(counts.offences, 0) as offences
        from years
        cross join municipalities
        left join counts
            on counts.ref_year = years.ref_year
            and counts.municipality = municipalities.municipality
        order by all
        """,
        {"municipalities": list(refs.municipalities)},
    )


def month_continuity(mart_name: str, measure: str) -> FrameQuery:
    """Every month from the mart's first to its last, with its total (0 for a gap)."""

    def query(con, refs, partitions) -> pl.DataFrame:
        return _frame(
            con,
            f"""
            with bounds as (
                select min(ref_month) as first_month, max(ref_month) as last_month
                from {MARTS}.{mart_name}
            ),
            months as (
                select cast(unnest(generate_series(first_month, last_month, interval 1 month))
                            as date) as ref_month
                from bounds
            ),
            totals as (
                select ref_month, sum({measure}) as {measure}
                from {MARTS}.{mart_name} group by ref_month
            )
            select months.ref_month, coalesce(totals.{measure}, 0) as {measure}
            from months
            left join totals using (ref_month)
            order by all
            """,
        )

    return query


def year_on_year(cells: str, columns: tuple[str, ...], complete_years: str) -> FrameQuery:
    """Change from one complete year to the next per cell, for cells with at least
    YOY_MIN_CASES cases in either year; `change` = (this - previous) / max(previous, 1).

    `cells`: SQL giving (ref_year, *columns, cases); `complete_years`: SQL giving the years
    with all twelve months of data (comparing a partial year would flag every cell).
    """
    column_list = ", ".join(columns)

    def query(con, refs, partitions) -> pl.DataFrame:
        return _frame(
            con,
            f"""
            with cells as ({cells}),
            complete_years as ({complete_years}),
            compared_years as (
                select ref_year from complete_years
                where ref_year - 1 in (select ref_year from complete_years)
            ),
            this_year as (
                select ref_year, {column_list}, cases
                from cells where ref_year in (select ref_year from compared_years)
            ),
            previous_year as (
                select ref_year + 1 as ref_year, {column_list}, cases
                from cells where ref_year + 1 in (select ref_year from compared_years)
            )
            select ref_year, {column_list},
                   coalesce(previous_year.cases, 0) as previous_cases,
                   coalesce(this_year.cases, 0) as cases,
                   round((coalesce(this_year.cases, 0) - coalesce(previous_year.cases, 0))
                         / greatest(coalesce(previous_year.cases, 0), 1), 3) as change
            from this_year
            full join previous_year using (ref_year, {column_list})
            where greatest(coalesce(this_year.cases, 0), coalesce(previous_year.cases, 0))
                  >= $min_cases
            order by all
            """,
            {"min_cases": YOY_MIN_CASES},
        )

    return query


def complete_years_of_months(table: str, month_expression: str) -> str:
    """SQL of the years in which `table` has data in all twelve months."""
    return f"""
        select year({month_expression}) as ref_year from {table}
        group by 1 having count(distinct month({month_expression})) = 12
    """


def persons_counted_once(
    mart_name: str, period: str, period_of_final_at: str, *, built_periods_only: bool = False
) -> FrameQuery:
    """Per period (`period`, a column of the mart; `period_of_final_at`, the same period
    computed from int_convictions_final) and ECRIS origin: persons in the mart against
    distinct persons with a final conviction (each person counted exactly once a period).

    `built_periods_only`: for a mart built month by month, only the periods from its first
    to its last are compared (convictions final in months never built are not missing)."""
    scope = (
        f"where {period_of_final_at} between (select min({period}) from {MARTS}.{mart_name}) "
        f"and (select max({period}) from {MARTS}.{mart_name})"
        if built_periods_only
        else ""
    )

    def query(con, refs, partitions) -> pl.DataFrame:
        return _frame(
            con,
            f"""
            with counted as (
                select {period}, via_ecris, sum(persons) as persons
                from {MARTS}.{mart_name} group by all
            ),
            convicted as (
                select {period_of_final_at} as {period}, via_ecris,
                       count(distinct person_key) as distinct_persons
                from intermediate.int_convictions_final {scope} group by all
            )
            select {period}, via_ecris,
                   coalesce(counted.persons, 0) as persons,
                   coalesce(convicted.distinct_persons, 0) as distinct_persons,
                   coalesce(counted.persons, 0) - coalesce(convicted.distinct_persons, 0)
                       as difference
            from counted
            full join convicted using ({period}, via_ecris)
            order by all
            """,
        )

    return query


def solved_vs_recorded(con, refs, partitions) -> pl.DataFrame:
    """Per county and ICCS code over all months: solved offences beyond recorded ones (every
    solved offence is a recorded one, so the excess must not be positive)."""
    return _frame(
        con,
        f"""
        with solved as (
            select nuts3, iccs_code, sum(offences) as solved
            from {MARTS}.solved_offences group by all
        ),
        recorded as (
            select nuts3, iccs_code, sum(offences) as recorded
            from {MARTS}.recorded_offences group by all
        )
        select nuts3, iccs_code, solved.solved, coalesce(recorded.recorded, 0) as recorded,
               solved.solved - coalesce(recorded.recorded, 0) as excess
        from solved
        left join recorded using (nuts3, iccs_code)
        order by all
        """,
    )


def seizures_vs_violations(con, refs, partitions) -> pl.DataFrame:
    """Per month: violations with seizures of a category beyond all violations of the month."""
    return _frame(
        con,
        f"""
        with seized as (
            select ref_month, max(violations) as violations_with_seizures
            from {MARTS}.customs_seizures group by ref_month
        ),
        detected as (
            select ref_month, sum(violations) as violations
            from {MARTS}.customs_violations group by ref_month
        )
        select ref_month, seized.violations_with_seizures,
               coalesce(detected.violations, 0) as violations,
               seized.violations_with_seizures - coalesce(detected.violations, 0) as excess
        from seized
        left join detected using (ref_month)
        order by all
        """,
    )
