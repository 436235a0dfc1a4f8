"""The ground floor: what every other folder may import, and which imports nothing of the
project outside core/ (README, "How the code is laid out").

Modules, one job each:
  settings        every setting of the product, read once by load_settings() and passed
                  down; the country profile and the SDMX structure settings made from it
  vocabulary      the terms of the statistics: TOTAL, UNMAPPED, age and citizenship
                  groups, mart grains, the dataflows of persons
  contracts       the registers' formats (fields, code sets such as SANCTIONS) and the raw
                  tables they land in
  reference       code lists read from the dbt reference seeds
  crime_areas     Eurojust's serious cross-border crime areas as sets of ICCS codes
  code_labels     Lithuanian and English labels of the codes
  disclosure      disclosure control's mathematics: suppression and its audit
  warehouse       the DuckDB warehouse: connections and ATTACH that wait for its lock,
                  transactions, the raw schema
  dbt_lock_wait   dbt-duckdb plugin: dbt's connections wait through the same loop
  dbt_environment how every door runs dbt: the same home, memory limit and lock wait
  snapshot_layout the serving directory's layout and pointer, written by publication and
                  read by the dashboards
  run_lock        one run at a time on a home
  files           atomic writes, SHA-256 of a file, fsync
  csv_safety      CSV cells neutralised against formula injection
  masking         database URLs named without their secrets
"""
