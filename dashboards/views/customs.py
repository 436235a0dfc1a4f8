"""Customs: a map of violations (points where the snapshot has coordinates, otherwise by
border section and customs post), types, border sections, procedures, and seized goods per
category in their own units."""

from __future__ import annotations

import altair as alt
import streamlit as st

from dashboards import data, maps
from dashboards.ui import bar_chart, label, show_map, snapshot, t, table, year_picker

snap = snapshot()
st.title(t("page_customs"))
year = year_picker(data.customs_years(snap), key="customs_year")
if year is None:
    st.stop()

st.metric(t("customs_violations"), f"{data.customs_total(snap, year):,}")

st.subheader(t("violations_map"))
points = data.violation_points(snap, year)
posts = data.violations_by_post(snap, year)
if points.height:
    show_map(
        maps.point_map([
            {**row, "name": row["customs_post"],
             "tooltip": f"{label(row['violation_type'])}: {row['violations']:,} "
                        f"({label(row['border_section'])})"}
            for row in points.iter_rows(named=True)
        ]),
        key="customs_map",
    )  # fmt: skip
else:
    st.caption(t("no_points"))
if posts.height:
    table(
        posts.with_columns(posts["border_section"].map_elements(label, return_dtype=str)),
        {"customs_post": "customs_post", "border_section": "border_section",
         "violations": "violations"},
        name=f"customs_posts_{year}",
    )  # fmt: skip

columns = st.columns(3)
for column, breakdown in zip(columns, data.CUSTOMS_BREAKDOWNS, strict=True):
    frame = data.violations_by(snap, year, breakdown)
    frame = frame.with_columns(frame["code"].map_elements(label, return_dtype=str).alias("label"))
    with column:
        st.subheader(t(breakdown))
        bar_chart(frame, "label", "violations", t("violations"))
        table(frame, {"code": "code", "label": "label", "violations": "violations"},
              name=f"customs_{breakdown}_{year}")  # fmt: skip

monthly = data.violations_by_month(snap, year)
monthly = monthly.with_columns(monthly["violation_type"].map_elements(label, return_dtype=str))
st.altair_chart(
    alt.Chart(monthly)
    .mark_bar()
    .encode(
        x=alt.X("yearmonth(ref_month):O", title=t("month")),
        y=alt.Y("violations:Q", title=t("violations")),
        color=alt.Color("violation_type:N", title=t("violation_type")),
        tooltip=["ref_month:T", "violation_type:N", "violations:Q"],
    ),
    width="stretch",
)

st.subheader(t("seizures"))
seized = data.seizures(snap, year)
seized = seized.with_columns(
    seized["goods_category"].map_elements(label, return_dtype=str).alias("category_label"),
    seized["unit"].map_elements(label, return_dtype=str).alias("unit_label"),
)
table(
    seized,
    {"category_label": "goods_category", "quantity": "quantity", "unit_label": "unit",
     "value_eur": "value_eur", "seizure_lines": "seizure_lines"},
    name=f"customs_seizures_{year}",
)  # fmt: skip
