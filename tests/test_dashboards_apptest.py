"""The dashboards run in process (Streamlit AppTest) on a snapshot published from a fixture
warehouse built by a real dbt run: every page renders without an exception, the figures they
show are the marts' numbers (persons convicted: the cells of the releases, as released),
public mode hides small person counts, the language switch changes the labels, and a
warehouse with no releases or quality results yet still works."""

from __future__ import annotations

import contextlib
import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from dashboards_fixtures import (
    AUDITED_RELEASE,
    DISCLOSURE_AUDIT,
    PAGES,
    RELEASE_FILE,
    bare_copy,
    build_warehouse_isolated,
    open_page,
    publish,
    query,
)
from streamlit.testing.v1 import AppTest

from core.snapshot_layout import POINTER_FILE, current_snapshot
from dashboards import data, i18n, maps
from publication.serving import SnapshotError, publish_snapshot


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Warehouse, exports and a published snapshot; CRIMESTAT_HOME points at them."""
    home = tmp_path_factory.mktemp("dashboards_home")
    build_warehouse_isolated(home)
    publish(home)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CRIMESTAT_HOME", str(home))
        yield home


@pytest.fixture
def bare_home(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The same warehouse before any release or quality run, with its own snapshot."""
    bare = tmp_path / "bare"
    bare_copy(home, bare)
    publish_snapshot(bare / "warehouse.duckdb", bare / "serving", exports_dir=bare / "exports")
    monkeypatch.setenv("CRIMESTAT_HOME", str(bare))
    return bare


def warehouse(home: Path, sql: str, *params: object) -> list[tuple]:
    return query(home / "warehouse.duckdb", sql, *params)


ALL_PERSONS = "A.PER_CNV.TOTAL.T.TOTAL.TOTAL.NR.LT"  # CRIM_JUST: every person convicted


def released(home: Path, release_id: str, series_key: str) -> tuple[int, str]:
    """(true value, CONF_STATUS) of one cell of a release, as the warehouse recorded it."""
    [(value, status)] = warehouse(
        home,
        "select obs_value::bigint, conf_status from releases.release_cells "
        "where release_id = ? and series_key = ?",
        release_id,
        series_key,
    )
    return value, status


def no_exception(app: AppTest) -> None:
    assert not app.exception, [e.value for e in app.exception]


def metric(app: AppTest, label: str) -> str:
    values = [m.value for m in app.metric if m.label == label]
    assert len(values) == 1, f"{label!r} among {[m.label for m in app.metric]}"
    return values[0]


def table_with(app: AppTest, *columns: str) -> pd.DataFrame:
    """The first table shown whose headers include `columns`."""
    for frame in app.dataframe:
        if set(columns) <= set(frame.value.columns):
            return frame.value
    raise AssertionError(f"no table with columns {columns}")


def tables_with(app: AppTest, *columns: str) -> list[pd.DataFrame]:
    return [f.value for f in app.dataframe if set(columns) <= set(f.value.columns)]


PAGE_TITLES = {
    "overview": "page_overview", "offences": "page_offences",
    "convictions": "page_convictions", "customs": "page_customs",
    "quality": "page_quality", "releases": "page_releases",
}  # fmt: skip


@pytest.mark.parametrize("language", ["lt", "en"])
@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders(home: Path, page: str, language: str) -> None:
    app = open_page(page, language=language)
    no_exception(app)
    assert [t.value for t in app.title] == [i18n.text(PAGE_TITLES[page], language)]


@pytest.mark.parametrize("page", [p for p in PAGES if p != "quality"])
def test_every_public_page_renders(home: Path, page: str) -> None:
    app = open_page(page, language="en", public_mode=True)
    no_exception(app)
    assert [t.value for t in app.title] == [i18n.text(PAGE_TITLES[page], "en")]


