"""SDMX 2.1 structures of the three dataflows, built with sdmx1's information model.

One StructureMessage holds every code list, the concept scheme, the DSDs and the dataflows:
it is written beside every delivery, and it is also what the writers, the DSD-specific
schemas and the validation gate read, so all of them agree on one definition.

Attributes (documented choice): OBS_STATUS and CONF_STATUS are attached to the primary
measure (observation level) and both Mandatory: every observation states whether it is
normal/provisional/estimated/... and whether it is free or confidential, so a receiver
never has to guess what a missing flag means.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sdmx.message import StructureMessage
from sdmx.model import common
from sdmx.model import v21 as model

from core.settings import StructureSettings
from sdmx_export.codelists import CodeListSpec, all_code_lists

CONCEPT_SCHEME_ID = "CS_CRIME"
TIME_DIMENSION = "TIME_PERIOD"
PRIMARY_MEASURE = "OBS_VALUE"


@dataclass(frozen=True)
class Concept:
    name: str
    description: str
    code_list: str | None = None


CONCEPTS: dict[str, Concept] = {
    "FREQ": Concept("Frequency", "Time interval at which observations occur.", "CL_FREQ"),
    "ICCS": Concept(
        "Offence category (ICCS)",
        "International Classification of Crime for Statistical Purposes, UNODC 2015.",
        "CL_ICCS",
    ),
    "UNIT": Concept("Unit of measure", "Unit in which the observation is expressed.", "CL_UNIT"),
    "GEO": Concept("Geopolitical entity", "Country or NUTS 3 region of the count.", "CL_GEO"),
    "LEG_STAT": Concept(
        "Legal status", "Stage of the criminal justice process of the persons.", "CL_LEG_STAT"
    ),
    "SEX": Concept("Sex", "Sex of the person.", "CL_SEX"),
    "AGE": Concept("Age class", "Age of the person at judgment.", "CL_AGE"),
    "CITIZEN": Concept("Citizenship", "Citizenship group of the person.", "CL_CITIZEN"),
    "XB_CRIME": Concept(
        "Serious cross-border crime area",
        "Crime area of the main offence, defined as a set of ICCS codes.",
        "CL_XB_CRIME",
    ),
    "ECRIS": Concept(
        "Origin of the conviction",
        "Whether the conviction was handed down at home or received through ECRIS.",
        "CL_ECRIS",
    ),
    TIME_DIMENSION: Concept("Time period", "Reference year of the observation."),
    PRIMARY_MEASURE: Concept("Observation value", "The count or rate."),
    "OBS_STATUS": Concept(
        "Observation status", "Quality of the value (normal, provisional, ...).", "CL_OBS_STATUS"
    ),
    "CONF_STATUS": Concept(
        "Confidentiality status",
        "F free; C primary confidential (small count); D secondary confidential.",
        "CL_CONF_STATUS",
    ),
}

OBSERVATION_ATTRIBUTES = ("OBS_STATUS", "CONF_STATUS")


@dataclass(frozen=True)
class SchemeSpec:
    """A concept scheme: its id, name and concepts (each with its code list, if coded)."""

    id: str
    name: str
    concepts: Mapping[str, Concept]


CRIME_SCHEME = SchemeSpec(CONCEPT_SCHEME_ID, "Crime and criminal justice concepts", CONCEPTS)


@dataclass(frozen=True)
class DataflowSpec:
    """A dataflow and its DSD (same id): dimensions in key order, TIME_PERIOD last."""

    id: str
    name: str
    description: str
    dimensions: tuple[str, ...]
    measure_type: common.FacetValueType


DATAFLOWS: dict[str, DataflowSpec] = {
    spec.id: spec
    for spec in (
        DataflowSpec(
            "CRIM_OFF_CAT",
            "Recorded offences by offence category",
            "Offences recorded by the police in the year the pre-trial investigation started, "
            "as numbers and per hundred thousand inhabitants, for the country and NUTS 3 regions.",
            ("FREQ", "ICCS", "UNIT", "GEO"),
            common.FacetValueType.double,
        ),
        DataflowSpec(
            "CRIM_JUST",
            "Persons convicted by offence category, sex, age and citizenship",
            "Persons whose conviction by a court of the reporting country became final in the "
            "year, counted once under their main offence.",
            ("FREQ", "LEG_STAT", "ICCS", "SEX", "AGE", "CITIZEN", "UNIT", "GEO"),
            common.FacetValueType.integer,
        ),
        DataflowSpec(
            "EJ_XB_CONV",
            "Persons convicted of serious cross-border crime",
            "Persons convicted in the year whose main offence falls in a serious cross-border "
            "crime area, by citizenship and by origin of the conviction (domestic or ECRIS).",
            ("FREQ", "XB_CRIME", "CITIZEN", "ECRIS", "UNIT", "GEO"),
            common.FacetValueType.integer,
        ),
    )
}


def build_structures(settings: StructureSettings) -> StructureMessage:
    """All structures as one sdmx1 StructureMessage, without header (see structure_file)."""
    return structure_message(
        DATAFLOWS.values(), all_code_lists(settings).values(), CRIME_SCHEME, settings
    )


def structure_message(
    dataflows: Iterable[DataflowSpec],
    code_lists: Iterable[CodeListSpec],
    scheme: SchemeSpec,
    settings: StructureSettings,
) -> StructureMessage:
    """Dataflows with their DSDs, the code lists and the concept scheme, as one message.

    The Eurostat dataflows use it through build_structures; the partner extracts build
    their own dataflows with it (publication.partners.structures), so both are made, written
    and validated by the same machinery.
    """
    lang = settings.language
    agency = common.Agency(id=settings.agency_id, name={lang: settings.agency_name})
    maintained = dict(
        maintainer=agency, version=settings.version, is_final=True, is_external_reference=False
    )
    message = StructureMessage()

    built_lists = {spec.id: _codelist(spec, lang, maintained) for spec in code_lists}
    concepts = model.ConceptScheme(id=scheme.id, name={lang: scheme.name}, **maintained)
    for concept_id, concept in scheme.concepts.items():
        concepts.append(
            model.Concept(
                id=concept_id, name={lang: concept.name}, description={lang: concept.description}
            )
        )

    for spec in dataflows:
        dsd = _dsd(spec, concepts, scheme.concepts, built_lists, lang, maintained)
        message.add(dsd)
        message.add(
            model.DataflowDefinition(
                id=spec.id,
                name={lang: spec.name},
                description={lang: spec.description},
                structure=dsd,
                **maintained,
            )
        )
    for codelist in built_lists.values():
        message.add(codelist)
    message.add(concepts)
    return message


def dataflow(structures: StructureMessage, dataflow_id: str) -> model.DataflowDefinition:
    """The dataflow `dataflow_id`, with a clear error naming the known ones."""
    try:
        return structures.dataflow[dataflow_id]
    except KeyError:
        known = ", ".join(structures.dataflow) or "none"
        raise KeyError(
            f"dataflow {dataflow_id!r} is not in the structures (known: {known})"
        ) from None


def _codelist(spec: CodeListSpec, lang: str, maintained: dict) -> model.Codelist:
    codelist = model.Codelist(id=spec.id, name={lang: spec.name}, **maintained)
    for code in spec.codes:
        item = model.Code(id=code.id, name={lang: code.name})
        if code.description:
            item.description = {lang: code.description}
        codelist.append(item)
    for code in spec.codes:
        if code.parent is not None:
            codelist[code.parent].append_child(codelist[code.id])
    return codelist


def _dsd(
    spec: DataflowSpec,
    concepts: model.ConceptScheme,
    definitions: Mapping[str, Concept],
    code_lists: dict[str, model.Codelist],
    lang: str,
    maintained: dict,
) -> model.DataStructureDefinition:
    dsd = model.DataStructureDefinition(id=spec.id, name={lang: spec.name}, **maintained)
    for dimension_id in spec.dimensions:
        dsd.dimensions.getdefault(
            dimension_id,
            cls=model.Dimension,
            concept_identity=concepts[dimension_id],
            local_representation=_coded(code_lists, definitions[dimension_id]),
        )
    # The schema requires a representation for the time dimension; sdmx1 leaves it out.
    dsd.dimensions.getdefault(
        TIME_DIMENSION,
        cls=model.TimeDimension,
        concept_identity=concepts[TIME_DIMENSION],
        local_representation=_text(common.FacetValueType.observationalTimePeriod),
    )
    dsd.measures.getdefault(
        PRIMARY_MEASURE,
        cls=model.PrimaryMeasure,
        concept_identity=concepts[PRIMARY_MEASURE],
        local_representation=_text(spec.measure_type),
    )
    for attribute_id in OBSERVATION_ATTRIBUTES:
        dsd.attributes.getdefault(
            attribute_id,
            cls=model.DataAttribute,
            concept_identity=concepts[attribute_id],
            local_representation=_coded(code_lists, definitions[attribute_id]),
            related_to=model.PrimaryMeasureRelationship(),
            usage_status=model.UsageStatus.mandatory,
        )
    return dsd


def _coded(code_lists: dict[str, model.Codelist], concept: Concept) -> common.Representation:
    assert concept.code_list is not None
    return common.Representation(enumerated=code_lists[concept.code_list])


def _text(value_type: common.FacetValueType) -> common.Representation:
    return common.Representation(non_enumerated=[common.Facet(value_type=value_type)])
