"""What every page shares: the language and public mode (the public face, or the internal
face's preview of it), labels, tables with a CSV download, maps with their attribution and
legend.

The sidebar widgets live in app.py and keep their values in session state under the keys
below; pages read them through these functions, so a page never handles widget state.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import polars as pl
import pydeck as pdk
import streamlit as st

from core.csv_safety import neutralise
from dashboards import data, face, i18n
from dashboards.maps import Legend

LANGUAGE_KEY = "language"
PUBLIC_KEY = "public_mode"


def language() -> str:
    return st.session_state.get(LANGUAGE_KEY, i18n.DEFAULT_LANGUAGE)


def public_mode() -> bool:
    """Always on the public face (chosen at launch, dashboards.face); on the internal face,
    the sidebar's preview of what the public sees."""
    return face.launched_public() or bool(st.session_state.get(PUBLIC_KEY, False))


def t(key: str, **values: object) -> str:
    return i18n.text(key, language(), **values)


def label(code: str | None) -> str:
    return i18n.code_label(code, language())


def snapshot() -> data.Snapshot:
    """The current snapshot; stops the page with an explanation when there is none."""
    snap = data.current()
    if snap is None:
        st.info(t("no_snapshot"))
        st.stop()
    return snap


def year_picker(years: Sequence[int], key: str, first: int | None = None) -> int | None:
    """Latest year first, or `first` picked until the user picks another; None (and a note)
    when the data has no year at all."""
    if not years:
        st.info(t("no_data"))
        return None
    if first in years and key not in st.session_state:
        st.session_state[key] = first
    return st.selectbox(t("year"), years, key=key)


def dataframe(frame: pl.DataFrame) -> None:
    """A table as it is. Text cells that a spreadsheet would take for a formula are shown
    neutralised (core.csv_safety), so the table's own CSV export is safe too."""
    st.dataframe(neutralise(frame), hide_index=True, width="stretch")


def table(frame: pl.DataFrame, columns: dict[str, str], name: str) -> None:
    """A table with translated headers and its CSV download (same headers, UTF-8), text
    cells neutralised against formula injection in both."""
    shown = neutralise(frame.select(list(columns)).rename({c: t(k) for c, k in columns.items()}))
    st.dataframe(shown, hide_index=True, width="stretch")
    st.download_button(
        t("download_csv"),
        shown.write_csv(),
        file_name=f"{name}.csv",
        mime="text/csv",
        key=f"download_{name}",
        on_click="ignore",
    )


def bar_chart(frame: pl.DataFrame, category: str, value: str, title: str) -> None:
    """Horizontal bars in the frame's order (categories already labelled)."""
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y(f"{category}:N", sort=None, title=None),
            x=alt.X(f"{value}:Q", title=title),
            tooltip=[f"{category}:N", f"{value}:Q"],
        )
    )
    st.altair_chart(chart, width="stretch")


def show_map(deck: pdk.Deck, legend: Legend | None = None, key: str = "map") -> None:
    """The deck, its legend, and the OpenStreetMap attribution the licence requires."""
    st.pydeck_chart(deck, height=520, key=key)
    if legend is not None:
        swatches = "".join(
            f'<span style="display:inline-block;width:14px;height:14px;margin:0 4px 0 10px;'
            f'background:rgb{colour};border:1px solid #999"></span>'
            f"{low:,.1f}–{high:,.1f}"
            for low, high, colour in zip(
                legend.limits[:-1], legend.limits[1:], legend.colours, strict=True
            )
        )
        st.html(f'<div class="map-legend">{t("legend")}: {swatches}</div>')
    st.caption(t("map_attribution"))
