"""What a mart column becomes when a partner table is broken down by it: an SDMX dimension
(concept and code list), the codes each mart value counts under (its own, its ancestors for
totals, its ICCS sections), the additive relations disclosure control protects, and labels.

Two kinds of breakdown:

- CodedBreakdown: a code list whose leaves are the mart's values and whose parents add up
  (SEX T = M + F, AGE TOTAL = Y_LT18 + Y_GE18 + UNK, GEO country = its NUTS 3 regions, ...).
  Without `total` a table shows the leaves; with it, every aggregate above them too.
- IccsBreakdown: ICCS, whose mart values are classified at any level ('0502', '05012'): a
  table shows chosen levels from the section down (levels [1, 2]: each offence under its
  section and its level-2 code). ICCS is not additive below the section (an offence may be
  classified at the section itself), so the only relation is TOTAL = sections + UNMAPPED.

Code lists shared with the Eurostat dataflows (CL_GEO, CL_SEX, CL_AGE) are reused as they
are; the others (CL_ICCS_FULL, CL_COUNTRY, the customs lists) are new artefacts of the same
agency.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache

import polars as pl

from core import contracts
from core.code_labels import CODE_LABELS
from core.disclosure import FREE, STATUS, Dimension, Relation
from core.reference import CodeSpec, iccs_codes
from core.settings import StructureSettings
from core.vocabulary import TOTAL, UNKNOWN, UNMAPPED
from publication.datasets import ancestors
from sdmx_export import codelists
from sdmx_export.codelists import CodeListSpec
from sdmx_export.structures import Concept

STATELESS = contracts.CITIZENSHIP_STATELESS
ENGLISH = "en"


@dataclass(frozen=True)
class Breakdown:
    """A breakdown as agreed in a partner's configuration."""

    column: str
    levels: tuple[int, ...] = ()
    total: bool = False


@dataclass(frozen=True)
class CodedBreakdown:
    """A mart column whose values are the leaves of an additive code list."""

    column: str
    concept: str
    definition: Concept
    code_list: Callable[[StructureSettings], CodeListSpec]
    # Labels the code list's own (English) names cannot give: (settings, language) -> labels.
    labels_of: Callable[[StructureSettings, str], Mapping[str, str]] | None = None

    def mart_values(self, settings: StructureSettings) -> set[str]:
        spec = self.code_list(settings)
        parents = {code.parent for code in spec.codes}
        return {code.id for code in spec.codes if code.id not in parents}

    def problems(self, breakdown: Breakdown, disclosure_control: bool) -> list[str]:
        if breakdown.levels:
            return [f"levels apply to iccs_code only, not to {self.column}"]
        return []

    def roll_up(self, settings: StructureSettings, breakdown: Breakdown) -> dict[str, list[str]]:
        """Mart value -> the codes it counts under in the table."""
        values = self.mart_values(settings)
        if breakdown.total:
            chains = ancestors(self.code_list(settings))
            return {value: chains[value] for value in values}
        return {value: [value] for value in values}

    def relations(
        self, settings: StructureSettings, breakdown: Breakdown, codes: Iterable[str]
    ) -> tuple[Relation, ...]:
        """parent = sum of its children, among the codes present (absent codes count 0)."""
        if not breakdown.total:
            return ()
        present = set(codes)
        children: dict[str, list[str]] = {}
        for code in self.code_list(settings).codes:
            if code.parent in present and code.id in present:
                children.setdefault(code.parent, []).append(code.id)
        return tuple(Relation(total, tuple(parts)) for total, parts in children.items())

    def labels(self, settings: StructureSettings, language: str) -> Mapping[str, str]:
        own = dict(self.labels_of(settings, language)) if self.labels_of else {}
        if language == ENGLISH:
            return {code.id: code.name for code in self.code_list(settings).codes} | own
        return own


