"""SDMX exports of crimestat (SPEC 8): structures, streaming writers, DSD-specific schemas,
the validation gate and disclosure control. A plain library: the orchestration calls it,
it never imports orchestration or Dagster.

Modules, one job each:
  settings        agency, country, NUTS vintage, version (passed in, never read from env)
  reference       code lists read from the dbt reference seeds
  codelists       the code lists of the three dataflows (seeds plus small fixed lists)
  crime_areas     Eurojust crime areas as sets of ICCS codes
  structures      sdmx1 information model: concept scheme, DSDs, dataflows
  sdmx1_repairs   fixes to sdmx1's structure XML; structure_file writes it
  layout          where each DSD component goes in a data message
  schemas         official schemas (offline) and the DSD-specific XSD
  writers         StructureSpecificData, GenericData, SDMX-CSV, streamed
  readers         message type, structure reference, observations, read_back
  validation      the delivery gate: validate_sdmx_file -> list[Problem]
  disclosure      primary and secondary cell suppression, CONF_STATUS
  datasets        mart tables -> observations per dataflow
  releases        release tables, vintages, revisions; gated, deterministic deliveries
  csv_safety      human-facing CSV cells neutralised against formula injection
"""
