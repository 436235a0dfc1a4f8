"""Releases and revisions: the calendar, the vintages of each dataset and period, the files
of each release to download, each release's revisions against the previous vintage, and the
disclosure control audit of a release of person counts (internal face only: the public
snapshot holds no audit, and the public-mode preview does not show it).

Files are read only when downloaded, from the copies published beside the snapshot
(core.snapshot_layout): published files are immutable, so reading them does not race with
the pipeline.
"""

from __future__ import annotations

from pathlib import PurePosixPath

import polars as pl
import streamlit as st

from dashboards import data
from dashboards.ui import dataframe, public_mode, snapshot, t, table

snap = snapshot()
st.title(t("page_releases"))


def _download(relative_path: str, index: int) -> None:
    path = data.export_path(relative_path)
    name = PurePosixPath(relative_path).name
    if not path.is_file():
        st.warning(t("file_missing", name=relative_path))
        return
    st.download_button(
        t("download", name=name),
        data=path.read_bytes,
        file_name=name,
        key=f"file_{index}_{relative_path}",
        on_click="ignore",
    )


def _audit(release_id: str, dataset: str) -> None:
    """Threshold, requirement, counts and every suppressed cell with its interval."""
    audit = data.disclosure_audit(snap, release_id)
    if audit is None:
        if dataset in data.audited_datasets(snap):
            st.subheader(t("disclosure_audit"))
            st.info(t("no_audit"))
        return
    st.subheader(t("disclosure_audit"))
    cells = data.audit_cells(audit)
    counts = data.audit_counts(cells)
    columns = st.columns(5)
    columns[0].metric(t("audit_threshold"), audit.get("threshold"))
    for column, key in zip(columns[1:], counts, strict=True):
        column.metric(t(f"audit_{key}"), counts[key])
    st.caption(t("audit_requirement"))
    st.code(str(audit.get("requirement", "")), language=None)
    with st.expander(t("audit_assumptions")):
        st.caption(t("audit_intruder"))
        st.text(str(audit.get("intruder_knows", "")))
        st.caption(t("audit_bounds"))
        st.text(str(audit.get("bounds", "")))
    if not cells.height:
        st.info(t("audit_no_cells"))
        return
    table(
        cells,
        {"series_key": "series_key", "time_period": "time_period", "primary": "audit_primary_cell",
         "lower": "audit_lower", "upper": "audit_upper"},
        name=f"disclosure_audit_{release_id}",
    )  # fmt: skip
    st.caption(t("audit_unbounded_note"))


def _files(frame: pl.DataFrame) -> None:
    if not frame.height:
        st.info(t("no_files"))
        return
    dataframe(frame)
    for index, relative_path in enumerate(frame["relative_path"]):
        _download(relative_path, index)


releases = data.releases(snap)
if releases is None or not releases.height:
    st.info(t("no_releases"))
    exported = data.release_files(snap, None)
    if exported.height:
        st.subheader(t("export_files"))
        _files(exported)
    st.stop()

missing = [c for c in data.RELEASE_COLUMNS if c not in releases.columns]
if missing:
    st.warning(t("release_columns_missing", columns=", ".join(missing)))
    dataframe(releases)
    st.stop()

st.subheader(t("calendar"))
now = data.published_at(snap)
calendar = releases.sort("embargo_until", descending=True, nulls_last=True).with_columns(
    pl.when(pl.col("embargo_until") > now)
    .then(pl.concat_str(pl.col("status"), pl.lit(f" ({t('upcoming')})")))
    .otherwise(pl.col("status"))
    .alias("status")
)
table(
    calendar,
    {"release_id": "release", "dataset": "dataset", "reference_period": "reference_period",
     "vintage": "vintage", "status": "status", "as_of": "as_of",
     "embargo_until": "embargo_until", "published_at": "published_at", "notes": "notes"},
    name="release_calendar",
)  # fmt: skip

st.subheader(t("vintages"))
vintages = releases.group_by("dataset", "reference_period").agg(
    pl.col("vintage").sort().cast(pl.String).str.join(", ").alias("vintage"),
    pl.col("published_at").max(),
)
table(
    vintages.sort("dataset", "reference_period"),
    {"dataset": "dataset", "reference_period": "reference_period", "vintage": "vintage",
     "published_at": "published_at"},
    name="release_vintages",
)  # fmt: skip

release_id = st.selectbox(t("release"), releases["release_id"].to_list(), key="release_pick")
st.subheader(t("downloads"))
_files(data.release_files(snap, release_id))

st.subheader(t("revisions"))
revised = data.revisions(snap, release_id)
if revised is None:
    st.info(t("no_revisions"))
else:
    table(
        revised,
        {"series_key": "series_key", "time_period": "time_period",
         "previous_value": "previous_value", "new_value": "value", "difference": "difference"},
        name=f"revisions_{release_id}",
    )  # fmt: skip

if not public_mode():
    _audit(release_id, releases.filter(pl.col("release_id") == release_id)["dataset"][0])
