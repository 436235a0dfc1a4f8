"""Entry point of the dashboards: `streamlit run dashboards/app.py` (or `crimestat dashboards`).

Sets up the sidebar (language, which snapshot is shown) and the navigation.

The face is chosen when the server starts (dashboards.face): the public face
(`crimestat dashboards --public`, CRIMESTAT_DASHBOARDS_PUBLIC=1) reads only the public
snapshot, has no data quality page and no widget that shows more. The internal face keeps a
sidebar toggle that previews what the public sees (disclosure-controlled person counts, no
data quality page).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboards import data, face, i18n, ui

VIEWS = Path(__file__).parent / "views"

st.set_page_config(page_title=ui.t("app_title"), page_icon="📊", layout="wide")

with st.sidebar:
    st.selectbox(
        i18n.text("language", ui.language()),
        list(i18n.LANGUAGES),
        format_func=i18n.LANGUAGES.__getitem__,
        key=ui.LANGUAGE_KEY,
    )
    if not face.launched_public():
        st.toggle(ui.t("public_mode"), key=ui.PUBLIC_KEY, help=ui.t("public_mode_help"))
    snap = data.current()
    if snap is not None:
        st.caption(ui.t("snapshot", published_at=f"{data.published_at(snap):%Y-%m-%d %H:%M}"))
        if ui.public_mode():
            st.caption(ui.t("public_mode_on", threshold=data.disclosure_threshold(snap)))

pages = [
    st.Page(VIEWS / "overview.py", title=ui.t("page_overview"), url_path="overview", default=True),
    st.Page(VIEWS / "offences.py", title=ui.t("page_offences"), url_path="offences"),
    st.Page(VIEWS / "convictions.py", title=ui.t("page_convictions"), url_path="convictions"),
    st.Page(VIEWS / "customs.py", title=ui.t("page_customs"), url_path="customs"),
    st.Page(VIEWS / "releases.py", title=ui.t("page_releases"), url_path="releases"),
]
if not ui.public_mode():
    pages.insert(4, st.Page(VIEWS / "quality.py", title=ui.t("page_quality"), url_path="quality"))
st.navigation(pages).run()
