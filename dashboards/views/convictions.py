"""Persons convicted: by sex, age, citizenship, sanction and main offence, ECRIS apart.

Every figure comes from the disclosure-controlled breakdowns of the snapshot: in public
mode hidden cells have no value and show their flag; otherwise true values are shown with
the flag they would get, so statisticians see what the public will see.
"""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from dashboards import data
from dashboards.public import TOTAL
from dashboards.ui import bar_chart, label, public_mode, snapshot, t, table, year_picker

BREAKDOWNS = ("sex", "age_group", "citizen_group", "sanction", "iccs_section")

snap = snapshot()
public = public_mode()
st.title(t("page_convictions"))
year = year_picker(data.conviction_years(snap, public), key="convictions_year")
if year is None:
    st.stop()
threshold = data.disclosure_threshold(snap)


def _shown(value: int | None, status: str) -> str:
    return f"{value:,}" if value is not None else status


def _labelled(frame: pl.DataFrame, breakdown: str) -> pl.DataFrame:
    labels = [
        data.iccs_label(snap, code) if breakdown == "iccs_section" and code not in
        (TOTAL, data.UNMAPPED) else label(code)
        for code in frame["code"]
    ]  # fmt: skip
    return frame.with_columns(
        pl.Series("label", labels),
        pl.Series("shown", [_shown(v, s) for v, s in zip(frame["persons"], frame["conf_status"],
                                                           strict=True)]),
    )  # fmt: skip


for via_ecris in (False, True):
    st.header(t("ecris" if via_ecris else "domestic"))
    total = data.persons_total(snap, year, via_ecris, public)
    st.metric(
        t("persons_convicted_ecris" if via_ecris else "persons_convicted"),
        _shown(total, "C"),
    )
    if total == 0:
        continue
    origin = "ecris" if via_ecris else "domestic"
    columns = st.columns(2)
    for index, breakdown in enumerate(BREAKDOWNS):
        frame = _labelled(data.persons_breakdown(snap, year, via_ecris, breakdown, public),
                          breakdown)  # fmt: skip
        with columns[index % 2]:
            st.subheader(t(f"breakdown_{breakdown}"))
            parts = frame.filter((pl.col("code") != TOTAL) & pl.col("persons").is_not_null())
            if parts.height:
                bar_chart(parts, "label", "persons", t("persons"))
            table(
                frame,
                {"code": "code", "label": "label", "shown": "persons",
                 "conf_status": "conf_status"},
                name=f"persons_convicted_{origin}_{breakdown}_{year}",
            )  # fmt: skip
    st.caption(t("suppressed_note_public" if public else "suppressed_note", threshold=threshold))

    by_year = data.persons_by_year(snap, via_ecris, public)
    st.subheader(t("persons_by_year"))
    st.altair_chart(
        alt.Chart(by_year.filter(pl.col("persons").is_not_null()))
        .mark_bar()
        .encode(x=alt.X("ref_year:O", title=t("year")), y=alt.Y("persons:Q", title=t("persons")),
                tooltip=["ref_year:O", "persons:Q"]),
        width="stretch",
    )  # fmt: skip
