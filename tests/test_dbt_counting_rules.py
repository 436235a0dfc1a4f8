"""The counting rules of SPEC 5: dbt's unit tests, and what only a real build can show.

Each counting rule is a dbt unit test beside its model (dbt_project/models/**/_*__unit_tests.yml:
hand-written input rows, hand-computed output rows); `test_dbt_unit_tests_pass` runs them all
in one `dbt test --select test_type:unit`. What spans several models and dbt invocations is
checked here on hand-written register rows, one warehouse built for the whole module in
stages, each a dbt invocation:
  1. wave 1 (everything the registers had written by T1 = 2024-02-01), dbt build: the
     release "built at T1";
  2. wave 3 arrives, dbt build of the monthly marts (and their ancestors) for the window
     2023-02..2023-03 only: the window moves to the new state, nothing else does;
  3. wave 2 arrives (reclassification, annulment, late registration, appeal, customs
     correction), dbt build with as_of = T1: waves 2 and 3, written after T1, change
     nothing, so it must equal stage 1;
  4. dbt docs generate.
Each stage's marts are kept as a snapshot the tests read.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from dbt_fixtures import (
    DBT_PROJECT_DIR,
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
# Wave 3: arrives before the windowed rebuild of 2023-02..2023-03 (written after T1 too).
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

    writer.incidents(WAVE3_INCIDENTS)
    writer.customs(WAVE3_CUSTOMS)
    # the monthly marts with their ancestors (staging and intermediate tables), not the
    # annual marts: what a monthly partition run does
    monthly_lineage = [f"+{mart}" for mart in MONTHLY_MARTS]
    run = run_dbt(home, "build", "--select", *monthly_lineage, dbt_vars=WINDOW)
    stages["window"] = Stage(run, snapshot_marts(home))

    writer.incidents(WAVE2_INCIDENTS)
    writer.convictions(WAVE2_CONVICTIONS)
    writer.customs(WAVE2_CUSTOMS)
    run = run_dbt(home, "build", dbt_vars={"as_of": T1})
    stages["as_of_t1"] = Stage(run, snapshot_marts(home))

    stages["docs"] = run_dbt(home, "docs", "generate")
    return stages


# --------------------------------------------------------------------------------------
# The counting rules, as dbt unit tests
# --------------------------------------------------------------------------------------


def unit_test_names() -> set[str]:
    """Every unit test the project's YAML defines."""
    return {
        test["name"]
        for path in (DBT_PROJECT_DIR / "models").rglob("_*__unit_tests.yml")
        for test in yaml.safe_load(path.read_text())["unit_tests"]
    }


def test_dbt_unit_tests_pass(warehouse: dict[str, Any]) -> None:
    """One `dbt test --select test_type:unit` (dbt reads the column types of a unit test's
    inputs from the warehouse, so it runs on the module's built warehouse; the unit tests are
    enabled only by CRIMESTAT_DBT_UNIT_TESTS, see dbt_project.yml)."""
    run = run_dbt(
        warehouse["home"], "test", "--select", "test_type:unit",
        environment={"CRIMESTAT_DBT_UNIT_TESTS": "true"},
    )  # fmt: skip
    assert run.exception is None, run.exception
    failed = {name: run.messages[name] for name, status in run.statuses.items() if status != "pass"}
    assert not failed, failed
    # every unit test defined ran: none disabled, none left out of the selection
    assert set(run.statuses) == unit_test_names()
    assert run.success


# --------------------------------------------------------------------------------------
# The builds themselves
# --------------------------------------------------------------------------------------


def test_build_fails_only_on_the_unmapped_codes_test(warehouse: dict[str, Any]) -> None:
    for stage_name in ("built_at_t1", "as_of_t1"):
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
        # the singular tests of the roll-up and of persons counted once hold on real data
        assert run.statuses["assert_iccs_rollup_adds_up"] == "pass"
        assert run.statuses["assert_persons_counted_once_per_year"] == "pass"
        # the conviction of a 13-year-old is flagged, as a warning
        assert (
            run.statuses[
                "expression_is_true_int_convictions_final_age_at_judgment__age_at_judgment_14"
            ]
            == "warn"
        )
    # a build does not run the unit tests (they test the code, not the data)
    assert not any(name in warehouse["built_at_t1"].run.statuses for name in unit_test_names())


