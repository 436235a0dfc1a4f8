"""The dashboards as a person sees them: `crimestat dashboards` serves a snapshot published
from the fixture warehouse, headless Chromium (Debian's package, installed by
scripts/install-browser.sh when missing) opens every page, and the rendered page must show
its title, a figure equal to the mart's, a drawn map on the map pages, and no error box.

`chromium --dump-dom --virtual-time-budget` returns before Streamlit has rendered anything
(the page fills in over a websocket after load), so the test drives Chromium through the
DevTools protocol instead (`--remote-debugging-port`, `websockets`): it navigates, polls the
page until Streamlit reports the script finished and the content is there, then reads the
DOM and takes a full-page screenshot. Screenshots are kept under the test's temporary
directory and copied to $CRIMESTAT_SCREENSHOT_DIR (default var/screenshots/dashboards).
"""

from __future__ import annotations

import base64
import csv
import io
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dashboards_fixtures import (
    CONFIDENTIAL_FILE,
    EMBARGOED_FILE,
    EMBARGOED_PERSON_RELEASES,
    PAGES,
    TRUE_VALUE_MARK,
    build_warehouse_isolated,
    publish,
    query,
)
from websockets.sync.client import ClientConnection, connect

from dashboards import i18n

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
WIDTH, HEIGHT = 1400, 1800
PAGE_TIMEOUT = 120.0
TITLES = {
    "overview": "page_overview", "offences": "page_offences",
    "convictions": "page_convictions", "customs": "page_customs",
    "quality": "page_quality", "releases": "page_releases",
}  # fmt: skip
MAP_PAGES = ("offences", "customs")

# What the page shows once rendered, read in the page itself.
PAGE_STATE = """(() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const main = document.querySelector('[data-testid="stMainBlockContainer"]');
  const text = (e) => (e ? e.innerText.trim() : null);
  return JSON.stringify({
    script: app ? app.dataset.testScriptState : null,
    title: text(main && main.querySelector('h1')),
    metrics: [...document.querySelectorAll('[data-testid="stMetric"]')].map(m => [
      text(m.querySelector('[data-testid="stMetricLabel"]')),
      text(m.querySelector('[data-testid="stMetricValue"]'))]),
    maps: [...document.querySelectorAll('[data-testid="stDeckGlJsonChart"] canvas')]
      .filter(c => c.width > 0 && c.height > 0).length,
    errors: document.querySelectorAll('[data-testid="stException"], [role="dialog"]').length,
    switches: document.querySelectorAll('input[type="checkbox"], [role="switch"]').length,
    downloads: document.querySelectorAll('[data-testid="stDownloadButton"] button').length,
    text: document.body.innerText,
    height: Math.max(...[...document.querySelectorAll(
      '[data-testid="stMain"], [data-testid="stAppViewContainer"]')].map(e => e.scrollHeight)),
  });
})()"""


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.exists():
        if os.geteuid() != 0:
            pytest.skip(
                "Chromium is missing and installing it (scripts/install-browser.sh) needs root"
            )
        subprocess.run(["bash", str(REPO / "scripts" / "install-browser.sh")], check=True)
    return CHROMIUM


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("dashboards_browser")
    build_warehouse_isolated(home)
    publish(home)
    return home


@pytest.fixture(scope="module")
def server(home: Path) -> Iterator[str]:
    yield from _serve(home, [])


@pytest.fixture(scope="module")
def public_server(home: Path) -> Iterator[str]:
    yield from _serve(home, ["--public"])


def _serve(home: Path, options: list[str]) -> Iterator[str]:
    """`crimestat dashboards` on a free port; SIGTERM at the end, which it passes on to
    Streamlit as an interrupt (checked: it exits 0)."""
    port = _free_port()
    log_path = home / f"dashboards{''.join(options)}.log"
    log = log_path.open("w")
    environment = {**os.environ, "CRIMESTAT_HOME": str(home)}
    environment.pop("CRIMESTAT_DASHBOARDS_PUBLIC", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "crimestat.cli", "dashboards", "--port", str(port),
         "--address", "127.0.0.1", *options],
        env=environment, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                    if answer.read() == b"ok":
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(log_path.read_text())
            time.sleep(0.5)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        returncode = process.wait(timeout=120)
        log.close()
    assert returncode == 0, log_path.read_text()


