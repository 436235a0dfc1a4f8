"""Quality gates on the warehouse (SPEC 6): Great Expectations suites on the raw registers and
the marts, their results kept per run, Data Docs.

    from quality import SUITES, run_suite, store_results, build_data_docs
    result = run_suite(con, "raw_incidents", partitions=["2024-05"])
    result.success_critical      # False = blocking failure (stop publication)
    store_results(con, run_id, [result], checked_at)

A plain library: no Dagster here; orchestration wires suites into asset checks by
`Suite.asset_key`. See README.md for the design.
"""

from quality.data_docs import build_data_docs
from quality.definitions import CRITICAL, WARNING, Suite
from quality.results import ExpectationOutcome, SuiteResult, store_results
from quality.runner import run_suite
from quality.suites import SUITES

__all__ = [
    "CRITICAL",
    "SUITES",
    "WARNING",
    "ExpectationOutcome",
    "Suite",
    "SuiteResult",
    "build_data_docs",
    "run_suite",
    "store_results",
]
