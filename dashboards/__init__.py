"""Dashboards of the warehouse (SPEC 10): a serving snapshot published by the pipeline and a
multipage Streamlit app that reads only that snapshot, never the warehouse file itself, so
the pipeline can write while people look at the figures."""
