"""Where each component of a DSD goes in a data message, derived once from the sdmx1 objects.

SDMX 2.1 places an attribute by its relationship: with the primary measure (or a dimension
set that includes the observation dimension) on the observation, with series dimensions on
the series, with nothing on the data set. Writers, the DSD-specific schema, the reader and
the validation gate all need this placement; computing it in one place keeps them in step.
Observations are always keyed by TIME_PERIOD (dimensionAtObservation), as Eurostat expects.
"""

from __future__ import annotations

from dataclasses import dataclass

from sdmx.model import common
from sdmx.model import v21 as model

OBSERVATION_DIMENSION = "TIME_PERIOD"


@dataclass(frozen=True)
class Component:
    """A dimension, attribute or the measure: its codes when coded, else its value type."""

    id: str
    code_list: str | None = None
    codes: frozenset[str] | None = None
    value_type: str | None = None
    mandatory: bool = False


@dataclass(frozen=True)
class DsdLayout:
    """The DSD (and dataflow, when known) flattened into what a data message needs."""

    agency: str
    id: str
    version: str
    dataflow: str | None
    series_dimensions: tuple[Component, ...]
    time_dimension: Component
    measure: Component
    dataset_attributes: tuple[Component, ...]
    series_attributes: tuple[Component, ...]
    observation_attributes: tuple[Component, ...]

    @classmethod
    def of(cls, structure: model.DataflowDefinition | model.DataStructureDefinition) -> DsdLayout:
        """Layout of a dataflow (keeps its id for SDMX-CSV) or of a bare DSD."""
        if isinstance(structure, model.DataflowDefinition):
            dsd, flow = structure.structure, structure
        else:
            dsd, flow = structure, None
        dimensions = list(dsd.dimensions.components)
        time = [d for d in dimensions if d.id == OBSERVATION_DIMENSION]
        if not time:
            raise NotImplementedError(f"DSD {dsd.id} has no {OBSERVATION_DIMENSION} dimension")
        levels: dict[str, list[Component]] = {"dataset": [], "series": [], "observation": []}
        for attribute in dsd.attributes.components:
            levels[_attachment(attribute)].append(_component(attribute))
        return cls(
            agency=dsd.maintainer.id,
            id=dsd.id,
            version=str(dsd.version),
            dataflow=_reference(flow) if flow is not None else None,
            series_dimensions=tuple(
                _component(d) for d in dimensions if d.id != OBSERVATION_DIMENSION
            ),
            time_dimension=_component(time[0]),
            measure=_component(dsd.measures.components[0]),
            dataset_attributes=tuple(levels["dataset"]),
            series_attributes=tuple(levels["series"]),
            observation_attributes=tuple(levels["observation"]),
        )

    @property
    def dsd_reference(self) -> str:
        """AGENCY:ID(VERSION) of the DSD."""
        return f"{self.agency}:{self.id}({self.version})"

    @property
    def structure_id(self) -> str:
        """An xs:ID naming the structure inside one message (header and data set agree)."""
        return f"{self.agency}_{self.id}_{self.version}".replace(".", "_")

    @property
    def namespace(self) -> str:
        """Target namespace of the DSD-specific schema (SDMX 2.1 structure-specific rules)."""
        return (
            f"urn:sdmx:org.sdmx.infomodel.datastructure.DataStructure={self.dsd_reference}"
            f":ObsLevelDim:{OBSERVATION_DIMENSION}"
        )

    @property
    def dimensions(self) -> tuple[Component, ...]:
        return (*self.series_dimensions, self.time_dimension)

    @property
    def attributes(self) -> tuple[Component, ...]:
        return (*self.dataset_attributes, *self.series_attributes, *self.observation_attributes)

    @property
    def columns(self) -> tuple[str, ...]:
        """Column order of observation tables and SDMX-CSV: dimensions, value, attributes."""
        return (*(d.id for d in self.dimensions), self.measure.id, *(a.id for a in self.attributes))


def _reference(artefact: common.MaintainableArtefact) -> str:
    return f"{artefact.maintainer.id}:{artefact.id}({artefact.version})"


def _attachment(attribute: common.DataAttribute) -> str:
    related = attribute.related_to
    if isinstance(related, model.PrimaryMeasureRelationship):
        return "observation"
    if isinstance(related, common.DimensionRelationship):
        ids = {d.id for d in related.dimensions}
        return "observation" if OBSERVATION_DIMENSION in ids else "series"
    if isinstance(related, common.GroupRelationship):
        return "series"
    return "dataset"


def _component(component: common.Component) -> Component:
    representation = component.local_representation
    if representation is None and component.concept_identity is not None:
        representation = component.concept_identity.core_representation
    code_list = codes = value_type = None
    if representation is not None and representation.enumerated is not None:
        code_list = representation.enumerated.id
        codes = frozenset(representation.enumerated.items)
    elif representation is not None and representation.non_enumerated:
        facet_type = representation.non_enumerated[0].value_type
        value_type = facet_type.name if facet_type is not None else None
    mandatory = getattr(component, "usage_status", None) == common.UsageStatus.mandatory
    return Component(component.id, code_list, codes, value_type, mandatory)