def test_unknown_codes_reach_the_report_and_the_counts(warehouse: dict[str, Any]) -> None:
    """Through the whole chain: BK999 (incidents) and BK998 (in one conviction version,
    delivered twice) are reported once each, and E10 still counts under UNMAPPED."""
    stage = warehouse["built_at_t1"]
    unmapped = {
        (row["register"], row["offence_code"]): (row["records"], row["versions"])
        for row in stage.marts["unmapped_offence_codes"]
    }
    assert unmapped == {("incidents", "BK999"): (1, 1), ("convictions", "BK998"): (1, 1)}
    assert stage.value(
        "recorded_offences_annual", "offences", ref_year=2023, geo="LT", iccs_code="UNMAPPED"
    ) == 1  # fmt: skip


# --------------------------------------------------------------------------------------
# Reproducibility and incremental windows
# --------------------------------------------------------------------------------------


def test_as_of_t1_after_newer_versions_reproduces_the_release_built_at_t1(
    warehouse: dict[str, Any],
) -> None:
    built_at_t1, as_of_t1, window = (
        warehouse["built_at_t1"], warehouse["as_of_t1"], warehouse["window"]
    )  # fmt: skip
    for mart, rows in built_at_t1.marts.items():
        assert rows, f"{mart} is empty: the fixture exercises nothing"
        assert as_of_t1.marts[mart] == rows, mart
    # ... while the newer versions do change the numbers of a build without as_of (the
    # windowed build: E06 annulled and E20 new in February, February's violation moved)
    for mart in ("recorded_offences", "customs_violations", "customs_seizures"):
        assert window.marts[mart] != built_at_t1.marts[mart], mart


def test_month_window_rebuilds_only_the_window(warehouse: dict[str, Any]) -> None:
    before, after = warehouse["built_at_t1"], warehouse["window"]
    assert after.run.success, after.run.failed_nodes()
    in_window = {month("2023-02"), month("2023-03")}
    for mart in ("recorded_offences", "solved_offences", "customs_violations",
                 "customs_seizures", "persons_convicted_by_citizenship"):  # fmt: skip
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
    assert after.marts["persons_convicted"] == before.marts["persons_convicted"]


def test_month_window_needs_both_bounds(warehouse: dict[str, Any]) -> None:
    run = run_dbt(
        warehouse["home"], "compile", "--select", "recorded_offences",
        dbt_vars={"month_from": "2023-02"},
    )  # fmt: skip
    assert not run.success
    assert "month_from and month_to go together" in str(run.exception) + "".join(
        run.messages.values()
    )


def test_a_month_list_rebuilds_those_months_only(warehouse: dict[str, Any]) -> None:
    """Dagster passes the months a run touches as a list (var months): the monthly marts
    select and delete exactly those; the list and the range exclude each other."""
    home = warehouse["home"]
    run = run_dbt(home, "compile", "--select", "recorded_offences",
                  dbt_vars={"months": "2023-01, 2023-03"})  # fmt: skip
    assert run.success, run.exception
    compiled = next((home / "dbt_target" / "compiled").rglob("recorded_offences.sql")).read_text()
    assert "ref_month in (cast('2023-01-01' as date), cast('2023-03-01' as date))" in compiled
    both = run_dbt(home, "compile", "--select", "recorded_offences",
                   dbt_vars={"months": "2023-01"} | WINDOW)  # fmt: skip
    assert not both.success
    assert "two ways to say the window" in str(both.exception) + "".join(both.messages.values())


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
        for name in ("built_at_t1", "window", "as_of_t1"):
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
