"""Statistical plausibility on the marts (SPEC 6): no negative counts, codes in their code
lists, totals that reconcile across breakdowns, coverage, population for every rate,
year-on-year change within bounds.

Severity follows what a wrong figure would do if published: anything that makes published
numbers contradict each other or the code lists is critical (blocks publication); what is
only implausible (a gap in coverage, a jump between years) is a warning for a statistician to
look at, because real data can do it.
"""

from __future__ import annotations

from great_expectations.expectations import Expectation
from great_expectations.expectations.row_conditions import Column

from core import contracts as c
from core.vocabulary import (
    BROAD_AGE_GROUP,
    CITIZEN_GROUPS,
    MART_GRAINS,
    TOTAL,
    UNKNOWN,
    UNMAPPED,
)
from quality import expect, frames
from quality.definitions import WARNING, FrameCheck, Suite
from quality.frames import YOY_MAX_CHANGE
from quality.references import STATISTICS_OLDEST, References

# A published rate may differ from offences * 100000 / population by its rounding only.
RATE_TOLERANCE = 0.01


def months(refs: References) -> Expectation:
    return expect.between("ref_month", STATISTICS_OLDEST, refs.now)


def years(refs: References) -> Expectation:
    return expect.between("ref_year", STATISTICS_OLDEST.year, refs.now.year)


def counts(*columns: str) -> list[Expectation]:
    """Present and not negative."""
    return [e for name in columns for e in (expect.not_null(name), expect.between(name, 0))]


def classified(refs: References) -> list[str]:
    return [*refs.iccs_codes, UNMAPPED]


def mart_check(name: str, keys: tuple[str, ...], expectations, derived: str = "") -> FrameCheck:
    return FrameCheck(
        name=f"marts.{name}",
        description=f"the rows of marts.{name}",
        keys=keys,
        query=frames.mart(name, derived),
        expectations=expectations,
    )


def pairs(name: str, mart_name: str, columns: tuple[str, str], description: str, allowed):
    """A rule on a pair of columns (a municipality's county, a code's level), checked on the
    mart's distinct pairs; `allowed(refs)` gives the pairs allowed."""
    return FrameCheck(
        name=name,
        description=description,
        keys=(*columns, "mart_rows"),
        query=frames.distinct_pairs(mart_name, *columns),
        expectations=lambda refs: [expect.pair_in_set(*columns, allowed(refs))],
    )


def coverage(name: str, description: str, keys: tuple[str, ...], query, measure: str):
    """Zero where data is expected: implausible at national scale, yet possible (a partial
    year, a small municipality), so a warning."""
    return FrameCheck(
        name=name,
        description=description,
        keys=keys,
        query=query,
        expectations=lambda refs: [expect.between(measure, 1, severity=WARNING)],
    )


def reconciliation(name: str, description: str, keys: tuple[str, ...], query) -> FrameCheck:
    return FrameCheck(
        name=name,
        description=description,
        keys=keys,
        query=query,
        expectations=lambda refs: [expect.equals("difference", 0)],
    )


def year_on_year(name: str, keys: tuple[str, ...], cells: str, complete_years: str):
    return FrameCheck(
        name=name,
        description=(
            f"year-on-year change within ±{YOY_MAX_CHANGE:.0%} for cells of at least "
            f"{frames.YOY_MIN_CASES} cases (complete years only)"
        ),
        keys=("ref_year", *keys, "previous_cases", "cases"),
        query=frames.year_on_year(cells, keys, complete_years),
        expectations=lambda refs: [
            expect.between("change", -YOY_MAX_CHANGE, YOY_MAX_CHANGE, severity=WARNING)
        ],
    )


# --------------------------------------------------------------------------------------
# Recorded offences, monthly
# --------------------------------------------------------------------------------------

RECORDED_GRAIN = MART_GRAINS["recorded_offences"]


def recorded_rows(refs: References) -> list[Expectation]:
    return [
        *[expect.not_null(name) for name in (*RECORDED_GRAIN, "nuts3")],
        *counts("offences"),
        months(refs),
        expect.in_set("municipality", refs.municipalities),
        expect.in_set("nuts3", refs.nuts3_codes),
        expect.in_set("iccs_code", classified(refs)),
        expect.unique(*RECORDED_GRAIN),
    ]


