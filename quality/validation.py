"""GX validation of pandas batches, and what each expectation found.

GX runs on pandas because its SQL path cannot read DuckDB here (GX 1.x closes the
connection before fetching through duckdb-engine). A frame arrives as polars (DuckDB hands
over Arrow without copying) and is converted once into the dtypes GX evaluates vectorised:
int64 / float64 numbers, nanosecond datetimes, categorical text (see `gx_frame`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

import great_expectations as gx
import pandas as pd
import polars as pl
from great_expectations.core import ExpectationSuiteValidationResult
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)
from great_expectations.expectations import Expectation
from great_expectations.validator.v1_validator import Validator

from quality.results import ExpectationOutcome, jsonable

SAMPLE_SIZE = 10  # failing values kept per expectation
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_SIZE}
# pandas nanosecond datetimes span 1677-2262; register dates beyond are clipped to these
# bounds (they fail every date range check anyway, and the report shows the bound).
NS_EARLIEST = datetime(1678, 1, 1)
NS_LATEST = datetime(2261, 12, 31)
# One GX context per process; validations are serialised (GX contexts are not thread-safe).
_LOCK = threading.Lock()


@cache
def _datasource():
    """An in-memory GX context: nothing written, no usage statistics, no progress bars."""
    context = gx.get_context(
        mode="ephemeral",
        project_config=DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(),
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        ),
    )
    return context.data_sources.add_pandas("crimestat")


@cache
def _batch_definition(asset_name: str):
    """One dataframe asset per check, so the results (and Data Docs) name what was checked."""
    return (
        _datasource().add_dataframe_asset(asset_name).add_batch_definition_whole_dataframe("frame")
    )


def gx_frame(frame: pl.DataFrame, text_keys: Sequence[str] = ()) -> pd.DataFrame:
    """pandas in the dtypes GX's pandas engine handles vectorised (others fall back to a
    Python function per row): integers as int64 (float64 with nulls), decimals as float64,
    dates and timestamps as datetime64[ns]. Text becomes categorical, cheap for the row
    filtering GX repeats for every expectation; key text (`text_keys`, near unique per row)
    stays text, where encoding would cost more than it saves."""
    casts = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if dtype.is_integer() or (dtype.is_decimal() and dtype.scale == 0):  # sums: hugeint
            casts.append(column.cast(pl.Int64))
        elif dtype.is_decimal():
            casts.append(column.cast(pl.Float64))
        elif dtype == pl.Date or isinstance(dtype, pl.Datetime):
            casts.append(
                column.cast(pl.Datetime("us")).clip(NS_EARLIEST, NS_LATEST).cast(pl.Datetime("ns"))
            )
        elif dtype == pl.String and name not in text_keys:
            casts.append(column.cast(pl.Categorical))
    return frame.with_columns(casts).to_pandas()


def validate(
    frame: pd.DataFrame, *, suite: str, asset: str, expectations: list[Expectation]
) -> ExpectationSuiteValidationResult:
    """GX's own validator on the batch definition, not `Batch.validate`: that one loads the
    frame twice, and GX fingerprints every frame it loads (a third of the time on 1M rows)."""
    suite_definition = gx.ExpectationSuite(name=suite, expectations=expectations)
    with _LOCK:
        validator = Validator(
            batch_definition=_batch_definition(asset),
            batch_parameters={"dataframe": frame},
            result_format=RESULT_FORMAT,
        )
        try:
            return validator.validate_expectation_suite(suite_definition)
        finally:
            _release_batch()


def _release_batch() -> None:
    """GX's execution engine keeps the last batch of every asset and each metric computed on
    it (a boolean Series per row-level expectation); dropped after every validation, so memory
    holds one batch at a time, not one per check for the life of the process."""
    engine = _datasource().get_execution_engine()
    engine.batch_manager.reset_batch_cache()
    engine.batch_manager.batch_data_cache.clear()
    engine._metric_cache.clear()


def outcomes(
    validation: ExpectationSuiteValidationResult,
    frame: pd.DataFrame,
    *,
    check: str,
    keys: Sequence[str],
    batch: str,
) -> list[ExpectationOutcome]:
    return [_outcome(result, frame, check, keys, batch) for result in validation.results]


def _outcome(result, frame: pd.DataFrame, check: str, keys, batch: str) -> ExpectationOutcome:
    config = result.expectation_config
    columns = _columns(config.kwargs)
    found = result.result or {}
    error = _error(result.exception_info)
    success = bool(result.success)
    if error:
        unexpected, observed = None, {"error": error}
    else:
        unexpected = found.get("unexpected_count", 0 if success else len(frame))
        observed = _observed(found)
    return ExpectationOutcome(
        expectation=config.type,
        target=f"{check}.{'+'.join(columns)}" if columns else check,
        severity=config.severity.value,
        success=success,
        unexpected_count=None if unexpected is None else int(unexpected),
        failing_values=[] if success or error else _failing_values(found, frame, keys, columns),
        observed=observed,
        batch=batch,
    )


def _columns(kwargs: dict[str, Any]) -> list[str]:
    if "column" in kwargs:
        return [kwargs["column"]]
    if "column_A" in kwargs:
        return [kwargs["column_A"], kwargs["column_B"]]
    return list(kwargs.get("column_list", []))


def _error(exception_info: dict | None) -> str | None:
    """GX reports an expectation it could not evaluate (e.g. a missing column) per metric."""
    if not exception_info:
        return None
    infos = (
        exception_info.values() if "raised_exception" not in exception_info else [exception_info]
    )
    messages = [i.get("exception_message") for i in infos if i.get("raised_exception")]
    return "; ".join(m for m in messages if m) or None


def _observed(found: dict[str, Any]) -> Any:
    if "observed_value" in found:
        return jsonable(found["observed_value"])
    return {
        "element_count": found.get("element_count"),
        "unexpected_percent": jsonable(found.get("unexpected_percent")),
        "sample_value_counts": jsonable(found.get("partial_unexpected_counts", [])),
    }


def _failing_values(
    found: dict[str, Any], frame: pd.DataFrame, keys: Sequence[str], columns: list[str]
) -> list[Any]:
    """The failing rows' keys and checked columns when GX says which rows failed, else the
    distinct failing values; for a frame that had to be empty, its first rows."""
    shown = [name for name in dict.fromkeys([*keys, *columns]) if name in frame.columns]
    labels = found.get("partial_unexpected_index_list")
    if labels and keys:
        return [jsonable(row) for row in frame.loc[labels, shown].to_dict("records")]
    if columns:
        distinct = {
            json.dumps(value, sort_keys=True): value
            for value in jsonable(found.get("partial_unexpected_list", []))
        }
        return list(distinct.values())
    first_rows = frame.head(SAMPLE_SIZE)[shown or list(frame.columns)]
    return [jsonable(row) for row in first_rows.to_dict("records")]
