"""The publication floor: what leaves the warehouse and how.

The one gate, the release registry and its vintages, SDMX deliveries (releases), partner
packages (partners/), disclosure control's view of every table of persons published so far
(population, stored_cells, linked_tables), crash-safe placement of files (intents), and the
serving snapshots the dashboards read (serving, public, public_snapshot). It imports the floors
below (core, the domain libraries, the warehouse dbt builds), never Dagster, the CLI or the
dashboards.
"""
