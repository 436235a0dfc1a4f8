"""Dagster definitions: turns the libraries and the dbt project into assets and checks."""