def test_public_mode_leaves_out_the_quality_page(home: Path) -> None:
    app = AppTest.from_file(str(Path(__file__).parent.parent / "dashboards" / "app.py"))
    app.session_state["public_mode"] = True
    app.run(timeout=120)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page("views/quality.py")


def test_language_switch_changes_labels(home: Path) -> None:
    app = open_page("overview", language="lt", overview_year=2023)
    assert metric(app, "Užregistruotos nusikalstamos veikos") == "15"
    app.selectbox(key="language").select("en").run()
    no_exception(app)
    assert app.title[0].value == "Overview"
    assert metric(app, "Recorded offences") == "15"
    assert "Užregistruotos nusikalstamos veikos" not in [m.label for m in app.metric]


@pytest.mark.parametrize("year", [2023, 2024])
def test_overview_headlines_are_the_marts_numbers(home: Path, year: int) -> None:
    app = open_page("overview", language="en", overview_year=year)
    no_exception(app)
    ((recorded, rate),) = warehouse(
        home,
        "select sum(offences), (select rate_per_100k from marts.recorded_offences_annual "
        "where geo_level = 'COUNTRY' and iccs_code = 'TOTAL' and ref_year = ?) "
        "from marts.recorded_offences where year(ref_month) = ?",
        year,
        year,
    )
    ((solved,),) = warehouse(
        home, "select sum(offences) from marts.solved_offences where year(ref_month) = ?", year
    )
    # Persons convicted as released: the latest vintage of CRIM_JUST (the internal face
    # shows one under embargo too), with its true value.
    latest = {2023: "CRIM_JUST-2023-v2", 2024: "CRIM_JUST-2024-v1"}[year]
    persons, _ = released(home, latest, ALL_PERSONS)
    ((violations,),) = warehouse(
        home,
        "select sum(violations) from marts.customs_violations where year(ref_month) = ?",
        year,
    )
    assert metric(app, "Recorded offences") == f"{recorded:,}"
    assert metric(app, "Rate per 100,000 inhabitants") == f"{rate:,.2f}"
    assert metric(app, "Solved offences") == f"{solved:,}"
    assert metric(app, "Persons convicted") == f"{persons:,}"
    assert metric(app, "Customs violations") == f"{violations:,}"
    assert any("CRIM_OFF_CAT 2023, vintage 2" in m.value for m in app.markdown)


def test_iccs_drilldown_tables_are_the_marts_rows(home: Path) -> None:
    app = open_page("offences", language="en", offences_year=2023)
    sections = table_with(app, "ICCS code", "Offences")
    expected = warehouse(
        home,
        "select iccs_code, offences from marts.recorded_offences_annual where ref_year = 2023 "
        "and geo_level = 'COUNTRY' and (iccs_level = 1 or iccs_code = 'UNMAPPED') order by 1",
    )
    assert list(zip(sections["ICCS code"], sections["Offences"], strict=True)) == expected

    app.selectbox(key="iccs_level_1").select("05").run()
    no_exception(app)
    children = table_with(app, "ICCS code", "Offences")
    expected = warehouse(
        home,
        "select a.iccs_code, a.offences from marts.recorded_offences_annual a "
        "join reference.iccs_codes c on c.code = a.iccs_code "
        "where a.ref_year = 2023 and a.geo_level = 'COUNTRY' and c.parent = '05' order by 1",
    )
    assert list(zip(children["ICCS code"], children["Offences"], strict=True)) == expected
    assert metric(app, "Selected: 05 Acts against property only") == "9"


