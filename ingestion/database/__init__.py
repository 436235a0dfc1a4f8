"""The registers' operational databases as a second source (SPEC 3.4); PostgreSQL is the
reference.

- tables.py: the registers' own tables (typed, one row per version) and how a month of each
  is rendered into the landing files' text form;
- connection.py: connections with masked URLs, and the check that a database is shaped like
  its register before anything is read;
- pull.py: the incremental pull of a month partition, appended with its watermark in one
  DuckDB transaction (the design: watermark semantics, lineage, why rows append);
- watermarks.py: `raw.source_watermarks`;
- seeding.py: landing files into the registers' tables (`crimestat generate --to-db`).
"""
