"""The code lists of the three dataflows, as plain specifications (ids, names, parents).

Codes that exist in a reference seed (ICCS, GEO, OBS_STATUS, CONF_STATUS) are read from it;
the rest are small fixed SDMX/Eurostat lists with no seed, written out here. Parents encode
the additive hierarchies (T = M + F, TOTAL = sum of its children, ...) that disclosure
control relies on; CL_ICCS is the exception (a section is more than its listed sub-codes).
"""

from __future__ import annotations

from core.crime_areas import CRIME_AREAS
from core.reference import CodeListSpec, CodeSpec, geo_codes, iccs_codes, status_codes
from core.settings import StructureSettings
from core.vocabulary import AGE_GROUPS, BROAD_AGE_GROUPS, CITIZEN_GROUPS, TOTAL, UNKNOWN

# The ICCS codes below section level that Eurostat's crim_off_cat publishes (mart form);
# with the 11 sections and TOTAL they make CL_ICCS.
ICCS_PUBLISHED = (
    "0101", "0102", "020111", "020221", "0301", "03011", "03012", "0302", "030221", "0401",
    "0501", "05012", "0502", "05021", "0601", "0701", "0703", "07031", "07041", "0903", "09051",
)  # fmt: skip


def _flat(
    id_: str, name: str, codes: list[tuple[str, str]], total: str | None = None
) -> CodeListSpec:
    """A list whose codes (except `total`) all add up to `total`."""
    specs = [CodeSpec(total, "Total")] if total else []
    specs += [CodeSpec(code, label, parent=total) for code, label in codes]
    return CodeListSpec(id_, name, tuple(specs))


FREQ = _flat("CL_FREQ", "Frequency", [("A", "Annual")])
UNIT = _flat(
    "CL_UNIT",
    "Unit of measure",
    [("NR", "Number"), ("P_HTHAB", "Per hundred thousand inhabitants")],
)
LEG_STAT = _flat(
    "CL_LEG_STAT",
    "Legal status of persons",
    [
        ("PER_SUSP", "Suspected person"),
        ("PER_PRSC", "Prosecuted person"),
        ("PER_CNV", "Convicted person"),
    ],
)
SEX = _flat("CL_SEX", "Sex", [("M", "Males"), ("F", "Females")], total="T")
CITIZEN = _flat(
    "CL_CITIZEN",
    "Country of citizenship",
    list(CITIZEN_GROUPS.items()),
    total=TOTAL,
)
AGE = CodeListSpec(
    "CL_AGE",
    "Age class at judgment",
    (
        CodeSpec(TOTAL, "Total"),
        *(
            spec
            for broad, name in BROAD_AGE_GROUPS.items()
            for spec in (
                CodeSpec(broad, name, parent=TOTAL),
                *(CodeSpec(g.code, g.name, parent=broad) for g in AGE_GROUPS if g.broad == broad),
            )
        ),
        CodeSpec(UNKNOWN, "Unknown", parent=TOTAL),
    ),
)
ECRIS = _flat(
    "CL_ECRIS",
    "Origin of the conviction",
    [
        ("DOM", "Convicted by a court of the reporting country"),
        ("ECRIS", "Conviction by a court of another Member State, received through ECRIS"),
    ],
    total=TOTAL,
)
XB_CRIME = CodeListSpec(
    "CL_XB_CRIME",
    "Serious cross-border crime area",
    (
        CodeSpec(TOTAL, "Total of the crime areas"),
        *(
            CodeSpec(area.code, area.name, parent=TOTAL, description=area.definition)
            for area in CRIME_AREAS
        ),
    ),
)


def iccs_code_list(settings: StructureSettings) -> CodeListSpec:
    """CL_ICCS: the sections and the codes Eurostat publishes, each under its nearest
    published ancestor, all under TOTAL. Not additive: a section has unpublished codes."""
    codes = iccs_codes(settings.reference_dir)
    by_code = {c.code: c for c in codes}
    unknown = sorted(set(ICCS_PUBLISHED) - set(by_code))
    if unknown:
        raise ValueError(f"ICCS codes {unknown} are not in iccs_codes.csv")
    published = {c.code for c in codes if c.level == 1} | set(ICCS_PUBLISHED)
    specs = [CodeSpec(TOTAL, "Total (all ICCS sections and offences not classified)")]
    for code in codes:
        if code.code not in published:
            continue
        ancestor = code.parent
        while ancestor is not None and ancestor not in published:
            ancestor = by_code[ancestor].parent
        parent = by_code[ancestor].sdmx_id if ancestor else TOTAL
        specs.append(CodeSpec(code.sdmx_id, code.name, parent=parent))
    return CodeListSpec(
        "CL_ICCS",
        "International Classification of Crime for Statistical Purposes (ICCS)",
        tuple(specs),
        additive=False,
    )


def geo_code_list(settings: StructureSettings) -> CodeListSpec:
    codes = geo_codes(settings.reference_dir, settings.country, settings.nuts_vintage)
    return CodeListSpec(
        "CL_GEO", "Geopolitical entity (country and NUTS 3 regions)", tuple(codes), additive=False
    )


def obs_status_code_list(settings: StructureSettings) -> CodeListSpec:
    codes = status_codes(settings.reference_dir, "sdmx_obs_status.csv")
    return CodeListSpec("CL_OBS_STATUS", "Observation status", tuple(codes))


def conf_status_code_list(settings: StructureSettings) -> CodeListSpec:
    codes = status_codes(settings.reference_dir, "sdmx_conf_status.csv")
    return CodeListSpec("CL_CONF_STATUS", "Confidentiality status", tuple(codes))


def all_code_lists(settings: StructureSettings) -> dict[str, CodeListSpec]:
    """Every code list of the structures, by id."""
    lists = [
        FREQ,
        iccs_code_list(settings),
        UNIT,
        geo_code_list(settings),
        LEG_STAT,
        SEX,
        AGE,
        CITIZEN,
        XB_CRIME,
        ECRIS,
        obs_status_code_list(settings),
        conf_status_code_list(settings),
    ]
    return {spec.id: spec for spec in lists}
