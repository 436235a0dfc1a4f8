"""Recorded offences: ICCS drill-down from sections to detailed codes, monthly and annual
trends with the latest release marked, municipality and county maps, tables to download."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from dashboards import data, maps
from dashboards.ui import show_map, snapshot, t, table, year_picker

snap = snapshot()
st.title(t("page_offences"))
year = year_picker(data.offence_years(snap), key="offences_year")
if year is None:
    st.stop()

# ICCS drill-down: one select per level, each offering the children of the one above.
st.subheader(t("iccs_drilldown"))
node: str | None = None
level = 1
picks = st.columns(4)
while level <= 4:
    children = data.iccs_children(snap, year, node)
    if not children.height:
        break
    # Labels are made here, not in format_func: Streamlit may format outside the page run.
    labels = {None: t("iccs_all")} | {
        code: f"{code} {name}"
        for code, name in zip(children["iccs_code"], children["label"], strict=True)
    }
    picked = picks[level - 1].selectbox(
        t("iccs_level_pick", level=level),
        list(labels),
        format_func=labels.__getitem__,
        key=f"iccs_level_{level}",
    )
    if picked is None:
        break
    node = picked
    level += 1

node_label = t("iccs_all") if node is None else f"{node} {data.iccs_label(snap, node)}"
total = data.national_total(snap, year, node or data.TOTAL)
left, right = st.columns(2)
left.metric(
    t("selected_offence", label=node_label), f"{total['offences'].item() if total.height else 0:,}"
)
right.metric(t("rate_per_100k"), f"{total['rate_per_100k'].item():,.2f}" if total.height else "–")
children = data.iccs_children(snap, year, node)
if children.height:
    table(
        children,
        {"iccs_code": "iccs_code", "label": "iccs_label", "offences": "offences",
         "offences_at_code": "offences_at_code", "rate_per_100k": "rate"},
        name=f"iccs_{node or 'total'}_{year}",
    )  # fmt: skip

# Trends, with the latest release's cut-off marked.
release = data.latest_release(snap)
monthly_chart = (
    alt.Chart(data.monthly_offences(snap, node))
    .mark_line(point=True)
    .encode(
        x=alt.X("ref_month:T", title=t("month")),
        y=alt.Y("offences:Q", title=t("offences")),
        tooltip=["ref_month:T", "offences:Q"],
    )
)
annual_chart = (
    alt.Chart(data.annual_offences(snap, node))
    .mark_bar()
    .encode(
        x=alt.X("ref_year:O", title=t("year")),
        y=alt.Y("offences:Q", title=t("offences")),
        tooltip=["ref_year:O", "offences:Q", "rate_per_100k:Q"],
    )
)
if release is not None:
    note = f"{t('release_marker')} {release['as_of']:%Y-%m-%d}"
    marker = pl.DataFrame({"as_of": [release["as_of"]], "note": [note]})
    monthly_chart += (
        alt.Chart(marker)
        .mark_rule(color="firebrick", strokeDash=[4, 4])
        .encode(x="as_of:T", tooltip=["note:N"])
    )
    annual_chart += (
        alt.Chart(pl.DataFrame({"ref_year": [str(release["reference_period"])[:4]]}))
        .mark_rule(color="firebrick", strokeDash=[4, 4])
        .encode(x="ref_year:O")
    )
trend_month, trend_year = st.columns([2, 1])
with trend_month:
    st.subheader(t("monthly_trend"))
    st.altair_chart(monthly_chart, width="stretch")
with trend_year:
    st.subheader(t("annual_trend"))
    st.altair_chart(annual_chart, width="stretch")

# Maps: municipalities (counts; rates when their population is known) and counties.
st.subheader(t("maps"))
areas = {"counties": t("counties"), "municipalities": t("municipalities")}
area = st.radio(
    t("map_level"), list(areas), format_func=areas.__getitem__, horizontal=True, key="map_level"
)
municipalities = data.municipality_offences(snap, year, node)
if area == "counties":
    counties = data.county_offences(snap, year, node)
    measures = {"rate": t("rate"), "offences": t("count")}
    measure = st.radio(t("measure"), list(measures), format_func=measures.__getitem__,
                       horizontal=True, key="county_measure")  # fmt: skip
    deck, legend = maps.choropleth(
        dict(zip(counties["nuts3"], counties[measure], strict=True)),
        {row["nuts3"]: f"{row['county']}: {row['offences']:,} · {row['rate']:,.2f} / 100 000"
         for row in counties.iter_rows(named=True)},
        group_of=dict(zip(municipalities["municipality"], municipalities["nuts3"], strict=True)),
    )  # fmt: skip
    show_map(deck, legend, key="county_map")
    table(
        counties,
        {"nuts3": "code", "county": "county", "offences": "offences",
         "population": "population", "rate": "rate"},
        name=f"counties_{node or 'total'}_{year}",
    )  # fmt: skip
else:
    has_rates = municipalities["rate"].null_count() < municipalities.height
    if not has_rates:
        st.caption(t("no_municipality_population"))
    measure = "rate" if has_rates else "offences"
    deck, legend = maps.choropleth(
        dict(zip(municipalities["municipality"], municipalities[measure], strict=True)),
        {row["municipality"]: f"{row['offences']:,}"
         + (f" · {row['rate']:,.2f} / 100 000" if has_rates else "")
         for row in municipalities.iter_rows(named=True)},
    )  # fmt: skip
    show_map(deck, legend, key="municipality_map")
    columns = {"municipality": "municipality", "county": "county", "offences": "offences"}
    if has_rates:
        columns |= {"population": "population", "rate": "rate"}
    table(municipalities, columns, name=f"municipalities_{node or 'total'}_{year}")