MART_RECORDED_OFFENCES = Suite(
    name="mart_recorded_offences",
    asset_key=("marts", "recorded_offences"),
    description="Recorded offences by month, municipality and ICCS code (SPEC 5)",
    checks=(
        mart_check("recorded_offences", RECORDED_GRAIN, recorded_rows),
        pairs(
            "municipality_nuts3",
            "recorded_offences",
            ("municipality", "nuts3"),
            "each municipality in the county (NUTS3) the reference puts it in",
            lambda refs: refs.municipality_nuts3,
        ),
        coverage(
            "municipality_coverage",
            "every municipality has recorded offences in every year",
            ("ref_year", "municipality"),
            frames.municipality_coverage,
            "offences",
        ),
        coverage(
            "recorded_month_continuity",
            "every month between the first and the last has recorded offences",
            ("ref_month",),
            frames.month_continuity("recorded_offences", "offences"),
            "offences",
        ),
    ),
)

# --------------------------------------------------------------------------------------
# Recorded offences, annual (country and counties, every ICCS level, rates)
# --------------------------------------------------------------------------------------

ANNUAL_GRAIN = MART_GRAINS["recorded_offences_annual"]
RATE_ERROR = "rate_per_100k - round(offences * 100000.0 / population, 2) as rate_error"


def annual_rows(refs: References) -> list[Expectation]:
    rate_given = Column("rate_per_100k").is_not_null()
    return [
        *[expect.not_null(name) for name in (*ANNUAL_GRAIN, "rate_per_100k")],
        *counts("offences", "offences_at_code"),
        expect.at_least("offences", "offences_at_code"),
        years(refs),
        expect.in_set("iccs_code", [*classified(refs), TOTAL]),
        expect.not_null("iccs_level", when=Column("iccs_code") != UNMAPPED),
        expect.in_set("geo", [refs.country_code, *refs.nuts3_codes]),
        expect.not_null("geo_level"),
        expect.unique(*ANNUAL_GRAIN),
        expect.not_null("population", when=rate_given),
        expect.between("population", 1, when=rate_given),
        expect.between("rate_error", -RATE_TOLERANCE, RATE_TOLERANCE),
    ]