def test_county_and_municipality_tables_are_the_marts_rows(home: Path) -> None:
    app = open_page("offences", language="en", offences_year=2023)
    counties = table_with(app, "County", "Rate per 100,000")
    expected = dict(
        warehouse(
            home,
            "select geo, offences from marts.recorded_offences_annual where ref_year = 2023 "
            "and geo_level = 'NUTS3' and iccs_code = 'TOTAL'",
        )
    )
    shown = dict(zip(counties["Code"], counties["Offences"], strict=True))
    assert {k: v for k, v in shown.items() if v} == expected
    assert len(shown) == 10
    assert "Boundaries © OpenStreetMap contributors (ODbL)." in [c.value for c in app.caption]

    app.radio(key="map_level").set_value("municipalities").run()
    no_exception(app)
    municipalities = table_with(app, "Municipality", "Offences")
    expected = dict(
        warehouse(
            home,
            "select municipality, sum(offences) from marts.recorded_offences "
            "where year(ref_month) = 2023 group by 1",
        )
    )
    shown = dict(zip(municipalities["Municipality"], municipalities["Offences"], strict=True))
    assert {k: v for k, v in shown.items() if v} == expected
    assert len(shown) == 60
    assert "Boundaries © OpenStreetMap contributors (ODbL)." in [c.value for c in app.caption]


ECRIS_METRIC = "Persons convicted of serious cross-border crime (received through ECRIS)"
# Each breakdown's series key in its release, the code in place of {} (tests/
# test_dashboards_public.py checks the public rows against the same cells).
SERIES = {
    ("DOM", "sex"): "A.PER_CNV.TOTAL.{}.TOTAL.TOTAL.NR.LT",
    ("DOM", "age_group"): "A.PER_CNV.TOTAL.T.{}.TOTAL.NR.LT",
    ("DOM", "citizen_group"): "A.PER_CNV.TOTAL.T.TOTAL.{}.NR.LT",
    ("DOM", "iccs_section"): "A.PER_CNV.{}.T.TOTAL.TOTAL.NR.LT",
    ("DOM", "crime_area"): "A.{}.TOTAL.DOM.NR.LT",
    ("ECRIS", "crime_area"): "A.{}.TOTAL.ECRIS.NR.LT",
    ("ECRIS", "citizen_group"): "A.TOTAL.{}.ECRIS.NR.LT",
}


def test_convictions_tables_are_the_released_cells(home: Path) -> None:
    """The statisticians' view: every table of 2023 is the latest vintage of its release
    (CRIM_JUST's second, under embargo) cell by cell, true values with the flags as
    released, each row naming its release; sanctions, in no release, live from the mart."""
    app = open_page("convictions", language="en", convictions_year=2023)
    no_exception(app)
    tables = tables_with(app, "Code", "Persons", "Confidentiality", "Release")
    cells = {
        release_id: {key: (f"{value:,}", flag) for _, key, value, flag in rows}
        for release_id, rows in itertools.groupby(
            warehouse(home, "select release_id, series_key, obs_value::bigint, conf_status "
                      "from releases.release_cells order by 1"),
            key=lambda row: row[0],
        )
    }  # fmt: skip
    found = {}
    for frame in tables:
        [release_id] = set(frame["Release"])
        rows = list(zip(frame["Code"], frame["Persons"], frame["Confidentiality"], strict=True))
        for (origin, breakdown), key in SERIES.items():
            if all(cells[release_id].get(key.format(code)) == (shown, flag)
                   for code, shown, flag in rows):  # fmt: skip
                found[origin, breakdown] = (release_id, list(frame["Code"]))
    assert len(tables) == len(SERIES) == len(found)
    assert {release_id for release_id, _ in found.values()} == {
        "CRIM_JUST-2023-v2", "EJ_XB_CONV-2023-v1"}  # fmt: skip
    assert found["DOM", "sex"] == ("CRIM_JUST-2023-v2", ["T", "M", "F"])
    assert found["DOM", "iccs_section"][1] == ["TOTAL", *(f"ICCS{n:02}" for n in range(1, 12))]
    assert (
        metric(app, "Persons convicted")
        == f"{released(home, 'CRIM_JUST-2023-v2', ALL_PERSONS)[0]:,}"
    )
    assert metric(app, ECRIS_METRIC) == "1"
    sanctions = tables_with(app, "Code", "Persons")
    sanctions = [f for f in sanctions if "Release" not in f.columns]
    assert len(sanctions) == 2  # at home and through ECRIS
    for frame, via_ecris in zip(sanctions, (False, True), strict=True):
        expected = dict(warehouse(
            home, "select sanction, sum(persons) from marts.persons_convicted "
            "where ref_year = 2023 and via_ecris = ? group by 1", via_ecris))  # fmt: skip
        shown = dict(zip(frame["Code"], frame["Persons"], strict=True))
        assert shown == {"TOTAL": sum(expected.values()), **expected}
    assert i18n.text("sanctions_live", "en") in [c.value for c in app.caption]
    embargo = i18n.text("release_under_embargo", "en", release="CRIM_JUST-2023-v2",
                        until="2099-01-01 10:00")  # fmt: skip
    assert any(embargo in c.value for c in app.caption)


