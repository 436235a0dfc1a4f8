"""The counting rules of SPEC 5, checked on hand-written register rows with hand-computed
numbers.

One warehouse is built for the whole module, in stages, each a dbt invocation:
  1. wave 1 (everything the registers had written by T1 = 2024-02-01), dbt build: the
     release "built at T1";
  2. wave 2 arrives (reclassification, annulment, late registration, appeal, customs
     correction, all written after T1), dbt build with as_of = T1: must equal stage 1;
  3. dbt build without as_of: the latest state;
  4. wave 3 arrives, dbt build of the monthly marts (and their ancestors) for the window
     2023-02..2023-03 only;
  5. dbt docs generate.
Each stage's marts are kept as a snapshot the tests read.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from dbt_fixtures import (
    MONTHLY_MARTS,
    DbtRun,
    RawWriter,
    create_raw_warehouse,
    fetch,
    run_dbt,
    snapshot_marts,
)

T1 = "2024-02-01 00:00:00"
WINDOW = {"month_from": "2023-02", "month_to": "2023-03"}

# Population of the seed county_population.csv (hand-copied: the rate checks must not read
# the seed through the code under test).
POPULATION_2023 = {"LT011": 851346, "LT022": 580333, "LT023": 336104, "LT026": 261764}
POPULATION_2020 = {"LT011": 820725}
COUNTRY_POPULATION_2023 = 2860002  # sum of the ten counties' 2023 figures
COUNTRY_POPULATION_2020 = 2794329  # sum of the ten counties' 2020 figures

VILNIUS = "Vilniaus m. sav."  # LT011
KAUNAS = "Kauno m. sav."  # LT022
KLAIPEDA = "Klaipėdos m. sav."  # LT023
ALYTUS = "Alytaus m. sav."  # LT021
SIAULIAI = "Šiaulių m. sav."  # LT026

# --------------------------------------------------------------------------------------
# Wave 1: written before T1.
# --------------------------------------------------------------------------------------
WAVE1_INCIDENTS = [
    # E01: registered in December, pre-trial started in January -> a January offence.
    # Its version 2 is delivered again in a February file (re-sent extract): counted once.
    {"event_id": "E01", "version": 1, "written_at": "2022-12-28 10:00:00",
     "registered_at": "2022-12-28 10:00:00", "municipality": VILNIUS,
     "offence_code": "BK178-1", "status": "registered"},
    {"event_id": "E01", "version": 2, "written_at": "2023-01-03 09:00:00",
     "registered_at": "2022-12-28 10:00:00", "municipality": VILNIUS,
     "offence_code": "BK178-1", "status": "pretrial_started",
     "pretrial_started_at": "2023-01-03 09:00:00"},
    {"event_id": "E01", "version": 2, "written_at": "2023-01-03 09:00:00",
     "registered_at": "2022-12-28 10:00:00", "municipality": VILNIUS,
     "offence_code": "BK178-1", "status": "pretrial_started",
     "pretrial_started_at": "2023-01-03 09:00:00", "_partition": "2023-02",
     "_file": "incidents/2023-02/incidents_2023-02-01.csv.gz"},
    # E02: registered, no pre-trial investigation: not recorded.
    {"event_id": "E02", "version": 1, "written_at": "2023-01-10 12:00:00",
     "municipality": VILNIUS, "offence_code": "BK178-1", "status": "registered"},
    # E03: annulled: not recorded.
    {"event_id": "E03", "version": 1, "written_at": "2023-01-05 08:00:00",
     "municipality": KAUNAS, "offence_code": "BK180", "status": "pretrial_started",
     "pretrial_started_at": "2023-01-05 08:00:00"},
    {"event_id": "E03", "version": 2, "written_at": "2023-01-20 08:00:00",
     "municipality": KAUNAS, "offence_code": "BK180", "status": "annulled",
     "pretrial_started_at": "2023-01-05 08:00:00", "decision_at": "2023-01-20 08:00:00"},
    # E04: non-severe health impairment (020111); reclassified after T1 (wave 2).
    {"event_id": "E04", "version": 1, "written_at": "2023-01-20 14:00:00",
     "municipality": KAUNAS, "offence_code": "BK138", "status": "pretrial_started",
     "pretrial_started_at": "2023-01-20 14:00:00"},
    # E05: attempted murder -> 0102; E06: murder -> 0101; E07: attempted theft -> 0502.
    {"event_id": "E05", "version": 1, "written_at": "2023-02-01 10:00:00",
     "municipality": KAUNAS, "offence_code": "BK129", "attempt": True,
     "status": "pretrial_started", "pretrial_started_at": "2023-02-01 10:00:00"},
    {"event_id": "E06", "version": 1, "written_at": "2023-02-02 10:00:00",
     "municipality": KAUNAS, "offence_code": "BK129", "attempt": False,
     "status": "pretrial_started", "pretrial_started_at": "2023-02-02 10:00:00"},
    {"event_id": "E07", "version": 1, "written_at": "2023-02-03 10:00:00",
     "municipality": VILNIUS, "offence_code": "BK178-1", "attempt": True,
     "status": "pretrial_started", "pretrial_started_at": "2023-02-03 10:00:00"},
    # E08: administrative offence, E09: non-criminal incident: never recorded offences.
    {"event_id": "E08", "version": 1, "written_at": "2023-02-04 10:00:00",
     "municipality": VILNIUS, "event_kind": "administrative", "offence_code": "ANK123",
     "status": "registered"},
    {"event_id": "E09", "version": 1, "written_at": "2023-02-04 11:00:00",
     "municipality": VILNIUS, "event_kind": "incident", "offence_code": None,
     "status": "registered"},
    # E10: a criminal code the correspondence does not know: UNMAPPED, still counted.
    {"event_id": "E10", "version": 1, "written_at": "2023-03-01 10:00:00",
     "municipality": KLAIPEDA, "offence_code": "BK999", "status": "pretrial_started",
     "pretrial_started_at": "2023-03-01 10:00:00"},
    # E11: fraud (0701), annulled after T1 (wave 2).
    {"event_id": "E11", "version": 1, "written_at": "2023-03-10 10:00:00",
     "municipality": KLAIPEDA, "offence_code": "BK182", "status": "pretrial_started",
     "pretrial_started_at": "2023-03-10 10:00:00"},
    # E13: robbery recorded in January, solved in February, sent to court in April:
    # solved once, in February.
    {"event_id": "E13", "version": 1, "written_at": "2023-01-05 10:00:00",
     "municipality": VILNIUS, "offence_code": "BK180", "status": "pretrial_started",
     "pretrial_started_at": "2023-01-05 10:00:00"},
    {"event_id": "E13", "version": 2, "written_at": "2023-02-10 10:00:00",
     "municipality": VILNIUS, "offence_code": "BK180", "status": "solved",
     "pretrial_started_at": "2023-01-05 10:00:00", "decision_at": "2023-02-10 09:00:00"},
    {"event_id": "E13", "version": 3, "written_at": "2023-04-01 10:00:00",
     "municipality": VILNIUS, "offence_code": "BK180", "status": "sent_to_court",
     "pretrial_started_at": "2023-01-05 10:00:00", "decision_at": "2023-04-01 09:00:00"},
    # E14: burglary of a dwelling recorded December 2022, sent to court January 2023.
    {"event_id": "E14", "version": 1, "written_at": "2022-12-20 10:00:00",
     "municipality": VILNIUS, "offence_code": "BK178-2", "status": "pretrial_started",
     "pretrial_started_at": "2022-12-20 10:00:00"},
    {"event_id": "E14", "version": 2, "written_at": "2023-01-15 10:00:00",
     "municipality": VILNIUS, "offence_code": "BK178-2", "status": "sent_to_court",
     "pretrial_started_at": "2022-12-20 10:00:00", "decision_at": "2023-01-15 09:00:00"},
    # E15: solved, then annulled: neither recorded nor solved.
    {"event_id": "E15", "version": 1, "written_at": "2023-01-08 10:00:00",
     "municipality": KAUNAS, "offence_code": "BK182", "status": "pretrial_started",
     "pretrial_started_at": "2023-01-08 10:00:00"},
    {"event_id": "E15", "version": 2, "written_at": "2023-01-25 10:00:00",
     "municipality": KAUNAS, "offence_code": "BK182", "status": "solved",
     "pretrial_started_at": "2023-01-08 10:00:00", "decision_at": "2023-01-25 09:00:00"},
    {"event_id": "E15", "version": 3, "written_at": "2023-01-30 10:00:00",
     "municipality": KAUNAS, "offence_code": "BK182", "status": "annulled",
     "pretrial_started_at": "2023-01-08 10:00:00", "decision_at": "2023-01-30 09:00:00"},
    # E16: property damage (0504), solved only after T1 (wave 2).
    {"event_id": "E16", "version": 1, "written_at": "2023-02-05 10:00:00",
     "municipality": KAUNAS, "offence_code": "BK187", "status": "pretrial_started",
     "pretrial_started_at": "2023-02-05 10:00:00"},
    # E17: solved in February, reopened in March, solved again in May: solved in May.
    {"event_id": "E17", "version": 1, "written_at": "2023-01-10 10:00:00",
     "municipality": SIAULIAI, "offence_code": "BK178-1", "status": "pretrial_started",
     "pretrial_started_at": "2023-01-10 10:00:00"},
    {"event_id": "E17", "version": 2, "written_at": "2023-02-01 10:00:00",
     "municipality": SIAULIAI, "offence_code": "BK178-1", "status": "solved",
     "pretrial_started_at": "2023-01-10 10:00:00", "decision_at": "2023-02-01 09:00:00"},
    {"event_id": "E17", "version": 3, "written_at": "2023-03-01 10:00:00",
     "municipality": SIAULIAI, "offence_code": "BK178-1", "status": "pretrial_started",
     "pretrial_started_at": "2023-01-10 10:00:00", "decision_at": "2023-03-01 09:00:00"},
    {"event_id": "E17", "version": 4, "written_at": "2023-05-01 10:00:00",
     "municipality": SIAULIAI, "offence_code": "BK178-1", "status": "solved",
     "pretrial_started_at": "2023-01-10 10:00:00", "decision_at": "2023-05-01 09:00:00"},
    # E18: solved in March, then closed in June: solved in March.
    {"event_id": "E18", "version": 1, "written_at": "2023-01-11 10:00:00",
     "municipality": SIAULIAI, "offence_code": "BK178-1", "status": "pretrial_started",
     "pretrial_started_at": "2023-01-11 10:00:00"},
    {"event_id": "E18", "version": 2, "written_at": "2023-03-05 10:00:00",
     "municipality": SIAULIAI, "offence_code": "BK178-1", "status": "solved",
     "pretrial_started_at": "2023-01-11 10:00:00", "decision_at": "2023-03-05 09:00:00"},
    {"event_id": "E18", "version": 3, "written_at": "2023-06-01 10:00:00",
     "municipality": SIAULIAI, "offence_code": "BK178-1", "status": "closed",
     "pretrial_started_at": "2023-01-11 10:00:00", "decision_at": "2023-06-01 09:00:00"},
    # E19: closed without ever being solved: recorded, not solved.
    {"event_id": "E19", "version": 1, "written_at": "2023-01-12 10:00:00",
     "municipality": SIAULIAI, "offence_code": "BK178-1", "status": "pretrial_started",
     "pretrial_started_at": "2023-01-12 10:00:00"},
    {"event_id": "E19", "version": 2, "written_at": "2023-04-01 10:00:00",
     "municipality": SIAULIAI, "offence_code": "BK178-1", "status": "closed",
     "pretrial_started_at": "2023-01-12 10:00:00", "decision_at": "2023-04-01 09:00:00"},
]  # fmt: skip

WAVE1_CONVICTIONS = [
    # Person A: a fine in March and 24 months' imprisonment in June 2023 -> counted once,
    # under the imprisonment's main offence (robbery BK180 -> 0401, not BK187).
    {"conviction_id": "C01", "version": 1, "written_at": "2023-03-01 12:00:00",
     "person_key": "PA", "age_at_judgment": 30, "final_at": "2023-03-01",
     "sanction": "fine", "fine_eur": 500, "offences": [("BK182", False, True)]},
    {"conviction_id": "C02", "version": 1, "written_at": "2023-06-01 12:00:00",
     "person_key": "PA", "age_at_judgment": 30, "final_at": "2023-06-01",
     "sanction": "imprisonment", "sentence_months": 24,
     "offences": [("BK187", False, False), ("BK180", False, True)]},
    # Person A again, convicted abroad and received through ECRIS: counted apart.
    {"conviction_id": "C07", "version": 1, "written_at": "2023-07-01 12:00:00",
     "person_key": "PA", "age_at_judgment": 30, "final_at": "2023-07-01",
     "sanction": "imprisonment", "sentence_months": 36, "ecris_member_state": "PL",
     "offences": [("BK260", False, True)]},
    # Age groups and citizenship groups.
    {"conviction_id": "C03", "version": 1, "written_at": "2023-04-01 12:00:00",
     "person_key": "PB", "age_at_judgment": 17, "sex": "F", "citizenship": "LV",
     "final_at": "2023-04-01", "sanction": "suspended", "sentence_months": 12,
     "offences": [("BK178-1", False, True)]},
    {"conviction_id": "C04", "version": 1, "written_at": "2023-05-01 12:00:00",
     "person_key": "PC", "age_at_judgment": 70, "citizenship": "UA",
     "final_at": "2023-05-01", "sanction": "fine", "fine_eur": 300,
     "offences": [("BK182", False, True)]},
    {"conviction_id": "C05", "version": 1, "written_at": "2023-05-02 12:00:00",
     "person_key": "PD", "age_at_judgment": 30, "citizenship": "XX",
     "final_at": "2023-05-02", "sanction": "community_work",
     "offences": [("BK178-1", False, True)]},
    {"conviction_id": "C06", "version": 1, "written_at": "2023-05-03 12:00:00",
     "person_key": "PE", "age_at_judgment": 13, "citizenship": None,
     "final_at": "2023-05-03", "sanction": "other",
     "offences": [("BK178-1", False, True)]},
    # Pending (under appeal): not counted.
    {"conviction_id": "C08", "version": 1, "written_at": "2023-05-04 12:00:00",
     "person_key": "PF", "age_at_judgment": 40, "status": "pending", "final_at": None,
     "judgment_at": "2023-05-04", "sanction": "fine", "fine_eur": 100,
     "offences": [("BK182", False, True)]},
    # Final, then annulled: not counted.
    {"conviction_id": "C09", "version": 1, "written_at": "2023-02-01 12:00:00",
     "person_key": "PG", "age_at_judgment": 40, "final_at": "2023-02-01",
     "sanction": "fine", "fine_eur": 100, "offences": [("BK182", False, True)]},
    {"conviction_id": "C09", "version": 2, "written_at": "2023-06-01 12:00:00",
     "person_key": "PG", "age_at_judgment": 40, "status": "annulled",
     "final_at": "2023-02-01", "sanction": "fine", "fine_eur": 100,
     "offences": [("BK182", False, True)]},
    # Final in 2023; after T1 (wave 2) amended on appeal, final only in 2024.
    {"conviction_id": "C10", "version": 1, "written_at": "2023-02-15 12:00:00",
     "person_key": "PH", "age_at_judgment": 40, "final_at": "2023-02-15",
     "sanction": "imprisonment", "sentence_months": 12, "offences": [("BK180", False, True)]},
    # Person I: final in 2022 and in 2023: once in each year.
    {"conviction_id": "C11", "version": 1, "written_at": "2022-11-01 12:00:00",
     "person_key": "PI", "age_at_judgment": 50, "sex": "F", "final_at": "2022-11-01",
     "sanction": "fine", "fine_eur": 200, "offences": [("BK182", False, True)]},
    {"conviction_id": "C12", "version": 1, "written_at": "2023-08-01 12:00:00",
     "person_key": "PI", "age_at_judgment": 50, "sex": "F", "final_at": "2023-08-01",
     "sanction": "fine", "fine_eur": 200, "offences": [("BK182", False, True)]},
    # Person J: version 2 changes the offences (main becomes money laundering 07041, plus an
    # unknown code BK998); version 2 is delivered twice (a re-sent extract in April).
    {"conviction_id": "C13", "version": 1, "written_at": "2023-03-01 12:00:00",
     "person_key": "PJ", "age_at_judgment": 45, "sex": "F", "final_at": "2023-03-01",
     "sanction": "fine", "fine_eur": 1000, "offences": [("BK182", False, True)]},
    {"conviction_id": "C13", "version": 2, "written_at": "2023-03-10 12:00:00",
     "person_key": "PJ", "age_at_judgment": 45, "sex": "F", "status": "amended",
     "final_at": "2023-03-01", "sanction": "fine", "fine_eur": 1000,
     "offences": [("BK216", False, True), ("BK998", False, False)]},
    {"conviction_id": "C13", "version": 2, "written_at": "2023-03-10 12:00:00",
     "person_key": "PJ", "age_at_judgment": 45, "sex": "F", "status": "amended",
     "final_at": "2023-03-01", "sanction": "fine", "fine_eur": 1000,
     "offences": [("BK216", False, True), ("BK998", False, False)],
     "_partition": "2023-04", "_file": "convictions/2023-04/convictions_2023-04-02.jsonl.gz"},
    # Person K: two prison sentences: the longer (24 months, drugs 06012) represents K.
    {"conviction_id": "C14", "version": 1, "written_at": "2023-02-01 13:00:00",
     "person_key": "PK", "age_at_judgment": 22, "final_at": "2023-02-01",
     "sanction": "imprisonment", "sentence_months": 12, "offences": [("BK180", False, True)]},
    {"conviction_id": "C15", "version": 1, "written_at": "2023-09-01 13:00:00",
     "person_key": "PK", "age_at_judgment": 22, "final_at": "2023-09-01",
     "sanction": "imprisonment", "sentence_months": 24, "offences": [("BK260", False, True)]},
    # ... and a fine in the same month: K counts once in September too, under C15.
    {"conviction_id": "C16", "version": 1, "written_at": "2023-09-02 13:00:00",
     "person_key": "PK", "age_at_judgment": 22, "final_at": "2023-09-02",
     "sanction": "fine", "fine_eur": 400, "offences": [("BK182", False, True)]},
]  # fmt: skip

WAVE1_CUSTOMS = [
    {"violation_id": "V1", "version": 1, "written_at": "2023-01-15 10:00:00",
     "detected_at": "2023-01-15 09:00:00", "border_section": "LT-BY",
     "violation_type": "cigarettes", "procedure": "administrative", "_partition": "2023-01",
     "seizures": [(1, "cigarettes", 10000, "sticks", 2500), (2, "tobacco", 5, "kg", 300)]},
    {"violation_id": "V2", "version": 1, "written_at": "2023-01-20 10:00:00",
     "detected_at": "2023-01-20 09:00:00", "border_section": "LT-RU",
     "violation_type": "alcohol", "procedure": "criminal", "_partition": "2023-01",
     "seizures": [(1, "alcohol", 100, "l", 800)]},
    # V2 delivered again, identical, in February's export: nothing doubles.
    {"violation_id": "V2", "version": 1, "written_at": "2023-01-20 10:00:00",
     "detected_at": "2023-01-20 09:00:00", "border_section": "LT-RU",
     "violation_type": "alcohol", "procedure": "criminal", "_partition": "2023-02",
     "seizures": [(1, "alcohol", 100, "l", 800)]},
    {"violation_id": "V3", "version": 1, "written_at": "2023-02-03 10:00:00",
     "detected_at": "2023-02-03 09:00:00", "border_section": "LT-LV",
     "violation_type": "fuel", "procedure": "administrative", "_partition": "2023-02",
     "seizures": [(1, "fuel", 500, "l", 600)]},
]  # fmt: skip

# --------------------------------------------------------------------------------------
# Wave 2: written after T1.
# --------------------------------------------------------------------------------------
WAVE2_INCIDENTS = [
    # E04 reclassified: threat to kill (02012) instead of health impairment (020111).
    {"event_id": "E04", "version": 2, "written_at": "2024-02-15 10:00:00",
     "municipality": KAUNAS, "offence_code": "BK145", "status": "pretrial_started",
     "pretrial_started_at": "2023-01-20 14:00:00"},
    # E11 annulled.
    {"event_id": "E11", "version": 2, "written_at": "2024-02-20 10:00:00",
     "municipality": KLAIPEDA, "offence_code": "BK182", "status": "annulled",
     "pretrial_started_at": "2023-03-10 10:00:00", "decision_at": "2024-02-20 09:00:00"},
    # E12: late registration of a March 2023 property damage in Alytus.
    {"event_id": "E12", "version": 1, "written_at": "2024-02-10 10:00:00",
     "municipality": ALYTUS, "offence_code": "BK187", "status": "pretrial_started",
     "pretrial_started_at": "2023-03-15 10:00:00"},
    # E16 solved in February 2024.
    {"event_id": "E16", "version": 2, "written_at": "2024-02-12 10:00:00",
     "municipality": KAUNAS, "offence_code": "BK187", "status": "solved",
     "pretrial_started_at": "2023-02-05 10:00:00", "decision_at": "2024-02-12 09:00:00"},
]  # fmt: skip

WAVE2_CONVICTIONS = [
    # C10 amended on appeal: suspended sentence, final only on 2024-01-30.
    {"conviction_id": "C10", "version": 2, "written_at": "2024-02-20 12:00:00",
     "person_key": "PH", "age_at_judgment": 40, "status": "amended",
     "judgment_at": "2023-02-15", "final_at": "2024-01-30", "sanction": "suspended",
     "sentence_months": 12, "offences": [("BK180", False, True)]},
]  # fmt: skip

WAVE2_CUSTOMS = [
    # V1 corrected in the February 2024 export: criminal procedure, one seizure line only.
    {"violation_id": "V1", "version": 2, "written_at": "2024-02-05 10:00:00",
     "detected_at": "2023-01-15 09:00:00", "border_section": "LT-BY",
     "violation_type": "cigarettes", "procedure": "criminal", "_partition": "2024-02",
     "seizures": [(1, "cigarettes", 12000, "sticks", 3000)]},
]  # fmt: skip

# --------------------------------------------------------------------------------------
# Wave 3: arrives before the windowed rebuild of 2023-02..2023-03.
# --------------------------------------------------------------------------------------
WAVE3_INCIDENTS = [
    # In the window: a new February theft in Alytus, and E06 (February murder) annulled.
    {"event_id": "E20", "version": 1, "written_at": "2024-03-01 10:00:00",
     "municipality": ALYTUS, "offence_code": "BK178-1", "status": "pretrial_started",
     "pretrial_started_at": "2023-02-20 10:00:00"},
    {"event_id": "E06", "version": 2, "written_at": "2024-03-01 11:00:00",
     "municipality": KAUNAS, "offence_code": "BK129", "status": "annulled",
     "pretrial_started_at": "2023-02-02 10:00:00", "decision_at": "2024-03-01 09:00:00"},
    # Outside the window: a new April theft, and E01 (January) annulled.
    {"event_id": "E21", "version": 1, "written_at": "2024-03-01 12:00:00",
     "municipality": ALYTUS, "offence_code": "BK178-1", "status": "pretrial_started",
     "pretrial_started_at": "2023-04-20 10:00:00"},
    {"event_id": "E01", "version": 3, "written_at": "2024-03-01 13:00:00",
     "registered_at": "2022-12-28 10:00:00", "municipality": VILNIUS,
     "offence_code": "BK178-1", "status": "annulled",
     "pretrial_started_at": "2023-01-03 09:00:00", "decision_at": "2024-03-01 09:00:00"},
]  # fmt: skip

WAVE3_CUSTOMS = [
    # V3, February's only violation, was detected in March in fact: February empties.
    {"violation_id": "V3", "version": 2, "written_at": "2024-03-02 10:00:00",
     "detected_at": "2023-03-03 09:00:00", "border_section": "LT-LV",
     "violation_type": "fuel", "procedure": "administrative", "_partition": "2024-03",
     "seizures": [(1, "fuel", 500, "l", 600)]},
    # A new April violation: outside the window.
    {"violation_id": "V4", "version": 1, "written_at": "2024-03-02 11:00:00",
     "detected_at": "2023-04-05 09:00:00", "border_section": "seaport",
     "violation_type": "drugs", "procedure": "criminal", "_partition": "2024-03",
     "seizures": [(1, "drugs", 2, "kg", 40000)]},
]  # fmt: skip


class Stage:
    """One dbt invocation and the marts it left."""

    def __init__(self, run: DbtRun, marts: dict[str, list[dict[str, Any]]]) -> None:
        self.run = run
        self.marts = marts

    def rows(self, mart: str, **where: Any) -> list[dict[str, Any]]:
        return [
            row
            for row in self.marts[mart]
            if all(row[name] == value for name, value in where.items())
        ]

    def total(self, mart: str, measure: str, **where: Any) -> Any:
        return sum(row[measure] for row in self.rows(mart, **where))

    def value(self, mart: str, measure: str, **where: Any) -> Any:
        rows = self.rows(mart, **where)
        assert len(rows) == 1, f"{mart} {where}: expected one row, got {rows}"
        return rows[0][measure]


def month(text: str) -> dt.date:
    return dt.date.fromisoformat(text + "-01")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home: Path = tmp_path_factory.mktemp("crimestat_home")
    create_raw_warehouse(home)
    writer = RawWriter(home)
    stages: dict[str, Any] = {"home": home}

    writer.incidents(WAVE1_INCIDENTS)
    writer.convictions(WAVE1_CONVICTIONS)
    writer.customs(WAVE1_CUSTOMS)
    run = run_dbt(home, "build")
    stages["built_at_t1"] = Stage(run, snapshot_marts(home))
    stages["staging_at_t1"] = {
        "conviction_offences": fetch(
            home, "select * from staging.stg_convictions__conviction_offences order by all"
        ),
    }

    writer.incidents(WAVE2_INCIDENTS)
    writer.convictions(WAVE2_CONVICTIONS)
    writer.customs(WAVE2_CUSTOMS)
    run = run_dbt(home, "build", dbt_vars={"as_of": T1})
    stages["as_of_t1"] = Stage(run, snapshot_marts(home))

    run = run_dbt(home, "build")
    stages["latest"] = Stage(run, snapshot_marts(home))

    writer.incidents(WAVE3_INCIDENTS)
    writer.customs(WAVE3_CUSTOMS)
    # the monthly marts with their ancestors (staging and intermediate tables), not the
    # annual marts: what a monthly partition run does
    monthly_lineage = [f"+{mart}" for mart in MONTHLY_MARTS]
    run = run_dbt(home, "build", "--select", *monthly_lineage, dbt_vars=WINDOW)
    stages["window"] = Stage(run, snapshot_marts(home))

    stages["docs"] = run_dbt(home, "docs", "generate")
    return stages


# --------------------------------------------------------------------------------------
# The builds themselves
# --------------------------------------------------------------------------------------


def test_build_fails_only_on_the_unmapped_codes_test(warehouse: dict[str, Any]) -> None:
    for stage_name in ("built_at_t1", "as_of_t1", "latest"):
        run = warehouse[stage_name].run
        assert run.exception is None, run.exception
        assert not run.success, "the unmapped-code test must fail the build"
        assert run.failed_nodes() == {"is_empty_unmapped_offence_codes_": "fail"}, (
            stage_name,
            run.failed_nodes(),
        )
        # every model and seed was built despite the failing test
        assert run.statuses["unmapped_offence_codes"] == "success"
        assert run.statuses["recorded_offences_annual"] == "success"
        # the conviction of a 13-year-old is flagged, as a warning
        assert (
            run.statuses[
                "expression_is_true_int_convictions_final_age_at_judgment__age_at_judgment_14"
            ]
            == "warn"
        )


def test_unknown_codes_are_reported_and_still_counted(warehouse: dict[str, Any]) -> None:
    stage = warehouse["built_at_t1"]
    unmapped = {
        (row["register"], row["offence_code"]): (row["records"], row["versions"])
        for row in stage.marts["unmapped_offence_codes"]
    }
    # ANK123 (administrative) is no criminal code; BK998 is in one conviction version
    # (delivered twice, counted once).
    assert unmapped == {("incidents", "BK999"): (1, 1), ("convictions", "BK998"): (1, 1)}
    assert stage.value(
        "recorded_offences", "offences", ref_month=month("2023-03"), iccs_code="UNMAPPED"
    ) == 1  # fmt: skip
    assert stage.value(
        "recorded_offences_annual", "offences", ref_year=2023, geo="LT", iccs_code="UNMAPPED"
    ) == 1  # fmt: skip
    assert (
        stage.value(
            "recorded_offences_annual", "offences", ref_year=2023, geo="LT023", iccs_code="TOTAL"
        )
        == 2
    )  # fmt: skip (E10 unmapped + E11 fraud)


# --------------------------------------------------------------------------------------
# Recorded offences
# --------------------------------------------------------------------------------------


def test_recorded_offences_by_month_as_of_t1(warehouse: dict[str, Any]) -> None:
    stage = warehouse["built_at_t1"]
    got = {
        (r["ref_month"].isoformat()[:7], r["municipality"], r["nuts3"], r["iccs_code"],
         r["attempt"]): r["offences"]
        for r in stage.marts["recorded_offences"]
    }  # fmt: skip
    assert got == {
        ("2022-12", VILNIUS, "LT011", "05012", False): 1,  # E14
        ("2023-01", VILNIUS, "LT011", "0502", False): 1,  # E01 (registered in December)
        ("2023-01", VILNIUS, "LT011", "0401", False): 1,  # E13
        ("2023-01", KAUNAS, "LT022", "020111", False): 1,  # E04 (as classified at T1)
        ("2023-01", SIAULIAI, "LT026", "0502", False): 3,  # E17, E18, E19
        ("2023-02", KAUNAS, "LT022", "0102", True): 1,  # E05 attempted murder
        ("2023-02", KAUNAS, "LT022", "0101", False): 1,  # E06 murder
        ("2023-02", KAUNAS, "LT022", "0504", False): 1,  # E16
        ("2023-02", VILNIUS, "LT011", "0502", True): 1,  # E07 attempted theft
        ("2023-03", KLAIPEDA, "LT023", "UNMAPPED", False): 1,  # E10
        ("2023-03", KLAIPEDA, "LT023", "0701", False): 1,  # E11
    }
    # E02 (no pre-trial), E03 and E15 (annulled), E08/E09 (not criminal) are absent, and the
    # twice-delivered E01 counts once.


def test_pretrial_start_decides_the_period(warehouse: dict[str, Any]) -> None:
    stage = warehouse["built_at_t1"]
    december = stage.total("recorded_offences", "offences", ref_month=month("2022-12"))
    january_vilnius_theft = stage.value(
        "recorded_offences", "offences", ref_month=month("2023-01"), municipality=VILNIUS,
        iccs_code="0502",
    )  # fmt: skip
    assert december == 1  # only E14; E01 was registered in December but counts in January
    assert january_vilnius_theft == 1


def test_reclassification_follows_as_of(warehouse: dict[str, Any]) -> None:
    at_t1, latest = warehouse["as_of_t1"], warehouse["latest"]
    kaunas_january = {"ref_month": month("2023-01"), "municipality": KAUNAS}
    assert [r["iccs_code"] for r in at_t1.rows("recorded_offences", **kaunas_january)] == ["020111"]
    assert [r["iccs_code"] for r in latest.rows("recorded_offences", **kaunas_january)] == ["02012"]
    # and the annual roll-up follows: 02012 -> 0201 -> 02 instead of 020111 -> 02011 -> ...
    annual = {"ref_year": 2023, "geo": "LT022"}
    assert latest.rows("recorded_offences_annual", iccs_code="020111", **annual) == []
    assert latest.value("recorded_offences_annual", "offences", iccs_code="02012", **annual) == 1
    assert latest.value("recorded_offences_annual", "offences", iccs_code="0201", **annual) == 1


def test_latest_state_counts_late_registrations_and_annulments(warehouse: dict[str, Any]) -> None:
    latest = warehouse["latest"]
    march = {
        (r["municipality"], r["iccs_code"]): r["offences"]
        for r in latest.rows("recorded_offences", ref_month=month("2023-03"))
    }
    # E11 annulled after T1 is gone, E12 registered late is in.
    assert march == {(KLAIPEDA, "UNMAPPED"): 1, (ALYTUS, "0504"): 1}


def test_attempted_homicide_apart(warehouse: dict[str, Any]) -> None:
    stage = warehouse["built_at_t1"]
    lt_2023 = {"ref_year": 2023, "geo": "LT"}
    assert stage.value("recorded_offences_annual", "offences", iccs_code="0102", **lt_2023) == 1
    assert stage.value("recorded_offences_annual", "offences", iccs_code="0101", **lt_2023) == 1
    assert stage.value("recorded_offences_annual", "offences", iccs_code="01", **lt_2023) == 2
    # an attempted theft stays theft, flagged as attempt
    assert stage.value(
        "recorded_offences", "offences", ref_month=month("2023-02"), iccs_code="0502",
        attempt=True,
    ) == 1  # fmt: skip


def test_iccs_rollup_adds_up(warehouse: dict[str, Any]) -> None:
    stage = warehouse["built_at_t1"]
    lt_2023 = {r["iccs_code"]: r for r in stage.rows("recorded_offences_annual", ref_year=2023,
                                                      geo="LT")}  # fmt: skip
    offences = {code: row["offences"] for code, row in lt_2023.items()}
    assert offences == {
        "TOTAL": 12,
        "UNMAPPED": 1,
        "01": 2, "0101": 1, "0102": 1,
        "02": 1, "0201": 1, "02011": 1, "020111": 1,
        "04": 1, "0401": 1,
        "05": 6, "0502": 5, "0504": 1,
        "07": 1, "0701": 1,
    }  # fmt: skip
    levels = {code: row["iccs_level"] for code, row in lt_2023.items()}
    assert levels["TOTAL"] == 0 and levels["UNMAPPED"] is None
    assert levels["02"] == 1 and levels["0201"] == 2 and levels["02011"] == 3
    assert levels["020111"] == 4
    # a section is the sum of its children, TOTAL the sum of the sections plus UNMAPPED
    assert offences["05"] == offences["0502"] + offences["0504"]
    assert offences["01"] == offences["0101"] + offences["0102"]
    sections = [code for code, level in levels.items() if level == 1]
    assert offences["TOTAL"] == sum(offences[c] for c in sections) + offences["UNMAPPED"]
    # the country is the sum of its counties at every code
    for code, total in offences.items():
        counties = stage.total(
            "recorded_offences_annual", "offences", ref_year=2023, iccs_code=code,
            geo_level="NUTS3",
        )  # fmt: skip
        assert counties == total, code
    # and the dbt singular test on the roll-up passed
    assert stage.run.statuses["assert_iccs_rollup_adds_up"] == "pass"


def test_rates_per_100k(warehouse: dict[str, Any]) -> None:
    stage = warehouse["built_at_t1"]

    def rate(**where: Any) -> float:
        return float(stage.value("recorded_offences_annual", "rate_per_100k", **where))

    # 2023 has its own figures
    assert rate(ref_year=2023, geo="LT", iccs_code="TOTAL") == pytest.approx(
        12 * 100_000 / COUNTRY_POPULATION_2023, abs=0.005
    )
    assert rate(ref_year=2023, geo="LT022", iccs_code="TOTAL") == pytest.approx(
        4 * 100_000 / POPULATION_2023["LT022"], abs=0.005
    )  # E04, E05, E06, E16
    assert rate(ref_year=2023, geo="LT026", iccs_code="0502") == pytest.approx(
        3 * 100_000 / POPULATION_2023["LT026"], abs=0.005
    )
    # 2022 has none: the latest figure at or before it, 2020's
    assert rate(ref_year=2022, geo="LT011", iccs_code="TOTAL") == pytest.approx(
        1 * 100_000 / POPULATION_2020["LT011"], abs=0.005
    )
    assert rate(ref_year=2022, geo="LT", iccs_code="TOTAL") == pytest.approx(
        1 * 100_000 / COUNTRY_POPULATION_2020, abs=0.005
    )
    assert stage.value(
        "recorded_offences_annual", "population", ref_year=2022, geo="LT", iccs_code="TOTAL"
    ) == COUNTRY_POPULATION_2020  # fmt: skip


# --------------------------------------------------------------------------------------
# Solved offences
# --------------------------------------------------------------------------------------


def test_solved_offences_in_month_of_solving_decision(warehouse: dict[str, Any]) -> None:
    def solved(stage: Stage) -> dict[tuple[str, str, str], int]:
        return {
            (r["ref_month"].isoformat()[:7], r["nuts3"], r["iccs_code"]): r["offences"]
            for r in stage.marts["solved_offences"]
        }

    at_t1 = {
        ("2023-01", "LT011", "05012"): 1,  # E14 sent to court in January (recorded Dec 2022)
        ("2023-02", "LT011", "0401"): 1,  # E13 solved Feb, sent to court April: once, Feb
        ("2023-03", "LT026", "0502"): 1,  # E18 solved March, closed June
        ("2023-05", "LT026", "0502"): 1,  # E17 solved Feb, reopened, solved again in May
    }
    # E15 (annulled) and E19 (closed unsolved) never appear.
    assert solved(warehouse["built_at_t1"]) == at_t1
    assert solved(warehouse["latest"]) == {**at_t1, ("2024-02", "LT022", "0504"): 1}  # E16


# --------------------------------------------------------------------------------------
# Persons convicted
# --------------------------------------------------------------------------------------

PERSONS_2023_AT_T1 = {
    # (iccs_code, sex, age_group, citizen_group, sanction, via_ecris): persons
    ("0401", "M", "Y25-34", "NAT", "imprisonment", False): 1,  # A (C02 beats C01's fine)
    ("06012", "M", "Y25-34", "NAT", "imprisonment", True): 1,  # A through ECRIS (C07)
    ("0502", "F", "Y14-17", "EU27_2020_FOR", "suspended", False): 1,  # B, Latvian, 17
    ("0701", "M", "Y_GE65", "NEU27_2020_FOR", "fine", False): 1,  # C, Ukrainian, 70
    ("0502", "M", "Y25-34", "STLS", "community_work", False): 1,  # D, stateless
    ("0502", "M", "UNK", "UNK", "other", False): 1,  # E, 13, citizenship unknown
    ("0401", "M", "Y35-44", "NAT", "imprisonment", False): 1,  # H (before the appeal)
    ("0701", "F", "Y45-54", "NAT", "fine", False): 1,  # I (2023 conviction)
    ("07041", "F", "Y45-54", "NAT", "fine", False): 1,  # J, main offence of version 2
    ("06012", "M", "Y18-24", "NAT", "imprisonment", False): 1,  # K (24 months beats 12)
}


def persons(stage: Stage, year: int) -> dict[tuple[Any, ...], int]:
    return {
        (r["iccs_code"], r["sex"], r["age_group"], r["citizen_group"], r["sanction"],
         r["via_ecris"]): r["persons"]
        for r in stage.rows("persons_convicted", ref_year=year)
    }  # fmt: skip


def test_persons_convicted_once_per_year_under_main_offence(warehouse: dict[str, Any]) -> None:
    stage = warehouse["built_at_t1"]
    assert persons(stage, 2023) == PERSONS_2023_AT_T1
    # F (pending) and G (annulled) are nowhere; I's 2022 conviction counts in 2022.
    assert persons(stage, 2022) == {("0701", "F", "Y45-54", "NAT", "fine", False): 1}
    assert stage.total("persons_convicted", "persons", ref_year=2023, via_ecris=False) == 9
    assert stage.run.statuses["assert_persons_counted_once_per_year"] == "pass"


def test_age_groups_and_broad_aggregates(warehouse: dict[str, Any]) -> None:
    stage = warehouse["built_at_t1"]
    broad = {}
    for row in stage.rows("persons_convicted", ref_year=2023, via_ecris=False):
        broad[row["age_group_broad"]] = broad.get(row["age_group_broad"], 0) + row["persons"]
    assert broad == {"Y_LT18": 1, "Y_GE18": 7, "UNK": 1}


def test_conviction_offences_follow_the_chosen_version(warehouse: dict[str, Any]) -> None:
    offences = [
        (r["version"], r["offence_seq"], r["offence_code"], r["is_main"])
        for r in warehouse["staging_at_t1"]["conviction_offences"]
        if r["conviction_id"] == "C13"
    ]
    # version 2's offences, once, although version 2 was delivered twice
    assert offences == [(2, 1, "BK216", True), (2, 2, "BK998", False)]


def test_appeal_moves_the_person_to_the_new_year(warehouse: dict[str, Any]) -> None:
    latest = warehouse["latest"]
    expected_2023 = dict(PERSONS_2023_AT_T1)
    del expected_2023[("0401", "M", "Y35-44", "NAT", "imprisonment", False)]
    assert persons(latest, 2023) == expected_2023
    assert persons(latest, 2024) == {("0401", "M", "Y35-44", "NAT", "suspended", False): 1}


def test_persons_convicted_by_citizenship_once_per_month(warehouse: dict[str, Any]) -> None:
    rows = {
        (r["ref_month"].isoformat()[:7], r["citizenship"], r["iccs_code"], r["sex"],
         r["age_group"], r["via_ecris"]): r["persons"]
        for r in warehouse["built_at_t1"].marts["persons_convicted_by_citizenship"]
    }  # fmt: skip
    assert rows == {
        ("2022-11", "LT", "0701", "F", "Y45-54", False): 1,  # I in 2022 ...
        ("2023-08", "LT", "0701", "F", "Y45-54", False): 1,  # ... and again in 2023
        ("2023-02", "LT", "0401", "M", "Y35-44", False): 1,  # H
        ("2023-02", "LT", "0401", "M", "Y18-24", False): 1,  # K's first prison sentence
        ("2023-09", "LT", "06012", "M", "Y18-24", False): 1,  # K: 24 months beat the fine
        ("2023-03", "LT", "0701", "M", "Y25-34", False): 1,  # A's fine: its own month
        ("2023-03", "LT", "07041", "F", "Y45-54", False): 1,  # J
        ("2023-06", "LT", "0401", "M", "Y25-34", False): 1,  # A's prison sentence
        ("2023-07", "LT", "06012", "M", "Y25-34", True): 1,  # A through ECRIS
        ("2023-04", "LV", "0502", "F", "Y14-17", False): 1,  # B, Latvian
        ("2023-05", "UA", "0701", "M", "Y_GE65", False): 1,  # C
        ("2023-05", "XX", "0502", "M", "Y25-34", False): 1,  # D, stateless
        ("2023-05", "UNK", "0502", "M", "UNK", False): 1,  # E, citizenship unknown
    }


# --------------------------------------------------------------------------------------
# Customs
# --------------------------------------------------------------------------------------


def test_customs_violations_and_seizures(warehouse: dict[str, Any]) -> None:
    def violations(stage: Stage) -> dict[tuple[str, ...], int]:
        return {
            (r["ref_month"].isoformat()[:7], r["violation_type"], r["border_section"],
             r["procedure"]): r["violations"]
            for r in stage.marts["customs_violations"]
        }  # fmt: skip

    def seizures(stage: Stage) -> dict[tuple[str, ...], tuple[Decimal, Decimal]]:
        return {
            (r["ref_month"].isoformat()[:7], r["goods_category"], r["unit"]):
                (r["quantity"], r["value_eur"])
            for r in stage.marts["customs_seizures"]
        }  # fmt: skip

    at_t1, latest = warehouse["built_at_t1"], warehouse["latest"]
    assert violations(at_t1) == {
        ("2023-01", "cigarettes", "LT-BY", "administrative"): 1,
        ("2023-01", "alcohol", "LT-RU", "criminal"): 1,
        ("2023-02", "fuel", "LT-LV", "administrative"): 1,
    }
    assert seizures(at_t1) == {
        ("2023-01", "cigarettes", "sticks"): (Decimal("10000"), Decimal("2500")),
        ("2023-01", "tobacco", "kg"): (Decimal("5"), Decimal("300")),
        ("2023-01", "alcohol", "l"): (Decimal("100"), Decimal("800")),
        ("2023-02", "fuel", "l"): (Decimal("500"), Decimal("600")),
    }
    # V1's correction (after T1) changes its procedure and replaces its seizure lines by
    # those of the latest export that delivered it.
    assert violations(latest) == {
        ("2023-01", "cigarettes", "LT-BY", "criminal"): 1,
        ("2023-01", "alcohol", "LT-RU", "criminal"): 1,
        ("2023-02", "fuel", "LT-LV", "administrative"): 1,
    }
    assert seizures(latest) == {
        ("2023-01", "cigarettes", "sticks"): (Decimal("12000"), Decimal("3000")),
        ("2023-01", "alcohol", "l"): (Decimal("100"), Decimal("800")),
        ("2023-02", "fuel", "l"): (Decimal("500"), Decimal("600")),
    }


# --------------------------------------------------------------------------------------
# Reproducibility and incremental windows
# --------------------------------------------------------------------------------------


def test_as_of_t1_after_newer_versions_reproduces_the_release_built_at_t1(
    warehouse: dict[str, Any],
) -> None:
    built_at_t1, as_of_t1, latest = (
        warehouse["built_at_t1"], warehouse["as_of_t1"], warehouse["latest"]
    )  # fmt: skip
    for mart, rows in built_at_t1.marts.items():
        assert rows, f"{mart} is empty: the fixture exercises nothing"
        assert as_of_t1.marts[mart] == rows, mart
    # ... while the newer versions do change the latest numbers
    for mart in ("recorded_offences", "recorded_offences_annual", "solved_offences",
                 "persons_convicted", "customs_violations", "customs_seizures"):  # fmt: skip
        assert latest.marts[mart] != built_at_t1.marts[mart], mart


def test_month_window_rebuilds_only_the_window(warehouse: dict[str, Any]) -> None:
    before, after = warehouse["latest"], warehouse["window"]
    assert after.run.success, after.run.failed_nodes()
    in_window = {month("2023-02"), month("2023-03")}
    for mart in ("recorded_offences", "solved_offences", "customs_violations",
                 "customs_seizures"):  # fmt: skip
        outside_before = [r for r in before.marts[mart] if r["ref_month"] not in in_window]
        outside_after = [r for r in after.marts[mart] if r["ref_month"] not in in_window]
        # months outside the window are untouched: E01's annulment (January) and the new
        # April offence / violation wait for their own partitions
        assert outside_after == outside_before, mart
    february = {
        (r["municipality"], r["iccs_code"], r["attempt"]): r["offences"]
        for r in after.rows("recorded_offences", ref_month=month("2023-02"))
    }
    assert february == {
        (KAUNAS, "0102", True): 1,
        (KAUNAS, "0504", False): 1,
        (VILNIUS, "0502", True): 1,
        (ALYTUS, "0502", False): 1,  # E20, new
    }  # E06 annulled: its row is gone
    assert after.rows("recorded_offences", ref_month=month("2023-04")) == []
    # February's only violation moved to March: February is emptied, March filled
    assert after.rows("customs_violations", ref_month=month("2023-02")) == []
    assert after.rows("customs_seizures", ref_month=month("2023-02")) == []
    assert after.value(
        "customs_violations", "violations", ref_month=month("2023-03"), violation_type="fuel"
    ) == 1  # fmt: skip
    # the annual marts were not part of the windowed run
    assert after.marts["recorded_offences_annual"] == before.marts["recorded_offences_annual"]


def test_month_window_needs_both_bounds(warehouse: dict[str, Any]) -> None:
    run = run_dbt(
        warehouse["home"], "compile", "--select", "recorded_offences",
        dbt_vars={"month_from": "2023-02"},
    )  # fmt: skip
    assert not run.success
    assert "month_from and month_to go together" in str(run.exception) + "".join(
        run.messages.values()
    )


def test_docs_generate(warehouse: dict[str, Any]) -> None:
    run = warehouse["docs"]
    assert run.success, run.exception
    catalog = warehouse["home"] / "dbt_target" / "catalog.json"
    assert catalog.exists()
    text = catalog.read_text()
    for mart in ("recorded_offences_annual", "persons_convicted", "unmapped_offence_codes"):
        assert f"model.crimestat.{mart}" in text


def test_report_build_time(warehouse: dict[str, Any], capsys: pytest.CaptureFixture) -> None:
    with capsys.disabled():
        for name in ("built_at_t1", "as_of_t1", "latest", "window"):
            print(f"\n  dbt {name}: {warehouse[name].run.seconds:.1f} s", end="")
        print(f"\n  dbt docs generate: {warehouse['docs'].seconds:.1f} s")


def test_layers_land_in_their_schemas_and_sources_have_freshness(
    warehouse: dict[str, Any],
) -> None:
    home = warehouse["home"]
    schemas = {
        row["table_schema"]: row["tables"]
        for row in fetch(
            home,
            "select table_schema, list(table_name order by table_name) as tables "
            "from information_schema.tables group by table_schema",
        )
    }
    assert set(schemas) == {"raw", "reference", "staging", "intermediate", "marts"}
    assert "iccs_codes" in schemas["reference"]
    assert "stg_incidents__events" in schemas["staging"]
    assert "int_iccs_hierarchy" in schemas["intermediate"]
    assert "recorded_offences" in schemas["marts"]
    # ICCS codes keep their leading zeros
    assert fetch(home, "select code from reference.iccs_codes where label_en = 'Theft'") == [
        {"code": "0502"}
    ]

    manifest = json.loads((home / "dbt_target" / "manifest.json").read_text())
    freshness = {
        source["name"]: (
            source["loaded_at_field"],
            source["freshness"]["warn_after"]["count"],
            source["freshness"]["error_after"]["count"],
        )
        for source in manifest["sources"].values()
        if source["freshness"] and source["freshness"]["warn_after"]["count"]
    }
    assert freshness == {
        "incident_versions": ("written_at", 2, 7),
        "conviction_versions": ("written_at", 2, 7),
        "customs_violation_versions": ("written_at", 40, 70),
        "file_loads": ("loaded_at", 2, 7),
    }