MART_RECORDED_OFFENCES_ANNUAL = Suite(
    name="mart_recorded_offences_annual",
    asset_key=("marts", "recorded_offences_annual"),
    description=(
        "Recorded offences per year for the country and its counties at every ICCS level, "
        "with rates per 100,000 inhabitants (SPEC 5)"
    ),
    checks=(
        mart_check("recorded_offences_annual", ANNUAL_GRAIN, annual_rows, RATE_ERROR),
        pairs(
            "iccs_levels",
            "recorded_offences_annual",
            ("iccs_code", "iccs_level"),
            "each ICCS code at its level of the code list (TOTAL at 0)",
            lambda refs: [*((i.code, i.level) for i in refs.iccs), (TOTAL, 0)],
        ),
        pairs(
            "geo_levels",
            "recorded_offences_annual",
            ("geo", "geo_level"),
            "the country at level COUNTRY, its counties at NUTS3",
            lambda refs: [
                (refs.country_code, "COUNTRY"),
                *((code, "NUTS3") for code in refs.nuts3_codes),
            ],
        ),
        reconciliation(
            "total_vs_sections",
            "per year and geo: TOTAL = sum of the ICCS sections + UNMAPPED",
            ("ref_year", "geo", "total", "sections_and_unmapped"),
            frames.total_vs_sections,
        ),
        reconciliation(
            "parent_vs_children",
            "per year, geo and ICCS code: offences = offences at the code + its children's",
            ("ref_year", "geo", "iccs_code", "offences", "offences_at_code", "children_offences"),
            frames.parent_vs_children,
        ),
        reconciliation(
            "country_vs_nuts3",
            "per year and ICCS code: country = sum of its counties (NUTS3)",
            ("ref_year", "iccs_code", "country", "nuts3_sum"),
            frames.country_vs_nuts3,
        ),
        reconciliation(
            "monthly_vs_annual",
            "per year, geo and ICCS code: the monthly mart's sum = the annual mart",
            ("ref_year", "geo", "iccs_code", "monthly", "annual"),
            frames.monthly_vs_annual,
        ),
        coverage(
            "iccs_section_coverage",
            "every ICCS section the correspondence classifies into has offences every year",
            ("ref_year", "iccs_code"),
            frames.section_coverage,
            "offences",
        ),
        coverage(
            "county_coverage",
            "every county has offences every year",
            ("ref_year", "geo"),
            frames.county_coverage,
            "offences",
        ),
        year_on_year(
            "recorded_year_on_year",
            ("geo", "iccs_code"),
            "select ref_year, geo, iccs_code, offences as cases "
            f"from {frames.MARTS}.recorded_offences_annual",
            frames.complete_years_of_months(f"{frames.MARTS}.recorded_offences", "ref_month"),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# Solved offences
# --------------------------------------------------------------------------------------

SOLVED_GRAIN = MART_GRAINS["solved_offences"]


def solved_rows(refs: References) -> list[Expectation]:
    return [
        *[expect.not_null(name) for name in SOLVED_GRAIN],
        *counts("offences"),
        months(refs),
        expect.in_set("nuts3", refs.nuts3_codes),
        expect.in_set("iccs_code", classified(refs)),
        expect.unique(*SOLVED_GRAIN),
    ]


MART_SOLVED_OFFENCES = Suite(
    name="mart_solved_offences",
    asset_key=("marts", "solved_offences"),
    description="Solved offences by month of the solving decision, county and ICCS code",
    checks=(
        mart_check("solved_offences", SOLVED_GRAIN, solved_rows),
        FrameCheck(
            name="solved_vs_recorded",
            description="per county and ICCS code: no more solved than recorded offences",
            keys=("nuts3", "iccs_code", "solved", "recorded"),
            query=frames.solved_vs_recorded,
            expectations=lambda refs: [expect.between("excess", None, 0)],
        ),
    ),
)

# --------------------------------------------------------------------------------------
# Persons convicted
# --------------------------------------------------------------------------------------

CONVICTED_GRAIN = MART_GRAINS["persons_convicted"]


def convicted_rows(refs: References) -> list[Expectation]:
    return [
        *[expect.not_null(name) for name in (*CONVICTED_GRAIN, "age_group_broad")],
        *counts("persons"),
        years(refs),
        expect.in_set("iccs_code", classified(refs)),
        expect.in_set("sex", c.SEXES),
        expect.in_set("age_group", BROAD_AGE_GROUP),
        expect.in_set("citizen_group", CITIZEN_GROUPS),
        expect.in_set("sanction", c.SANCTIONS),
        expect.unique(*CONVICTED_GRAIN),
    ]


MART_PERSONS_CONVICTED = Suite(
    name="mart_persons_convicted",
    asset_key=("marts", "persons_convicted"),
    description=(
        "Persons convicted per year under their main offence, by sex, age, citizenship and "
        "sanction; ECRIS apart (SPEC 5)"
    ),
    checks=(
        mart_check("persons_convicted", CONVICTED_GRAIN, convicted_rows),
        pairs(
            "age_groups",
            "persons_convicted",
            ("age_group", "age_group_broad"),
            "each age group in its aggregate (Y14-17 in Y_LT18, older in Y_GE18)",
            lambda refs: BROAD_AGE_GROUP.items(),
        ),
        reconciliation(
            "persons_counted_once",
            "per year and ECRIS origin: persons = distinct persons with a final conviction",
            ("ref_year", "via_ecris", "persons", "distinct_persons"),
            frames.persons_counted_once("persons_convicted", "ref_year", "ref_year"),
        ),
        year_on_year(
            "convicted_year_on_year",
            ("iccs_code", "via_ecris"),
            "select ref_year, iccs_code, via_ecris, sum(persons) as cases "
            f"from {frames.MARTS}.persons_convicted group by all",
            frames.complete_years_of_months("intermediate.int_convictions_final", "final_at"),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# Persons convicted by month and citizenship (partner extracts)
# --------------------------------------------------------------------------------------

BY_CITIZENSHIP_GRAIN = MART_GRAINS["persons_convicted_by_citizenship"]


def by_citizenship_rows(refs: References) -> list[Expectation]:
    return [
        *[expect.not_null(name) for name in BY_CITIZENSHIP_GRAIN],
        *counts("persons"),
        months(refs),
        expect.in_set("citizenship", [*refs.citizenships, UNKNOWN]),
        expect.in_set("iccs_code", classified(refs)),
        expect.in_set("sex", c.SEXES),
        expect.in_set("age_group", BROAD_AGE_GROUP),
        expect.unique(*BY_CITIZENSHIP_GRAIN),
    ]


MART_PERSONS_CONVICTED_BY_CITIZENSHIP = Suite(
    name="mart_persons_convicted_by_citizenship",
    asset_key=("marts", "persons_convicted_by_citizenship"),
    description=(
        "Persons convicted per month under their main offence, by citizenship country, sex and "
        "age; ECRIS apart. Not reconciled with the yearly persons_convicted: a person "
        "convicted in two months of a year counts once in each month but once in the year"
    ),
    checks=(
        mart_check("persons_convicted_by_citizenship", BY_CITIZENSHIP_GRAIN, by_citizenship_rows),
        reconciliation(
            "persons_counted_once_a_month",
            "per month built and ECRIS origin: persons = distinct persons with a final conviction",
            ("ref_month", "via_ecris", "persons", "distinct_persons"),
            frames.persons_counted_once(
                "persons_convicted_by_citizenship",
                "ref_month",
                "cast(date_trunc('month', final_at) as date)",
                built_periods_only=True,
            ),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# Customs
# --------------------------------------------------------------------------------------

VIOLATIONS_GRAIN = MART_GRAINS["customs_violations"]
SEIZURES_GRAIN = MART_GRAINS["customs_seizures"]


def violations_rows(refs: References) -> list[Expectation]:
    return [
        *[expect.not_null(name) for name in VIOLATIONS_GRAIN],
        *counts("violations"),
        months(refs),
        expect.in_set("violation_type", c.VIOLATION_TYPES),
        expect.in_set("border_section", c.BORDER_SECTIONS),
        expect.in_set("procedure", c.PROCEDURES),
        expect.unique(*VIOLATIONS_GRAIN),
    ]


def seizures_rows(refs: References) -> list[Expectation]:
    return [
        *[expect.not_null(name) for name in SEIZURES_GRAIN],
        *counts("quantity", "value_eur", "seizure_lines", "violations"),
        expect.at_least("seizure_lines", "violations"),
        months(refs),
        expect.in_set("goods_category", c.GOODS_CATEGORIES),
        expect.in_set("unit", c.SEIZURE_UNITS),
        expect.unique(*SEIZURES_GRAIN),
    ]


MART_CUSTOMS_VIOLATIONS = Suite(
    name="mart_customs_violations",
    asset_key=("marts", "customs_violations"),
    description="Customs violations by month, type, border section and procedure (SPEC 5)",
    checks=(
        mart_check("customs_violations", VIOLATIONS_GRAIN, violations_rows),
        coverage(
            "customs_month_continuity",
            "every month between the first and the last has customs violations",
            ("ref_month",),
            frames.month_continuity("customs_violations", "violations"),
            "violations",
        ),
        year_on_year(
            "customs_year_on_year",
            ("violation_type",),
            "select year(ref_month) as ref_year, violation_type, sum(violations) as cases "
            f"from {frames.MARTS}.customs_violations group by all",
            frames.complete_years_of_months(f"{frames.MARTS}.customs_violations", "ref_month"),
        ),
    ),
)

MART_CUSTOMS_SEIZURES = Suite(
    name="mart_customs_seizures",
    asset_key=("marts", "customs_seizures"),
    description="Seized goods by month and goods category, each in its own unit (SPEC 5)",
    checks=(
        mart_check("customs_seizures", SEIZURES_GRAIN, seizures_rows),
        FrameCheck(
            name="seizures_vs_violations",
            description="per month: violations with seizures of a category <= all violations",
            keys=("ref_month", "violations_with_seizures", "violations"),
            query=frames.seizures_vs_violations,
            expectations=lambda refs: [expect.between("excess", None, 0)],
        ),
    ),
)

# --------------------------------------------------------------------------------------
# Unmapped offence codes (SPEC 3.6: reported, never dropped; must be empty to publish)
# --------------------------------------------------------------------------------------

MART_UNMAPPED_OFFENCE_CODES = Suite(
    name="mart_unmapped_offence_codes",
    asset_key=("marts", "unmapped_offence_codes"),
    description="Offence codes seen in the data that the ICCS correspondence does not map",
    checks=(
        FrameCheck(
            name="marts.unmapped_offence_codes",
            description="no offence code without an ICCS correspondence",
            keys=("offence_code", "register", "records", "versions"),
            query=frames.mart("unmapped_offence_codes"),
            expectations=lambda refs: [expect.no_rows()],
        ),
    ),
)

MART_SUITES = (
    MART_RECORDED_OFFENCES,
    MART_RECORDED_OFFENCES_ANNUAL,
    MART_SOLVED_OFFENCES,
    MART_PERSONS_CONVICTED,
    MART_PERSONS_CONVICTED_BY_CITIZENSHIP,
    MART_CUSTOMS_VIOLATIONS,
    MART_CUSTOMS_SEIZURES,
    MART_UNMAPPED_OFFENCE_CODES,
)