def test_public_mode_hides_small_person_counts(home: Path) -> None:
    internal = open_page("convictions", language="en", convictions_year=2023)
    public = open_page("convictions", language="en", convictions_year=2023, public_mode=True)
    no_exception(public)
    by_sex = table_with(public, "Code", "Persons", "Confidentiality")
    # As CRIM_JUST-2023-v1 released them (the second vintage is under embargo): the 2 women
    # confidential, the men and the total suppressed with them, all flagged C alike.
    assert dict(zip(by_sex["Code"], by_sex["Persons"], strict=True)) == {
        "T": "C", "M": "C", "F": "C",
    }  # fmt: skip
    assert set(by_sex["Release"]) == {"CRIM_JUST-2023-v1"}
    for frame in tables_with(public, "Persons", "Confidentiality"):
        for shown, status in zip(frame["Persons"], frame["Confidentiality"], strict=True):
            assert (shown == status) if status != "F" else shown.replace(",", "").isdigit()
            assert shown not in ("1", "2"), frame
    # Sanctions are in no release: not in public mode, which says so.
    assert not tables_with(public, "Code", "Persons", "Label")[len(SERIES) :]
    assert i18n.text("sanctions_not_released", "en") in [c.value for c in public.caption]
    # The single ECRIS person of 2023: shown internally, hidden in public.
    assert metric(internal, ECRIS_METRIC) == "1"
    assert metric(public, ECRIS_METRIC) == "C"
    overview = open_page("overview", language="en", overview_year=2023, public_mode=True)
    assert metric(overview, "Persons convicted") == "C"


def test_public_mode_shows_nothing_of_a_year_not_released(home: Path) -> None:
    """2024's only release of persons is under embargo: public mode shows no figure of it
    and says the figures appear once released; the internal face shows the release."""
    public = open_page("convictions", language="en", convictions_year=2024, public_mode=True)
    no_exception(public)
    assert not tables_with(public, "Persons")
    assert not public.metric
    assert [i.value for i in public.info] == [i18n.text("not_released", "en", year=2024)] * 2
    overview = open_page("overview", language="en", overview_year=2024, public_mode=True)
    assert metric(overview, "Persons convicted") == "–"
    internal = open_page("convictions", language="en", convictions_year=2024)
    assert (
        metric(internal, "Persons convicted")
        == f"{released(home, 'CRIM_JUST-2024-v1', ALL_PERSONS)[0]:,}"
    )
    # Public mode opens on the latest year with released figures.
    opened = open_page("convictions", language="en", public_mode=True)
    assert opened.selectbox(key="convictions_year").value == 2023


def test_public_snapshot_table_holds_no_hidden_value(home: Path) -> None:
    snapshot = current_snapshot(home / "serving")
    assert snapshot is not None
    hidden = query(
        snapshot,
        "select count(*) from public.persons_convicted_breakdowns "
        "where conf_status <> 'F' and persons is not null",
    )
    small = query(
        snapshot,
        "select count(*) from public.persons_convicted_breakdowns where persons between 1 and 2",
    )
    assert hidden == [(0,)]
    assert small == [(0,)]


