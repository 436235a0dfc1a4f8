"""Overview: the year's headline figures beside the previous year's, and the latest release.
Persons convicted as released (CRIM_JUST, publication.public), not counted from the live mart.
"""

from __future__ import annotations

import altair as alt
import streamlit as st

from core.vocabulary import DOMESTIC
from dashboards import data
from dashboards.ui import label, public_mode, snapshot, t, year_picker

snap = snapshot()
st.title(t("page_overview"))
year = year_picker(data.offence_years(snap), key="overview_year")
if year is None:
    st.stop()


def _released(total: dict | None) -> str:
    """Persons convicted as released: the value, C when hidden, a dash before release."""
    if total is None:
        return "–"
    return f"{total['persons']:,}" if total["persons"] is not None else "C"


def _delta(current: float | None, previous: float | None) -> str | None:
    if current is None or not previous:
        return None
    return f"{(current - previous) / previous:+.1%} {t('vs_previous_year')}"


recorded = data.national_total(snap, year)
previous = data.national_total(snap, year - 1)
offences = recorded["offences"].item() if recorded.height else 0
rate = recorded["rate_per_100k"].item() if recorded.height else None
persons = data.persons_total(snap, year, DOMESTIC, public=public_mode())
persons_before = data.persons_total(snap, year - 1, DOMESTIC, public=public_mode())

columns = st.columns(5)
columns[0].metric(
    t("recorded_offences"),
    f"{offences:,}",
    _delta(offences, previous["offences"].item() if previous.height else None),
    delta_color="inverse",
)
columns[1].metric(t("rate_per_100k"), f"{rate:,.2f}" if rate is not None else "–")
columns[2].metric(t("solved_offences"), f"{data.solved_offences(snap, year):,}")
columns[3].metric(
    t("persons_convicted"),
    _released(persons),
    _delta(*((p or {}).get("persons") for p in (persons, persons_before))),
    delta_color="off",
    help=t("not_released", year=year) if persons is None else persons["release_id"],
)
columns[4].metric(t("customs_violations"), f"{data.customs_total(snap, year):,}")

st.subheader(t("latest_release"))
release = data.latest_release(snap)
if release is None:
    st.info(t("no_releases"))
else:
    st.markdown(
        t(
            "release_line",
            dataset=release["dataset"],
            reference_period=release["reference_period"],
            vintage=release["vintage"],
            status=label(release["status"]),
            published_at=f"{release['published_at']:%Y-%m-%d}",
        )
    )

st.subheader(t("monthly_trend"))
monthly = data.monthly_offences(snap, None)
st.altair_chart(
    alt.Chart(monthly)
    .mark_line(point=True)
    .encode(
        x=alt.X("ref_month:T", title=t("month")),
        y=alt.Y("offences:Q", title=t("offences")),
        tooltip=["ref_month:T", "offences:Q"],
    ),
    width="stretch",
)
