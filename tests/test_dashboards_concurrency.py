"""The dashboards keep working while the pipeline writes the warehouse, and move to a new
snapshot as soon as one is published.

A child process plays a materialization: it holds the warehouse open for writing and keeps
inserting rows in transactions. DuckDB then refuses every other process the file, even
read-only (checked), yet every page renders because the app reads only its snapshot; a
publication started meanwhile waits for the writer, then the running app shows the new
figures on its next rerun.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from dashboards_fixtures import PAGES, build_warehouse_isolated, open_page, query

from core.snapshot_layout import current_snapshot
from publication.serving import publish_snapshot

# Opens the warehouse for writing, optionally changes a mart figure first, then inserts rows
# in small transactions until its time is up, then says how many it committed.
WRITER = """
import sys, time, duckdb
path, seconds, bump = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
con = duckdb.connect(path)
if bump:
    con.execute(
        "update marts.recorded_offences_annual set offences = offences + ? "
        "where geo_level = 'COUNTRY' and iccs_code = 'TOTAL' and ref_year = 2024", [bump])
print("ready", flush=True)
deadline, commits = time.monotonic() + seconds, 0
while time.monotonic() < deadline:
    con.execute("begin")
    con.execute("insert into raw.file_loads values ('incidents', '2099-01', 'load', 'sha', "
                "1, 1, 0, current_timestamp::timestamp, 1)")
    time.sleep(0.02)
    con.execute("commit")
    commits += 1
con.close()
print(commits, flush=True)
"""


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("dashboards_concurrency")
    build_warehouse_isolated(home)
    publish_snapshot(home / "warehouse.duckdb", home / "serving")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CRIMESTAT_HOME", str(home))
        yield home


class Writer:
    """The writing child process, started and waited for until it holds the file."""

    def __init__(self, warehouse: Path, seconds: float, bump: int = 0) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(warehouse), str(seconds), str(bump)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "ready"

    def commits(self, timeout: float = 120) -> int:
        out, _ = self.process.communicate(timeout=timeout)
        assert self.process.returncode == 0
        return int(out.strip())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def test_pages_render_while_the_pipeline_writes(home: Path) -> None:
    writer = Writer(home / "warehouse.duckdb", seconds=600)
    try:
        with pytest.raises(duckdb.IOException, match="lock"):
            duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
        for _ in range(2):
            for page in PAGES:
                app = open_page(page, language="en")
                assert not app.exception, (page, [e.value for e in app.exception])
        assert writer.process.poll() is None, "the writer must hold the file all along"
    finally:
        writer.stop()


def test_publication_waits_for_the_writer_and_the_app_switches(home: Path) -> None:
    app = open_page("overview", language="en", overview_year=2024)
    before = int(next(m.value for m in app.metric if m.label == "Recorded offences"))
    first = current_snapshot(home / "serving")

    writer = Writer(home / "warehouse.duckdb", seconds=4, bump=100)
    published: list[Path] = []
    publisher = threading.Thread(
        target=lambda: published.append(
            publish_snapshot(home / "warehouse.duckdb", home / "serving", keep=1)
        )
    )
    publisher.start()
    try:
        time.sleep(1.0)
        assert publisher.is_alive(), "publication must wait while the writer holds the file"
        app.run()
        assert not app.exception
        assert next(m.value for m in app.metric if m.label == "Recorded offences") == str(before)
        assert writer.commits() > 10
    finally:
        writer.stop()
        publisher.join(timeout=120)

    assert published and current_snapshot(home / "serving") == published[0]
    assert not first.exists(), "older snapshots beyond keep are removed"
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    after = next(m.value for m in app.metric if m.label == "Recorded offences")
    assert after == str(before + 100)
    assert query(published[0], "select count(*) from marts.file_loads_summary")[0][0] > 0
