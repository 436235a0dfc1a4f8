"""Partner extract packages (SPEC 9): the monthly agreed tables for the Latvian and Estonian
partners, as numbered zip packages with a manifest, delivered through an adapter and logged.
Part of the publication floor: the orchestration and the CLI call it; it imports core/, the
SDMX format library and the rest of publication/, never Dagster.

Modules of publication.partners, one job each (README.md beside them documents the
configuration files):
  config       partner configurations (config/<PARTNER>.yml), checked when loaded
  catalogue    the marts and their columns, from the dbt project's YAML
  breakdowns   mart column -> SDMX dimension, code list, roll-ups, relations, labels
  structures   the partner tables' dataflows and DSDs (sdmx_export.structures machinery)
  tables       an agreed table for a month: observations, disclosure control, labelled CSV
  delivery     delivery adapters (outbox folder; SFTP not built)
  packages     numbering, files, gate, manifest, zip, releases and delivery log
"""