class Browser:
    """Headless Chromium driven through the DevTools protocol of its one page."""

    def __init__(self, chromium: Path, profile: Path) -> None:
        self.process = subprocess.Popen(
            [str(chromium), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--disable-dev-shm-usage", "--use-angle=swiftshader",
             "--enable-unsafe-swiftshader", f"--user-data-dir={profile}",
             "--remote-debugging-port=0", f"--window-size={WIDTH},{HEIGHT}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        active = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (active.exists() and len(active.read_text().split()) >= 2):
            assert time.monotonic() < deadline, "Chromium did not open its DevTools port"
            time.sleep(0.1)
        port = active.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list") as answer:
            targets = json.load(answer)
        self.debugger_url = next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"]
        self.socket: ClientConnection | None = None
        self.ids = itertools.count(1)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        assert self.socket is not None, "connect first"
        request = next(self.ids)
        self.socket.send(json.dumps({"id": request, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=60))
            if message.get("id") == request:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]

    def resize(self, height: int) -> None:
        self.call("Emulation.setDeviceMetricsOverride", width=WIDTH, height=height,
                  deviceScaleFactor=1, mobile=False)  # fmt: skip

    def state(self) -> dict[str, Any]:
        """The page's state; while the page is still being replaced (no document body yet,
        the script throws) it reads as not rendered."""
        result = self.call("Runtime.evaluate", expression=PAGE_STATE, returnByValue=True)
        if "exceptionDetails" in result or "value" not in result["result"]:
            return {"script": None}
        return json.loads(result["result"]["value"])

    def open(self, url: str, ready: Any) -> dict[str, Any]:
        """Navigate and poll until `ready(state)`; then let charts settle and read again."""
        self.resize(HEIGHT)
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + PAGE_TIMEOUT
        while True:
            time.sleep(0.5)
            state = self.state()
            if state["script"] == "notRunning" and ready(state):
                break
            assert time.monotonic() < deadline, f"{url} not rendered: {state}"
        time.sleep(2.0)
        while (state := self.state())["script"] != "notRunning":
            assert time.monotonic() < deadline + PAGE_TIMEOUT, f"{url} did not settle: {state}"
            time.sleep(0.5)
        return state

    def screenshot(self, path: Path, height: int) -> None:
        """The whole page: the viewport is made as tall as the content first."""
        self.resize(min(max(HEIGHT, height + 100), 12000))
        time.sleep(1.5)
        shot = self.call("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(shot["data"]))

    def download_all(self, folder: Path, count: int) -> list[Path]:
        """Click every download button of the page, one after the other, and return the
        files Chromium saved."""
        folder.mkdir(parents=True, exist_ok=True)
        self.call("Browser.setDownloadBehavior", behavior="allow", downloadPath=str(folder))
        saved: list[Path] = []
        click = "document.querySelectorAll('[data-testid=\"stDownloadButton\"] button')[{}].click()"
        for index in range(count):
            deadline = time.monotonic() + 60
            clicked_at = 0.0
            while True:
                done = [p for p in folder.iterdir() if not p.name.endswith(".crdownload")]
                if len(done) > len(saved) and not any(folder.glob("*.crdownload")):
                    break
                assert time.monotonic() < deadline, f"download {index} did not arrive"
                # Click once the page is idle, and again if nothing came (a rerun can
                # replace the button while it is clicked).
                if time.monotonic() - clicked_at > 15 and self.state()["script"] == "notRunning":
                    self.call("Runtime.evaluate", expression=click.format(index))
                    clicked_at = time.monotonic()
                time.sleep(0.2)
            saved = done
        return saved

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


@pytest.fixture(scope="module")
def browser(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    browser = Browser(chromium, tmp_path_factory.mktemp("chromium_profile"))
    try:
        with connect(browser.debugger_url, max_size=None) as socket:
            browser.socket = socket
            yield browser
    finally:
        browser.close()


def expected_metric(home: Path, page: str) -> tuple[str, str] | None:
    """(Lithuanian label, value) of one figure the page must show for the latest year."""
    sql = {
        "overview": "select sum(offences) from marts.recorded_offences "
        "where year(ref_month) = 2024",
        "offences": "select sum(offences) from marts.recorded_offences "
        "where year(ref_month) = 2024",
        # Persons convicted as released: 2024's CRIM_JUST, under embargo, which the internal
        # face shows with its true value.
        "convictions": "select obs_value::bigint from releases.release_cells "
        "where release_id = 'CRIM_JUST-2024-v1' "
        "and series_key = 'A.PER_CNV.TOTAL.T.TOTAL.TOTAL.NR.LT'",
        "customs": "select sum(violations) from marts.customs_violations "
        "where year(ref_month) = 2024",
        "quality": "select count(*) from (select success, row_number() over (partition by "
        "suite, asset_key, batch, expectation, target order by checked_at desc) as latest "
        "from quality.check_results) where latest = 1 and success",
    }
    label = {
        "overview": i18n.text("recorded_offences", "lt"),
        "offences": i18n.text("selected_offence", "lt", label=i18n.text("iccs_all", "lt")),
        "convictions": i18n.text("persons_convicted", "lt"),
        "customs": i18n.text("customs_violations", "lt"),
        "quality": i18n.text("checks_passed", "lt"),
    }
    if page not in sql:
        return None
    return label[page], f"{query(home / 'warehouse.duckdb', sql[page])[0][0]:,}"


@pytest.fixture(scope="module")
def screenshot_dir() -> Path:
    target = Path(
        os.environ.get("CRIMESTAT_SCREENSHOT_DIR", REPO / "var" / "screenshots" / "dashboards")
    )
    target.mkdir(parents=True, exist_ok=True)
    return target


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_in_chromium(
    page: str,
    home: Path,
    server: str,
    browser: Browser,
    screenshot_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    title = i18n.text(TITLES[page], "lt")
    needs_map = page in MAP_PAGES

    def ready(state: dict[str, Any]) -> bool:
        return state["title"] == title and (state["maps"] > 0 or not needs_map)

    # The default page lives at the root; its url_path would answer "page not found".
    state = browser.open(f"{server}/{'' if page == 'overview' else page}", ready)
    shot = tmp_path / f"{page}.png"
    browser.screenshot(shot, state["height"])
    shutil.copyfile(shot, screenshot_dir / shot.name)
    with capsys.disabled():
        print(f"\n  screenshot of {page}: {screenshot_dir / shot.name}")

    assert state["errors"] == 0 and "Traceback" not in state["text"], state["text"][:2000]
    assert state["title"] == title
    figure = expected_metric(home, page)
    if figure is not None:
        assert list(figure) in state["metrics"], state["metrics"]
    if needs_map:
        assert state["maps"] > 0
        assert i18n.text("map_attribution", "lt") in state["text"]
    if page == "releases":
        for heading in ("calendar", "vintages", "downloads", "revisions"):
            assert i18n.text(heading, "lt") in state["text"]
    assert shot.stat().st_size > 20_000
    assert state["switches"] >= 1  # the statisticians' preview of the public view


PUBLIC_PAGES = [p for p in PAGES if p != "quality"]


@pytest.mark.parametrize("page", PUBLIC_PAGES)
def test_public_page_and_downloads_in_chromium(
    page: str, public_server: str, browser: Browser, tmp_path: Path
) -> None:
    """`crimestat dashboards --public`: every page renders, has no control that could
    show more, and every file it offers for download holds no suppressed value (a cell
    flagged C has no value; no D flag; no confidential or embargoed delivery)."""
    title = i18n.text(TITLES[page], "lt")
    # Ready once its download buttons are there too: they render after the title, and a
    # loaded machine (CI) once read the customs page between the two.
    state = browser.open(
        f"{public_server}/{'' if page == 'overview' else page}",
        lambda s: s["title"] == title and (s["downloads"] > 0 or page == "overview"),
    )
    assert state["errors"] == 0 and "Traceback" not in state["text"], state["text"][:2000]
    assert state["switches"] == 0, "a control on the public face"
    assert i18n.text("page_quality", "lt") not in state["text"]
    assert state["downloads"] > 0 or page == "overview"  # the overview has no table
    files = browser.download_all(tmp_path / "downloads", state["downloads"])
    assert len(files) == state["downloads"]
    persons, flag = i18n.text("persons", "lt"), i18n.text("conf_status", "lt")
    flagged = 0
    for file in files:
        content = file.read_bytes()
        assert TRUE_VALUE_MARK.encode() not in content, file.name
        assert file.name not in (Path(CONFIDENTIAL_FILE).name, Path(EMBARGOED_FILE).name)
        if file.suffix != ".csv":
            continue
        for row in csv.DictReader(io.StringIO(content.decode("utf-8"))):
            if flag in row:
                assert row[flag] in ("F", "C"), (file.name, row)
                if row[flag] == "C":
                    flagged += 1
                    assert row[persons] == "C", (file.name, row)
    if page == "convictions":
        # The latest year released and out of embargo (2023) has persons below the threshold;
        # the page names the release of its figures, never one under embargo.
        assert flagged > 0
        assert "CRIM_JUST-2023-v1" in state["text"]
        assert not any(r in state["text"] for r in EMBARGOED_PERSON_RELEASES)


def test_public_face_has_no_quality_page_in_chromium(public_server: str, browser: Browser) -> None:
    title = i18n.text("page_overview", "lt")
    state = browser.open(f"{public_server}/quality", lambda s: s["title"] is not None)
    assert state["title"] != i18n.text("page_quality", "lt")
    assert state["title"] == title or state["errors"] > 0
