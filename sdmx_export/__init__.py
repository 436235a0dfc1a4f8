"""The SDMX format library (SPEC 8): structures, code lists, writers, readers, schemas and
the validation gate, kept apart from what is published (publication/), as sdmx1 keeps its
model apart from its readers and writers. A plain library: it imports core/ only, never
Dagster, the warehouse or the publication floor; its callers pass the structure settings
(core.settings.StructureSettings) in.

Modules, one job each:
  codelists       the code lists of the three dataflows (seeds plus small fixed lists)
  structures      sdmx1 information model: concept scheme, DSDs, dataflows
  sdmx1_repairs   fixes to sdmx1's structure XML
  structure_file  the SDMX-ML structure message, written byte-identically
  layout          where each DSD component goes in a data message
  schemas         official schemas (offline) and the DSD-specific XSD
  namespaces      the SDMX-ML namespaces
  xml_text        polars expressions rendering XML fragments for the writers
  writers         StructureSpecificData, GenericData, SDMX-CSV, streamed
  readers         message type, structure reference, observations, read_back
  validation      the delivery gate: validate_sdmx_file -> list[Problem]
"""
