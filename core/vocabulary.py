"""The terms of the statistics, defined once: the codes the marts, the quality suites, the
SDMX code lists, the partner tables, the synthetic registers and the dashboards all spell the
same way. (The registers' own formats, their fields and code sets such as the sanctions, are
core.contracts'.)

Codes follow Eurostat's code lists (CL_SEX, CL_AGE, CL_CITIZEN) where a list exists; the age
groups are the rule of the dbt macros age_group and age_group_broad (macros/classification.sql),
the citizenship groups that of the dbt model int_convictions_final (NAT the country's own
citizens, EU27_2020_FOR other EU citizens, NEU27_2020_FOR others, STLS stateless, UNK not
recorded).
"""

from __future__ import annotations

from dataclasses import dataclass

TOTAL = "TOTAL"  # the total of a breakdown (CL_SEX's is T)
UNMAPPED = "UNMAPPED"  # a national offence code with no ICCS correspondence
UNKNOWN = "UNK"  # an age or citizenship not recorded (CL_AGE's, CL_CITIZEN's, CL_COUNTRY's)
PERSONS = "persons"  # the measure of the tables of persons convicted
DATAFLOWS_OF_PERSONS = ("CRIM_JUST", "EJ_XB_CONV")
DOMESTIC, ECRIS = "DOM", "ECRIS"  # origins of a conviction: the codes of CL_ECRIS

# CL_CITIZEN's groups of persons convicted, with CL_CITIZEN's names.
CITIZEN_GROUPS = {
    "NAT": "Reporting country",
    "EU27_2020_FOR": "EU27 countries (from 2020) except reporting country",
    "NEU27_2020_FOR": "Non-EU27 countries (from 2020) nor reporting country",
    "STLS": "Stateless",
    UNKNOWN: "Unknown",
}

# CL_AGE's two broad age groups at judgment, with their names: every age group is in one.
MINORS = "Y_LT18"
ADULTS = "Y_GE18"
BROAD_AGE_GROUPS = {MINORS: "Less than 18 years", ADULTS: "18 years or over"}


@dataclass(frozen=True)
class AgeGroup:
    """An age group at judgment (CL_AGE): whole years from `youngest` to `oldest` (None: the
    open top group)."""

    code: str
    youngest: int
    oldest: int | None = None

    @property
    def broad(self) -> str:
        return MINORS if self.oldest is not None and self.oldest < 18 else ADULTS

    @property
    def name(self) -> str:
        """CL_AGE's name of the group."""
        if self.oldest is None:
            return f"{self.youngest} years or over"
        return f"From {self.youngest} to {self.oldest} years"


# Persons are convicted from the age of criminal responsibility, 14.
AGE_GROUPS = (
    AgeGroup("Y14-17", 14, 17),
    AgeGroup("Y18-24", 18, 24),
    AgeGroup("Y25-34", 25, 34),
    AgeGroup("Y35-44", 35, 44),
    AgeGroup("Y45-54", 45, 54),
    AgeGroup("Y55-64", 55, 64),
    AgeGroup("Y_GE65", 65),
)
# The mart's age_group -> age_group_broad (an unknown age stays unknown).
BROAD_AGE_GROUP = {group.code: group.broad for group in AGE_GROUPS} | {UNKNOWN: UNKNOWN}

# The grain of each mart: the columns that identify one of its rows (dbt's models make them
# so; the mart suites check it).
MART_GRAINS = {
    "recorded_offences": ("ref_month", "municipality", "iccs_code", "attempt"),
    "recorded_offences_annual": ("ref_year", "geo", "iccs_code"),
    "solved_offences": ("ref_month", "nuts3", "iccs_code"),
    "persons_convicted": (
        "ref_year", "iccs_code", "sex", "age_group", "citizen_group", "sanction", "via_ecris",
    ),
    "persons_convicted_by_citizenship": (
        "ref_month", "citizenship", "iccs_code", "sex", "age_group", "via_ecris",
    ),
    "customs_violations": ("ref_month", "violation_type", "border_section", "procedure"),
    "customs_seizures": ("ref_month", "goods_category", "unit"),
}  # fmt: skip
