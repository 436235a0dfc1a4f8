"""Each dashboard page rendered with its real queries on the serving snapshot of
$CRIMESTAT_HOME: the first render (cold caches: every query runs) and a second one (Streamlit's
caches warm), through Streamlit's AppTest in this process.

    python -m benchmarks.dashboard_pages   (prints JSON: page -> seconds)
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parent.parent / "dashboards" / "app.py"
PAGES = ("overview", "offences", "convictions", "customs", "quality", "releases")
TIMEOUT_SECONDS = 600


def render(page: str) -> float:
    """Seconds for one render of `page` in a fresh session (the app's caches persist)."""
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT_SECONDS)
    started = time.perf_counter()
    app.run()
    if page != "overview":
        app.switch_page(f"views/{page}.py").run()
    seconds = time.perf_counter() - started
    if app.exception:
        raise RuntimeError(f"page {page} raised: {app.exception[0].message}")
    return seconds


def page_timings() -> dict[str, dict[str, float]]:
    return {
        page: {"cold": round(render(page), 3), "warm": round(render(page), 3)} for page in PAGES
    }


if __name__ == "__main__":
    print(json.dumps(page_timings()))
