"""Data quality (internal): the latest quality checks, quarantined rows by register and rule,
freshness of each register, and offence codes with no ICCS correspondence."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboards import data
from dashboards.ui import bar_chart, dataframe, label, snapshot, t, table

snap = snapshot()
st.title(t("page_quality"))


def _labelled(frame: pl.DataFrame) -> pl.DataFrame:
    """Register and rule codes replaced by their labels in the chosen language."""
    return frame.with_columns(
        pl.col(column).map_elements(label, return_dtype=pl.String)
        for column in ("register", "rule")
    )


st.subheader(t("latest_checks"))
checks = data.latest_checks(snap)
if checks is None:
    st.info(t("no_checks"))
else:
    if "success" in checks.columns:
        passed, failed = st.columns(2)
        passed.metric(t("checks_passed"), int(checks["success"].sum()))
        failed.metric(t("checks_failed"), int((~checks["success"]).sum()))
    dataframe(checks)

st.subheader(t("freshness"))
fresh = data.freshness(snap)
if fresh.height:
    table(
        fresh.with_columns(fresh["register"].map_elements(label, return_dtype=str)),
        {"register": "register", "last_partition": "last_partition",
         "last_loaded_at": "last_loaded_at", "age_days": "age_days", "files": "files",
         "rows_read": "rows_read", "rows_loaded": "rows_loaded",
         "rows_quarantined": "rows_quarantined"},
        name="freshness",
    )  # fmt: skip
else:
    st.info(t("no_file_loads"))
status = data.freshness_status(snap)
if status is not None:
    dataframe(status)

st.subheader(t("quarantine"))
by_rule = data.quarantine_by_rule(snap)
if by_rule.height:
    by_rule = _labelled(by_rule)
    bar_chart(
        by_rule.with_columns(pl.concat_str("register", "rule", separator=" · ").alias("label")),
        "label",
        "rows",
        t("rows"),
    )
    table(by_rule, {"register": "register", "rule": "rule", "rows": "rows"},
          name="quarantine_by_rule")  # fmt: skip
    table(
        _labelled(data.quarantine_by_month(snap)),
        {"partition": "partition", "register": "register", "rule": "rule", "field": "field",
         "rows": "rows"},
        name="quarantine_by_month",
    )  # fmt: skip
else:
    st.info(t("no_quarantine"))

st.subheader(t("unmapped_codes"))
unmapped = data.unmapped_codes(snap)
if unmapped.height:
    dataframe(unmapped)
else:
    st.success(t("no_unmapped_codes"))