@dataclass(frozen=True)
class IccsBreakdown:
    """The ICCS code of a mart, shown at levels 1..k of the classification."""

    column: str
    concept: str
    definition: Concept

    def code_list(self, settings: StructureSettings) -> CodeListSpec:
        return iccs_full_code_list(settings)

    def mart_values(self, settings: StructureSettings) -> set[str]:
        return {code.code for code in iccs_codes(settings.reference_dir)} | {UNMAPPED}

    def problems(self, breakdown: Breakdown, disclosure_control: bool) -> list[str]:
        levels = breakdown.levels
        if not levels:
            return ["iccs_code needs levels, e.g. [1] for sections or [1, 2]"]
        if list(levels) != list(range(1, len(levels) + 1)):
            return [
                f"levels must run from the section down without gaps ([1], [1, 2], ...), "
                f"not {list(levels)}: every offence then has a place at each level shown"
            ]
        if disclosure_control and len(levels) > 1:
            return [
                f"disclosure control needs an additive breakdown: ICCS levels {list(levels)} "
                "overlap (a section holds its level-2 codes); agree on levels [1]"
            ]
        return []

    def roll_up(self, settings: StructureSettings, breakdown: Breakdown) -> dict[str, list[str]]:
        deepest = max(breakdown.levels)
        codes = iccs_codes(settings.reference_dir)
        by_code = {code.code: code for code in codes}
        total = [TOTAL] if breakdown.total else []
        mapping = {UNMAPPED: [UNMAPPED, *total]}
        for code in codes:
            chain, current = [], code
            while current is not None:
                if current.level <= deepest:
                    chain.append(current.sdmx_id)
                current = by_code.get(current.parent) if current.parent else None
            mapping[code.code] = [*chain, *total]
        return mapping

    def relations(
        self, settings: StructureSettings, breakdown: Breakdown, codes: Iterable[str]
    ) -> tuple[Relation, ...]:
        """TOTAL = sections + UNMAPPED; sections and their sub-codes are inequalities only."""
        if not breakdown.total or breakdown.levels != (1,):
            return ()
        present = set(codes)
        parts = [c.id for c in self.code_list(settings).codes if c.parent == TOTAL]
        return (Relation(TOTAL, tuple(p for p in parts if p in present)),)

    def labels(self, settings: StructureSettings, language: str) -> Mapping[str, str]:
        if language != ENGLISH:
            return {}  # the ICCS seed has English (and Spanish) labels only
        return {code.id: code.name for code in self.code_list(settings).codes}


def iccs_full_code_list(settings: StructureSettings) -> CodeListSpec:
    """CL_ICCS_FULL: every ICCS code under its parent, sections under TOTAL, and UNMAPPED."""
    specs = [CodeSpec(TOTAL, "Total (all ICCS sections and offences not classified)")]
    by_code = {code.code: code for code in iccs_codes(settings.reference_dir)}
    for code in by_code.values():
        parent = by_code[code.parent].sdmx_id if code.parent else TOTAL
        specs.append(CodeSpec(code.sdmx_id, code.name, parent=parent))
    specs.append(CodeSpec(UNMAPPED, CODE_LABELS[ENGLISH][UNMAPPED], parent=TOTAL))
    return CodeListSpec(
        "CL_ICCS_FULL",
        "International Classification of Crime for Statistical Purposes (ICCS), all levels",
        tuple(specs),
        additive=False,
    )


def _register_list(id_: str, name: str, codes: Iterable[str]) -> CodeListSpec:
    """A register's own codes (core/contracts.py) under TOTAL, named in English."""
    labels = CODE_LABELS[ENGLISH]
    specs = [CodeSpec(TOTAL, "Total")]
    specs += [CodeSpec(code, labels.get(code, code), parent=TOTAL) for code in codes]
    return CodeListSpec(id_, name, tuple(specs))


VIOLATION_TYPE = _register_list(
    "CL_VIOLATION_TYPE", "Type of customs violation", contracts.VIOLATION_TYPES
)
BORDER_SECTION = _register_list(
    "CL_BORDER_SECTION", "Border section or place of detection", contracts.BORDER_SECTIONS
)
PROCEDURE = _register_list("CL_PROCEDURE", "Procedure of a customs violation", contracts.PROCEDURES)


@cache
def _countries(settings: StructureSettings) -> tuple[tuple[str, str], ...]:
    frame = pl.read_csv(settings.reference_dir / "countries.csv", infer_schema=False)
    return tuple(frame.select("alpha2", "name").iter_rows())


