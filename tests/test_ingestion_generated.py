"""The synthetic registers through real Dagster runs: every register lands, every planted defect
is quarantined under its own rule, and no personal code reaches the warehouse file."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from conftest import TEST_PSEUDONYMISATION_KEY

from core.settings import Settings, load_settings
from synthetic import GenerationSummary, generate_registers

PERSONAL_CODE = re.compile(rb"(?<![0-9])[1-6][0-9]{10}(?![0-9])")


@dataclass(frozen=True)
class LoadedRegisters:
    settings: Settings
    summary: GenerationSummary
    outcomes: list


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoadedRegisters]:
    home = tmp_path_factory.mktemp("generated-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CRIMESTAT_HOME", str(home))
        mp.setenv("CRIMESTAT_PSEUDONYMISATION_KEY", TEST_PSEUDONYMISATION_KEY)
        mp.delenv("CRIMESTAT_DEMO", raising=False)
        from orchestration.definitions import defs
        from orchestration.runs import materialize_selection

        settings = load_settings()
        summary = generate_registers(
            settings.landing_dir, start="2023-11", months=3, scale=0.1, seed=7, defect_rate=0.01
        )
        outcomes = materialize_selection(defs(), settings, "group:ingestion", None)
        yield LoadedRegisters(settings, summary, outcomes)


def query(settings: Settings, sql: str) -> list[tuple]:
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_every_register_is_ingested_and_reconciles(loaded: LoadedRegisters) -> None:
    assert [o.success for o in loaded.outcomes] == [True], loaded.outcomes
    counts = dict(query(loaded.settings, "select register, sum(rows_loaded) from raw.file_loads "
                        "group by register"))  # fmt: skip
    assert counts["incidents"] > 8_000 and counts["convictions"] > 300
    assert counts["customs"] > 50
    partitions = query(loaded.settings, "select distinct _partition from raw.file_loads order by 1")
    assert [p for (p,) in partitions] == ["2023-11", "2023-12", "2024-01"]


def test_each_planted_defect_is_quarantined_with_its_rule(loaded: LoadedRegisters) -> None:
    quarantined = {
        (register, rule): n
        for register, rule, n in query(
            loaded.settings, "select register, rule, count(*) from raw.quarantine group by all"
        )
    }
    planted = {
        (register, rule): n
        for register, by_rule in loaded.summary.to_dict()["defects"].items()
        for rule, n in by_rule.items()
        if n
    }
    assert planted, "the generator planted no defects"
    kinds = {rule for _, rule in planted}
    assert kinds >= {"duplicate", "unknown_code", "impossible_date", "missing_field",
                     "bad_check_digit", "broken_encoding", "truncated_row"}  # fmt: skip
    assert quarantined == planted
    reasons = query(loaded.settings, "select count(*) from raw.quarantine where reason = '' or "
                    "reason is null or _file is null or _line is null")  # fmt: skip
    assert reasons == [(0,)]


def _personal_codes_in_landing(landing: Path) -> set[bytes]:
    codes: set[bytes] = set()
    for path in (landing / "convictions").rglob("*.jsonl.gz"):
        codes |= set(PERSONAL_CODE.findall(gzip.decompress(path.read_bytes())))
    return codes


def test_no_personal_code_in_the_warehouse_file(loaded: LoadedRegisters) -> None:
    settings = loaded.settings
    codes = _personal_codes_in_landing(settings.landing_dir)
    assert len(codes) > 100
    con = duckdb.connect(str(settings.warehouse_path))
    try:
        con.execute("checkpoint")
        con.execute("create temp table personal_codes (code varchar)")
        con.executemany("insert into personal_codes values (?)", [[c.decode()] for c in codes])
        text_columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type = 'VARCHAR' and table_catalog != 'temp'"
        ).fetchall()
        for schema, table, column in text_columns:
            hits = con.execute(
                f"""select count(*) from (
                        select unnest(regexp_extract_all("{column}", '[0-9]{{11}}')) as code
                        from "{schema}"."{table}"
                    ) join personal_codes using (code)"""
            ).fetchone()[0]
            assert hits == 0, f"{schema}.{table}.{column} holds personal codes"
    finally:
        con.close()
    stored = set(PERSONAL_CODE.findall(settings.warehouse_path.read_bytes()))
    assert not codes & stored
