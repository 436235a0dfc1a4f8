"""The terms every floor shares, defined once: the codes the marts, the quality suites, the
SDMX code lists, the partner tables and the dashboards all spell the same way.

Codes follow Eurostat's code lists (CL_SEX, CL_AGE, CL_CITIZEN) where a list exists; the
citizenship groups are the rule of the dbt model int_convictions_final (NAT the country's own
citizens, EU27_2020_FOR other EU citizens, NEU27_2020_FOR others, STLS stateless, UNK not
recorded).
"""

from __future__ import annotations

TOTAL = "TOTAL"  # the total of a breakdown (CL_SEX's is T)
UNMAPPED = "UNMAPPED"  # a national offence code with no ICCS correspondence
PERSONS = "persons"  # the measure of the tables of persons convicted
CITIZEN_GROUPS = ("NAT", "EU27_2020_FOR", "NEU27_2020_FOR", "STLS", "UNK")
DATAFLOWS_OF_PERSONS = ("CRIM_JUST", "EJ_XB_CONV")
DOMESTIC, ECRIS = "DOM", "ECRIS"  # origins of a conviction: the codes of CL_ECRIS