def country_code_list(settings: StructureSettings) -> CodeListSpec:
    """CL_COUNTRY: ISO 3166-1 alpha-2 from the countries seed, XX stateless, UNK unknown."""
    specs = [CodeSpec(TOTAL, "Total")]
    specs += [CodeSpec(code, name, parent=TOTAL) for code, name in _countries(settings)]
    specs += [
        CodeSpec(STATELESS, "Stateless", parent=TOTAL),
        CodeSpec(UNKNOWN, "Unknown", parent=TOTAL),
    ]
    return CodeListSpec("CL_COUNTRY", "Country of citizenship", tuple(specs))


def country_codes(settings: StructureSettings) -> set[str]:
    """The alpha-2 codes of the countries seed."""
    return {code for code, _ in _countries(settings)}


def _geo_labels(settings: StructureSettings, language: str) -> Mapping[str, str]:
    """NUTS 3 regions keep their official (national) names in every language."""
    return {
        code.id: code.name
        for code in codelists.geo_code_list(settings).codes
        if code.parent is not None
    }


BreakdownKind = CodedBreakdown | IccsBreakdown

BREAKDOWNS: dict[str, BreakdownKind] = {
    kind.column: kind
    for kind in (
        IccsBreakdown(
            "iccs_code",
            "ICCS",
            Concept(
                "Offence category (ICCS)",
                "International Classification of Crime for Statistical Purposes, UNODC 2015, "
                "at the levels agreed; UNMAPPED for national codes without correspondence.",
                "CL_ICCS_FULL",
            ),
        ),
        CodedBreakdown(
            "nuts3",
            "GEO",
            Concept("Geopolitical entity", "NUTS 3 region; the country as their total.", "CL_GEO"),
            codelists.geo_code_list,  # CL_GEO: the country is the sum of its regions
            _geo_labels,
        ),
        CodedBreakdown(
            "sex",
            "SEX",
            Concept("Sex", "Sex of the person.", "CL_SEX"),
            lambda settings: codelists.SEX,
        ),
        CodedBreakdown(
            "age_group",
            "AGE",
            Concept("Age class", "Age of the person at judgment.", "CL_AGE"),
            lambda settings: codelists.AGE,
        ),
        CodedBreakdown(
            "citizenship",
            "CITIZENSHIP",
            Concept("Citizenship", "Country of citizenship of the person.", "CL_COUNTRY"),
            country_code_list,
        ),
        CodedBreakdown(
            "violation_type",
            "VIOLATION_TYPE",
            Concept("Type of violation", "Kind of customs violation.", VIOLATION_TYPE.id),
            lambda settings: VIOLATION_TYPE,
        ),
        CodedBreakdown(
            "border_section",
            "BORDER_SECTION",
            Concept("Border section", "Border section or place of detection.", BORDER_SECTION.id),
            lambda settings: BORDER_SECTION,
        ),
        CodedBreakdown(
            "procedure",
            "PROCEDURE",
            Concept("Procedure", "Administrative or criminal procedure.", PROCEDURE.id),
            lambda settings: PROCEDURE,
        ),
    )
}


def table_dimensions(
    breakdowns: Iterable[Breakdown],
    codes: Mapping[str, tuple[str, ...]],
    settings: StructureSettings,
) -> list[Dimension]:
    """A table's dimensions for disclosure control: per breakdown its concept, the codes the
    table has (`codes` by concept) and the relations among them."""
    dimensions = []
    for breakdown in breakdowns:
        kind = BREAKDOWNS[breakdown.column]
        present = codes[kind.concept]
        dimensions.append(
            Dimension(kind.concept, present, kind.relations(settings, breakdown, present))
        )
    return dimensions


def every_cell(
    frame: pl.DataFrame, codes: Mapping[str, tuple[str, ...]], value: str
) -> pl.DataFrame:
    """A published table over every combination of codes: a cell it left out was 0 (packages
    leave zero cells out), and so known to everyone."""
    columns = [
        pl.DataFrame({c: list(values)}, schema={c: pl.String}) for c, values in codes.items()
    ]
    grid = columns[0]
    for column in columns[1:]:
        grid = grid.join(column, how="cross")
    return grid.join(frame, on=list(codes), how="left").with_columns(
        pl.col(value).fill_null(0), pl.col(STATUS).fill_null(FREE)
    )