def test_customs_figures_are_the_marts_numbers(home: Path) -> None:
    app = open_page("customs", language="en", customs_year=2023)
    no_exception(app)
    seized = table_with(app, "Goods category", "Quantity", "Unit")
    expected = warehouse(
        home,
        "select goods_category, unit, sum(quantity)::double from marts.customs_seizures "
        "where year(ref_month) = 2023 group by all order by 1, 2",
    )
    assert len(seized) == len(expected)
    assert sorted(seized["Quantity"].astype(float)) == sorted(q for _, _, q in expected)
    by_section = table_with(app, "Code", "Violations")
    expected = dict(
        warehouse(
            home,
            "select violation_type, sum(violations) from marts.customs_violations "
            "where year(ref_month) = 2023 group by 1",
        )
    )
    assert dict(zip(by_section["Code"], by_section["Violations"], strict=True)) == expected
    posts = table_with(app, "Customs post", "Violations")
    assert dict(zip(posts["Customs post"], posts["Violations"], strict=True))["Medininkai"] == 2
    assert "Boundaries © OpenStreetMap contributors (ODbL)." in [c.value for c in app.caption]


def test_quality_page_shows_summaries(home: Path) -> None:
    app = open_page("quality", language="en")
    no_exception(app)
    assert metric(app, "Checks passed") == "1"
    assert metric(app, "Checks failed") == "1"
    by_rule = table_with(app, "Register", "Rule", "Rows")
    assert by_rule["Rows"].sum() == warehouse(home, "select count(*) from raw.quarantine")[0][0]
    freshness = table_with(app, "Latest month loaded", "Rows read")
    assert len(freshness) == 3
    # dbt's verdict (marts.register_freshness): the fixture's registers wrote last in 2024
    verdict = table_with(app, "register", "age_days", "status", "severity")
    assert sorted(verdict["register"]) == ["convictions", "customs", "incidents"]
    assert set(verdict["status"]) == {"stale"}


def test_snapshot_holds_no_personal_values(home: Path) -> None:
    """Quarantine records and reasons (which may quote personal values) never leave the
    warehouse: the fixture planted PERSONAL-VALUE and HASHED in them."""
    snapshot = current_snapshot(home / "serving")
    assert snapshot is not None
    columns = query(
        snapshot,
        "select table_schema, table_name, column_name from information_schema.columns "
        "where data_type = 'VARCHAR'",
    )
    for schema, table, column in columns:
        found = query(
            snapshot,
            f"select count(*) from {schema}.{table} where \"{column}\" like '%PERSONAL-VALUE%' "
            f"or \"{column}\" like '%HASHED%'",
        )
        assert found == [(0,)], (schema, table, column)


def test_releases_page_shows_calendar_revisions_and_files(home: Path) -> None:
    app = open_page("releases", language="en", release_pick="CRIM_OFF_CAT-2023-v2")
    no_exception(app)
    calendar = table_with(app, "Release", "Vintage", "Status")
    assert sorted(calendar["Release"]) == [
        "CRIM_JUST-2023-v1",
        "CRIM_JUST-2023-v2",
        "CRIM_JUST-2024-v1",
        "CRIM_OFF_CAT-2023-v1",
        "CRIM_OFF_CAT-2023-v2",
        "CRIM_OFF_CAT-2024-v1",
        "EJ_XB_CONV-2023-v1",
    ]
    revisions = table_with(app, "Series", "Revision")
    revised = dict(zip(revisions["Series"], revisions["Revision"], strict=True))
    assert revised == {"A.ICCS0502.NR.LT": 1.0, "A.ICCS0701.NR.LT": 0.0}

    app.selectbox(key="release_pick").select("CRIM_OFF_CAT-2023-v1").run()
    no_exception(app)
    files = table_with(app, "relative_path", "sha256")
    assert list(files["relative_path"]) == [RELEASE_FILE]
    assert any(b.label.startswith("Download CRIM_OFF_CAT_A_2023.xml")
               for b in app.get("download_button"))  # fmt: skip


