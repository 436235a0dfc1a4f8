"""Lithuanian and English labels of the codes the marts use (sex, age groups, citizenship
groups, sanctions, serious cross-border crime areas, goods, border sections, procedures,
units, registers, quarantine rules, release statuses): shown by the dashboards and written
beside codes in partner extracts. The English names of crime areas are CL_XB_CRIME's
(core.crime_areas).

ICCS, NUTS and country labels come from the reference seeds instead; no Lithuanian ICCS labels
are in the reference data yet.
"""

from __future__ import annotations

from core.crime_areas import CRIME_AREAS

LANGUAGES = {"lt": "Lietuvių", "en": "English"}

CODE_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "TOTAL": "Total", "M": "Males", "F": "Females",
        "Y_LT18": "Under 18", "Y_GE18": "18 and over", "Y14-17": "14-17", "Y18-24": "18-24",
        "Y25-34": "25-34", "Y35-44": "35-44", "Y45-54": "45-54", "Y55-64": "55-64",
        "Y_GE65": "65 and over", "UNK": "Unknown",
        "NAT": "Nationals", "EU27_2020_FOR": "Citizens of other EU countries",
        "NEU27_2020_FOR": "Citizens of non-EU countries", "STLS": "Stateless",
        "imprisonment": "Imprisonment", "suspended": "Suspended sentence",
        "restriction_of_liberty": "Restriction of liberty", "community_work": "Community work",
        "fine": "Fine", "arrest": "Arrest", "other": "Other",
        "UNMAPPED": "Not mapped to ICCS",
        **{area.code: area.name for area in CRIME_AREAS},
        "cigarettes": "Cigarettes", "tobacco": "Tobacco", "alcohol": "Alcohol", "fuel": "Fuel",
        "drugs": "Drugs", "weapons": "Weapons", "cash": "Cash", "counterfeit": "Counterfeit",
        "LT-BY": "Belarus border", "LT-RU": "Russia border", "LT-LV": "Latvia border",
        "LT-PL": "Poland border", "inland": "Inland", "airport": "Airport",
        "seaport": "Seaport", "administrative": "Administrative", "criminal": "Criminal",
        "sticks": "sticks", "l": "litres", "kg": "kg", "pcs": "pieces", "eur": "EUR",
        "incidents": "Incident register", "convictions": "Conviction register",
        "customs": "Customs violations register",
        "duplicate": "Duplicate", "unknown_code": "Unknown code",
        "impossible_date": "Impossible date", "missing_field": "Missing field",
        "bad_check_digit": "Bad check digit", "broken_encoding": "Broken encoding",
        "truncated_row": "Truncated row", "malformed_value": "Malformed value",
        "provisional": "provisional", "final": "final",
    },
    "lt": {
        "TOTAL": "Iš viso", "M": "Vyrai", "F": "Moterys",
        "Y_LT18": "Jaunesni nei 18", "Y_GE18": "18 ir vyresni", "Y14-17": "14–17",
        "Y18-24": "18–24", "Y25-34": "25–34", "Y35-44": "35–44", "Y45-54": "45–54",
        "Y55-64": "55–64", "Y_GE65": "65 ir vyresni", "UNK": "Nežinoma",
        "NAT": "Lietuvos piliečiai", "EU27_2020_FOR": "Kitų ES šalių piliečiai",
        "NEU27_2020_FOR": "Ne ES šalių piliečiai", "STLS": "Asmenys be pilietybės",
        "imprisonment": "Laisvės atėmimas", "suspended": "Atidėtas bausmės vykdymas",
        "restriction_of_liberty": "Laisvės apribojimas", "community_work": "Viešieji darbai",
        "fine": "Bauda", "arrest": "Areštas", "other": "Kita",
        "UNMAPPED": "Be ICCS atitikmens",
        "TERR": "Terorizmas", "THB": "Prekyba žmonėmis", "DRUG_TRAF": "Prekyba narkotikais",
        "MIGR_SMUG": "Neteisėtas migrantų gabenimas", "MONEY_LAUND": "Pinigų plovimas",
        "ORG_CRIME": "Organizuotas nusikalstamumas", "CYBER": "Elektroniniai nusikaltimai",
        "GOODS_SMUG": "Prekių kontrabanda",
        "cigarettes": "Cigaretės", "tobacco": "Tabakas", "alcohol": "Alkoholis",
        "fuel": "Kuras", "drugs": "Narkotikai", "weapons": "Ginklai", "cash": "Grynieji",
        "counterfeit": "Padirbtos prekės",
        "LT-BY": "Siena su Baltarusija", "LT-RU": "Siena su Rusija",
        "LT-LV": "Siena su Latvija", "LT-PL": "Siena su Lenkija", "inland": "Šalies viduje",
        "airport": "Oro uostas", "seaport": "Jūrų uostas",
        "administrative": "Administracinis", "criminal": "Baudžiamasis",
        "sticks": "vnt. cigarečių", "l": "litrai", "kg": "kg", "pcs": "vnt.", "eur": "EUR",
        "incidents": "Įvykių registras", "convictions": "Teistumų registras",
        "customs": "Muitinės pažeidimų registras",
        "duplicate": "Dublikatas", "unknown_code": "Nežinomas kodas",
        "impossible_date": "Neįmanoma data", "missing_field": "Trūksta lauko",
        "bad_check_digit": "Blogas kontrolinis skaitmuo", "broken_encoding": "Sugadinta koduotė",
        "truncated_row": "Nukirsta eilutė", "malformed_value": "Netinkama reikšmė",
        "provisional": "preliminarus", "final": "galutinis",
    },
}  # fmt: skip


def code_label(code: str | None, language: str) -> str:
    """A code's label; a code with no label is shown as itself rather than hidden."""
    if code is None:
        return "–"
    return CODE_LABELS[language].get(code, code)
