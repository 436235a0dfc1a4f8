"""SDMX structures of a partner's agreed tables, built by the Eurostat dataflows' machinery
(sdmx_export.structures.structure_message), so the same writers, DSD-specific schemas and
validation gate serve the partner files unchanged.

Every agreed table is a dataflow (and DSD of the same id, `<PARTNER>_<TABLE ID>`): FREQ (M),
one dimension per breakdown, TIME_PERIOD (the month), OBS_VALUE (a count) and the mandatory
observation attributes OBS_STATUS and CONF_STATUS. The concept scheme CS_CRIME_PARTNER holds
every concept a partner table can use, so it is the same artefact in every partner's
structure file; code lists are those the partner's tables use, each identical wherever it
appears (CL_GEO, CL_SEX, CL_AGE, CL_OBS_STATUS and CL_CONF_STATUS are the Eurostat
dataflows' own).
"""

from __future__ import annotations

from sdmx.message import StructureMessage
from sdmx.model import common

from core.reference import CodeSpec
from core.settings import StructureSettings
from publication.partners.breakdowns import BREAKDOWNS
from publication.partners.config import AgreedTable, PartnerConfig
from sdmx_export import codelists
from sdmx_export.codelists import CodeListSpec
from sdmx_export.structures import (
    CONCEPTS,
    OBSERVATION_ATTRIBUTES,
    PRIMARY_MEASURE,
    TIME_DIMENSION,
    Concept,
    DataflowSpec,
    SchemeSpec,
    structure_message,
)

FREQUENCY = "M"
FREQ_MONTHLY = CodeListSpec(
    "CL_FREQ_M", "Frequency of the monthly partner extracts", (CodeSpec(FREQUENCY, "Monthly"),)
)

PARTNER_SCHEME = SchemeSpec(
    "CS_CRIME_PARTNER",
    "Concepts of the partner extracts",
    {
        "FREQ": Concept("Frequency", "Time interval at which observations occur.", FREQ_MONTHLY.id),
        **{kind.concept: kind.definition for kind in BREAKDOWNS.values()},
        TIME_DIMENSION: Concept("Time period", "Reference month of the observation."),
        PRIMARY_MEASURE: Concept("Observation value", "The count."),
        **{attribute: CONCEPTS[attribute] for attribute in OBSERVATION_ATTRIBUTES},
    },
)


def table_dataflow(partner: PartnerConfig, table: AgreedTable) -> DataflowSpec:
    """The dataflow (and DSD) of one agreed table."""
    filters = "; ".join(f"{column} in {list(values)}" for column, values in table.filters)
    return DataflowSpec(
        table.dataflow_id,
        table.title,
        f"Agreed monthly extract for {partner.name}: {table.title}. "
        f"Source: mart {table.source}, {table.measure}"
        + (f", rows where {filters}" if filters else "")
        + (". Disclosure control applied." if table.disclosure_control else "."),
        ("FREQ", *(BREAKDOWNS[b.column].concept for b in table.breakdowns)),
        common.FacetValueType.integer,
    )


def partner_structures(partner: PartnerConfig, settings: StructureSettings) -> StructureMessage:
    """Every agreed table of `partner` as a dataflow, with the code lists they use."""
    lists = [FREQ_MONTHLY]
    for table in partner.tables:
        lists += [BREAKDOWNS[b.column].code_list(settings) for b in table.breakdowns]
    lists += [
        codelists.obs_status_code_list(settings),
        codelists.conf_status_code_list(settings),
    ]
    unique = {spec.id: spec for spec in lists}
    return structure_message(
        (table_dataflow(partner, table) for table in partner.tables),
        unique.values(),
        PARTNER_SCHEME,
        settings,
    )
