"""Persons convicted, as released: by sex, age, citizenship and main offence (CRIM_JUST,
convictions by the country's courts), by area of serious cross-border crime (EJ_XB_CONV, at
home and received through ECRIS) and by citizenship (EJ_XB_CONV, received through ECRIS).

Every figure is a cell of a release, never a count of the live mart (publication.public says
why): in public mode the latest vintage whose embargo has passed, hidden cells with no value
and the flag C; otherwise the latest vintage of each release, under embargo or not, with true
values and the flags they were released with, so statisticians see what the public sees or
will see. Every table names the release of its figures. Sanctions are in no release: the
internal face shows them live from the mart, public mode says they are not published.
"""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from core.vocabulary import DOMESTIC, ECRIS, TOTAL
from dashboards import data
from dashboards.ui import bar_chart, label, public_mode, snapshot, t, table, year_picker

BREAKDOWNS = {
    DOMESTIC: ("sex", "age_group", "citizen_group", "iccs_section", "crime_area"),
    ECRIS: ("crime_area", "citizen_group"),
}
HEADINGS = {DOMESTIC: ("domestic", "persons_convicted"),
            ECRIS: ("ecris", "persons_convicted_ecris")}  # fmt: skip

snap = snapshot()
public = public_mode()
st.title(t("page_convictions"))
year = year_picker(
    data.conviction_years(snap, public),
    key="convictions_year",
    first=data.latest_released_year(snap, public),
)
if year is None:
    st.stop()
threshold = data.disclosure_threshold(snap)
published_at = data.published_at(snap)


def _shown(value: int | None, status: str) -> str:
    return f"{value:,}" if value is not None else status


def _labelled(frame: pl.DataFrame, breakdown: str) -> pl.DataFrame:
    """Labels: the first row is the breakdown's total (TOTAL, or T for sex)."""
    labels = [
        label(TOTAL) if position == 0
        else data.iccs_label_of_sdmx_code(snap, code) if breakdown == "iccs_section"
        else label(code)
        for code, position in zip(frame["code"], frame["position"], strict=True)
    ]  # fmt: skip
    shown = [_shown(v, s) for v, s in zip(frame["persons"], frame["conf_status"], strict=True)]
    return frame.with_columns(pl.Series("label", labels), pl.Series("shown", shown))


def _releases(frame: pl.DataFrame) -> str:
    """The releases of the figures, an embargo still running said so (internal face)."""
    named = []
    for release_id, embargo_until in frame.select("release_id", "embargo_until").unique(
        maintain_order=True
    ).sort("release_id").iter_rows():  # fmt: skip
        if embargo_until is not None and embargo_until > published_at:
            until = f"{embargo_until:%Y-%m-%d %H:%M}"
            named.append(t("release_under_embargo", release=release_id, until=until))
        else:
            named.append(release_id)
    return ", ".join(named)


def _sanctions(via_ecris: bool, origin: str) -> None:
    """Internal face only: the live mart's sanctions, never released."""
    frame = data.sanctions(snap, year, via_ecris)
    if not frame.height:
        return
    frame = frame.with_columns(pl.Series("label", [label(code) for code in frame["code"]]))
    st.subheader(t("breakdown_sanction"))
    st.caption(t("sanctions_live"))
    bar_chart(frame.filter(pl.col("code") != TOTAL), "label", "persons", t("persons"))
    table(frame, {"code": "code", "label": "label", "persons": "persons"},
          name=f"persons_convicted_{origin}_sanction_{year}_live")  # fmt: skip


for origin in (DOMESTIC, ECRIS):
    heading, headline = HEADINGS[origin]
    st.header(t(heading))
    released = data.persons_breakdowns(snap, year, origin, public)
    if not released.height:
        st.info(t("not_released", year=year))
    else:
        total = data.persons_total(snap, year, origin, public)
        if total is not None:
            st.metric(t(headline), _shown(total["persons"], "C"))
        st.caption(t("released_from", releases=_releases(released)))
        shown = [b for b in BREAKDOWNS[origin] if b in set(released["breakdown"])]
        columns = st.columns(2)
        for index, breakdown in enumerate(shown):
            frame = _labelled(released.filter(pl.col("breakdown") == breakdown), breakdown)
            with columns[index % 2]:
                st.subheader(t(f"breakdown_{breakdown}"))
                parts = frame.filter((pl.col("position") > 0) & pl.col("persons").is_not_null())
                if parts.height:
                    bar_chart(parts, "label", "persons", t("persons"))
                table(
                    frame,
                    {"code": "code", "label": "label", "shown": "persons",
                     "conf_status": "conf_status", "release_id": "release"},
                    name=f"persons_convicted_{origin}_{breakdown}_{year}",
                )  # fmt: skip
        st.caption(
            t("suppressed_note_public" if public else "suppressed_note", threshold=threshold)
        )
    if public:
        st.caption(t("sanctions_not_released"))
    else:
        _sanctions(origin == ECRIS, origin)

    by_year = data.persons_by_year(snap, origin, public).filter(pl.col("persons").is_not_null())
    if by_year.height:
        st.subheader(t("persons_by_year"))
        st.altair_chart(
            alt.Chart(by_year)
            .mark_bar()
            .encode(x=alt.X("ref_year:O", title=t("year")),
                    y=alt.Y("persons:Q", title=t(headline)),
                    tooltip=["ref_year:O", "persons:Q", "release_id:N"]),
            width="stretch",
        )  # fmt: skip