def test_files_are_offered_from_the_serving_directory_alone(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The snapshot carries the exported files (copied beside it, byte for byte): the
    releases page offers them from a home that has nothing but its serving directory."""
    served = tmp_path / "served"
    shutil.copytree(home / "serving", served / "serving")
    copy = served / "serving" / "files" / RELEASE_FILE
    assert copy.read_bytes() == (home / "exports" / RELEASE_FILE).read_bytes()
    monkeypatch.setenv("CRIMESTAT_HOME", str(served))
    assert data.export_path(RELEASE_FILE) == copy
    app = open_page("releases", language="en", release_pick="CRIM_OFF_CAT-2023-v1")
    no_exception(app)
    assert not [w.value for w in app.warning]
    assert any(b.label.startswith("Download CRIM_OFF_CAT_A_2023.xml")
               for b in app.get("download_button"))  # fmt: skip


def test_releases_page_shows_the_disclosure_audit(home: Path) -> None:
    """The audit the release step recorded (manifest.json's disclosure_audit): threshold,
    requirement, counts, and every suppressed cell with its interval."""
    app = open_page("releases", language="en", release_pick=AUDITED_RELEASE)
    no_exception(app)
    assert "Disclosure control audit" in [h.value for h in app.subheader]
    assert metric(app, "Threshold") == "3"
    assert metric(app, "Suppressed cells") == "3"
    assert metric(app, "Primary") == "1"
    assert metric(app, "Secondary") == "2"
    assert metric(app, "Unbounded above") == "1"
    assert [c.value for c in app.code] == [
        "primary: upper >= 3 and upper - lower >= 3; secondary: upper - lower >= 1"
    ]
    cells = table_with(app, "Series", "Period", "Primary", "Lower bound", "Upper bound")
    shown = {
        row["Series"]: (row["Period"], bool(row["Primary"]), row["Lower bound"],
                        None if pd.isna(row["Upper bound"]) else row["Upper bound"])
        for row in cells.to_dict("records")
    }  # fmt: skip
    assert shown == {
        c["series_key"]: (c["time_period"], c["primary"], c["lower"], c["upper"])
        for c in DISCLOSURE_AUDIT["suppressed_cells"]
    }
    assert shown["A.PER_CNV.TOTAL.F.TOTAL.TOTAL.NR.LT"] == ("2023", True, 1, 11)

    lithuanian = open_page("releases", language="lt", release_pick=AUDITED_RELEASE)
    no_exception(lithuanian)
    assert "Statistinio konfidencialumo kontrolės auditas" in [
        h.value for h in lithuanian.subheader
    ]
    assert metric(lithuanian, "Slenkstis") == "3"
    table_with(lithuanian, "Eilutė", "Laikotarpis", "Pirminis", "Apatinė riba", "Viršutinė riba")

    # A release of offences has no audit, and says nothing about one.
    app.selectbox(key="release_pick").select("CRIM_OFF_CAT-2023-v2").run()
    no_exception(app)
    assert "Disclosure control audit" not in [h.value for h in app.subheader]
    # The public-mode preview shows what the public face shows: no audit.
    preview = open_page("releases", language="en", release_pick=AUDITED_RELEASE,
                        public_mode=True)  # fmt: skip
    no_exception(preview)
    assert "Disclosure control audit" not in [h.value for h in preview.subheader]
    assert not tables_with(preview, "Lower bound")


def test_snapshot_carries_the_audits_as_recorded(home: Path) -> None:
    snapshot = current_snapshot(home / "serving")
    assert snapshot is not None
    assert query(snapshot, "select release_id, audit::varchar from releases.disclosure_audits") == (
        warehouse(home, "select release_id, audit::varchar from releases.disclosure_audits")
    )


def test_releases_page_without_audits_table_says_so(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A warehouse from before audits were recorded has no releases.disclosure_audits: the
    snapshot is published without it and a release of persons says it has no audit."""
    older = tmp_path / "older"
    older.mkdir()
    shutil.copyfile(home / "warehouse.duckdb", older / "warehouse.duckdb")
    with contextlib.closing(duckdb.connect(str(older / "warehouse.duckdb"))) as con:
        con.execute("drop table releases.disclosure_audits")
    snapshot = publish_snapshot(older / "warehouse.duckdb", older / "serving")
    assert query(snapshot, "select count(*) from duckdb_tables() "
                           "where table_name = 'disclosure_audits'") == [(0,)]  # fmt: skip
    monkeypatch.setenv("CRIMESTAT_HOME", str(older))
    app = open_page("releases", language="en", release_pick=AUDITED_RELEASE)
    no_exception(app)
    assert i18n.text("no_audit", "en") in [i.value for i in app.info]
    assert not tables_with(app, "Lower bound")


def test_audited_datasets_are_the_disclosure_controlled_dataflows(home: Path) -> None:
    """The releases page learns from the snapshot which datasets' releases must have an
    audit: the dataflows the release step protects and audits."""
    from publication.releases import SOURCES

    controlled = {name for name, source in SOURCES.items() if source.disclosure_control}
    snap = data.current()
    assert snap is not None
    assert data.audited_datasets(snap) == controlled == {"CRIM_JUST", "EJ_XB_CONV"}


def test_pages_without_releases_or_checks_say_so(bare_home: Path) -> None:
    releases = open_page("releases", language="en")
    no_exception(releases)
    assert next(i.value for i in releases.info) == i18n.text("no_releases", "en")
    quality = open_page("quality", language="en")
    no_exception(quality)
    assert i18n.text("no_checks", "en") in [i.value for i in quality.info]
    overview = open_page("overview", language="en")
    assert i18n.text("no_releases", "en") in [i.value for i in overview.info]


def test_app_without_snapshot_explains(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRIMESTAT_HOME", str(tmp_path))
    app = open_page("overview", language="en")
    no_exception(app)
    assert [i.value for i in app.info] == [i18n.text("no_snapshot", "en")]


def test_publication_swaps_the_pointer_and_keeps_the_last_few(home: Path, tmp_path: Path) -> None:
    serving = tmp_path / "serving"
    published = [publish_snapshot(home / "warehouse.duckdb", serving, keep=2) for _ in range(4)]
    assert current_snapshot(serving) == published[-1]
    assert sorted((serving / "snapshots").iterdir()) == published[-2:]
    assert [p.name for p in serving.iterdir() if p.name.startswith(".")] == []
    assert (serving / POINTER_FILE).is_file()


def test_publication_copies_extra_tables_and_fails_clearly(home: Path, tmp_path: Path) -> None:
    snapshot = publish_snapshot(
        home / "warehouse.duckdb", tmp_path / "serving", extra_tables=["raw.file_loads"]
    )
    assert query(snapshot, "select count(*) from raw.file_loads") == warehouse(
        home, "select count(*) from raw.file_loads"
    )
    with pytest.raises(SnapshotError, match=r"raw\.nothing"):
        publish_snapshot(home / "warehouse.duckdb", tmp_path / "s2", extra_tables=["raw.nothing"])
    with pytest.raises(SnapshotError, match="no warehouse"):
        publish_snapshot(tmp_path / "absent.duckdb", tmp_path / "s3")
    assert current_snapshot(tmp_path / "s2") is None


def test_labels_exist_in_both_languages() -> None:
    assert set(i18n.TEXT["lt"]) == set(i18n.TEXT["en"])
    assert set(i18n.CODE_LABELS["lt"]) == set(i18n.CODE_LABELS["en"])


def test_map_names_are_the_reference_municipalities(home: Path) -> None:
    names = [
        name
        for (name,) in warehouse(home, "select municipality_name from reference.municipalities")
    ]
    assert sorted(maps.municipality_names()) == sorted(names)
