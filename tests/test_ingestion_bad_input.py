"""Every bad row is quarantined, every bad file named: values outside what a column holds or
the contract finds plausible, far-future dates, control characters, over-long lines, byte-order
marks, empty transfers, gzip bombs, and an insert that fails anyway."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import polars as pl
import pytest
from landing_files import (
    CONVICTION,
    INCIDENT,
    SEIZURE,
    VIOLATION,
    write_convictions,
    write_customs,
    write_incidents,
)
from test_ingestion_runs import raw_snapshot

from core import contracts as c
from core.settings import load_settings
from ingestion.errors import InsertError
from ingestion.loading import PreparedPartition, load_partition, write_partition
from ingestion.reconciliation import unreconciled_files

PROJECT = Path(__file__).resolve().parent.parent


def quarantine(warehouse: Path) -> dict[tuple[str, int], tuple[str, str, str, str]]:
    """(file, line) -> (field, rule, reason, record)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        found = con.execute(
            "select _file, _line, field, rule, reason, record from raw.quarantine"
        ).fetchall()
    finally:
        con.close()
    return {(f, n): (field, rule, reason, record) for f, n, field, rule, reason, record in found}


def reconciles(settings, register: str, month: str) -> bool:
    with duckdb.connect(str(settings.warehouse_path)) as con:
        return unreconciled_files(con, register, [month]).is_empty()


def incident(i: int, **values: str) -> dict[str, str]:
    return INCIDENT | {"event_id": f"E-{i}"} | values


INCIDENT_FILE = "incidents/2022-03/incidents_2022-03-02.csv.gz"
INCIDENT_CASES = {  # line -> (row, field, rule, words of the reason)
    2: (incident(1, damage_eur="1000000000000.00"), "damage_eur", "malformed_value",
        "damage_eur 1000000000000.00 is above 1_000_000_000"),
    3: (incident(2, victims="99999999999"), "victims", "malformed_value",
        "victims (masked) is above 10_000"),
    4: (incident(3, version="3000000000"), "version", "malformed_value",
        "version (masked) is above 2_147_483_647"),
    5: (incident(4, pretrial_started_at="9999-12-31T00:00:00"), "pretrial_started_at",
        "impossible_date", "pretrial_started_at 9999-12-31 00:00:00.000000 is more than a day "
        "after the load time"),
    6: (incident(5, event_id="E-\x00NUL"), "event_id", "malformed_value",
        "event_id 'E-?NUL' holds a control character"),
    7: (incident(6, call_112_id="C\x07-1"), "call_112_id", "malformed_value",
        "call_112_id 'C?-1' holds a control character"),
    8: (incident(7, victims="100000000000000000000000"), "victims", "malformed_value",
        "is above 10_000"),
    9: (incident(8, decision_at="2999-01-01T00:00:00"), "decision_at", "impossible_date",
        "more than a day after the load time"),
}  # fmt: skip


def test_values_out_of_range_future_dates_and_control_characters_are_quarantined(
    crimestat_home: Path,
) -> None:
    landing = crimestat_home / "landing"
    rows = [INCIDENT_CASES[line][0] for line in sorted(INCIDENT_CASES)]
    write_incidents(landing, "2022-03-02", [*rows, incident(99)])
    settings = load_settings()
    report = load_partition("incidents", "2022-03", settings)
    assert report.rows_loaded == 1 and report.rows_quarantined == len(INCIDENT_CASES)
    found = quarantine(settings.warehouse_path)
    for line, (_, field, rule, words) in INCIDENT_CASES.items():
        got_field, got_rule, reason, _ = found[(INCIDENT_FILE, line)]
        assert (got_field, got_rule) == (field, rule), (line, reason)
        assert words in reason, (line, reason)
        assert "\x00" not in reason
    assert reconciles(settings, "incidents", "2022-03")


def test_conviction_and_customs_ranges_are_quarantined(crimestat_home: Path) -> None:
    landing = crimestat_home / "landing"
    write_convictions(landing, "2022-03-02", [
        CONVICTION | {"conviction_id": "C-1", "fine_eur": 1e13},
        CONVICTION | {"conviction_id": "C-2", "sentence_months": 99999999999},
        CONVICTION | {"conviction_id": "C-3", "birth_date": "2999-05-17"},
        CONVICTION | {"conviction_id": "C-\u0001"},
        CONVICTION | {"conviction_id": "C-5", "version": 3000000000},
        CONVICTION | {"conviction_id": "C-6"},
        CONVICTION | {"conviction_id": "C-7", "final_at": "2999-01-01"},
    ])  # fmt: skip
    write_customs(
        landing, "2022-03",
        [VIOLATION, VIOLATION | {"violation_id": "V-2", "written_at": "2999-01-02T00:00:00",
                                 "detected_at": "2999-01-01T00:00:00"}],
        [SEIZURE | {"value_eur": "1000000000000,00"}, SEIZURE | {"line_no": "2",
         "quantity": "99999999999999999"}, SEIZURE | {"line_no": "3"}],
    )  # fmt: skip
    settings = load_settings()
    load_partition("convictions", "2022-03", settings)
    load_partition("customs", "2022-03", settings)
    found = {
        (f.rsplit("/", 1)[1], n): (field, rule, reason)
        for (f, n), (field, rule, reason, _) in quarantine(settings.warehouse_path).items()
    }
    conviction = "convictions_2022-03-02.jsonl.gz"
    assert found[(conviction, 1)][:2] == ("fine_eur", "malformed_value")
    assert found[(conviction, 2)][:2] == ("sentence_months", "malformed_value")
    # A birth date in the future is after the judgment: that rule comes first.
    assert found[(conviction, 3)][:2] == ("judgment_at", "impossible_date")
    assert found[(conviction, 7)] == (
        "final_at",
        "impossible_date",
        "final_at 2999-01-01 is more than a day after the load time",
    )
    assert found[(conviction, 4)][:2] == ("conviction_id", "malformed_value")
    assert found[(conviction, 5)][:2] == ("version", "malformed_value")
    assert found[("violations_2022-03.csv", 3)][:2] == ("written_at", "impossible_date")
    assert found[("seizures_2022-03.csv", 2)][:2] == ("value_eur", "malformed_value")
    assert found[("seizures_2022-03.csv", 3)][:2] == ("quantity", "malformed_value")
    assert len(found) == 9
    assert reconciles(settings, "convictions", "2022-03")
    assert reconciles(settings, "customs", "2022-03")


def test_an_over_long_line_keeps_its_first_bytes_only(
    crimestat_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRIMESTAT_MAX_LINE_BYTES", "2048")
    landing = crimestat_home / "landing"
    write_incidents(landing, "2022-03-02", [
        incident(1), incident(2, call_112_id="X" * 50_000), incident(3),
    ])  # fmt: skip
    write_convictions(landing, "2022-03-02", [CONVICTION, "{" + " " * 5000, CONVICTION | {
        "conviction_id": "C-2"}])  # fmt: skip
    settings = load_settings()
    assert settings.max_line_bytes == 2048
    load_partition("incidents", "2022-03", settings)
    load_partition("convictions", "2022-03", settings)
    found = quarantine(settings.warehouse_path)
    _, rule, reason, record = found[(INCIDENT_FILE, 3)]
    assert rule == "malformed_value" and "more than the limit of 2_048" in reason
    assert len(record) <= 200 and record.startswith("E-2;1;")
    _, _, reason, record = found[("convictions/2022-03/convictions_2022-03-02.jsonl.gz", 2)]
    assert "more than the limit of 2_048" in reason and len(record) <= 200
    assert reconciles(settings, "incidents", "2022-03")
    assert reconciles(settings, "convictions", "2022-03")
    snapshot = raw_snapshot(settings.warehouse_path)
    assert snapshot["incident_versions"].height == 2
    assert snapshot["conviction_versions"].height == 2


def test_the_default_line_limit_is_64_kib(crimestat_home: Path) -> None:
    landing = crimestat_home / "landing"
    write_incidents(landing, "2022-03-02", [incident(1, call_112_id="X" * (64 * 1024))])
    settings = load_settings()
    assert settings.max_line_bytes == 64 * 1024
    report = load_partition("incidents", "2022-03", settings)
    assert report.rows_quarantined == 1


def test_a_utf8_byte_order_mark_is_accepted(crimestat_home: Path) -> None:
    landing = crimestat_home / "landing"
    for path in (
        write_incidents(landing, "2022-03-02", [incident(1)]),
        write_convictions(landing, "2022-03-02", [CONVICTION]),
    ):
        path.write_bytes(gzip.compress(b"\xef\xbb\xbf" + gzip.decompress(path.read_bytes())))
    settings = load_settings()
    assert load_partition("incidents", "2022-03", settings).rows_loaded == 1
    assert load_partition("convictions", "2022-03", settings).rows_loaded == 1


EMPTY_TRANSFERS = {
    "zero_bytes": (b"", "is empty (0 bytes): most likely a failed transfer"),
    "whitespace": (b" \n\n \t\n", "holds only whitespace: most likely a failed transfer"),
    "gzip_of_whitespace": (
        gzip.compress(b"\n  \n\n", mtime=0),
        "holds only whitespace: most likely a failed transfer",
    ),
}


@pytest.mark.parametrize("kind", list(EMPTY_TRANSFERS))
def test_an_empty_transfer_is_an_unreadable_file_and_the_month_loads(
    crimestat_home: Path, kind: str
) -> None:
    landing = crimestat_home / "landing"
    write_incidents(landing, "2022-03-02", [incident(1)])
    write_convictions(landing, "2022-03-02", [CONVICTION])
    content, problem = EMPTY_TRANSFERS[kind]
    for register, suffix in (("incidents", "csv.gz"), ("convictions", "jsonl.gz")):
        (landing / f"{register}/2022-03/{register}_2022-03-03.{suffix}").write_bytes(content)
    settings = load_settings()
    for register, suffix in (("incidents", "csv.gz"), ("convictions", "jsonl.gz")):
        report = load_partition(register, "2022-03", settings)
        assert report.rows_loaded == 1
        [failure] = report.failures
        assert str(failure) == f"{register}/2022-03/{register}_2022-03-03.{suffix}: {problem}" + (
            ", deliver it again"
        )


def test_an_empty_gzip_stream_is_an_empty_day(crimestat_home: Path) -> None:
    """The generator writes days without convictions as an empty gzip stream: not a fault."""
    landing = crimestat_home / "landing"
    write_convictions(landing, "2022-03-02", [CONVICTION])
    (landing / "convictions/2022-03/convictions_2022-03-03.jsonl.gz").write_bytes(
        gzip.compress(b"", mtime=0)
    )
    report = load_partition("convictions", "2022-03", load_settings())
    assert report.failures == [] and report.files.height == 2 and report.rows_loaded == 1


# Builds the bomb (a gzip of a header, 1.1 GB of one line, and a valid row) by streaming, then
# loads the month and prints the process's peak memory.
BOMB = textwrap.dedent(
    """
    import gzip, json, sys
    from pathlib import Path
    sys.path.insert(0, "tests")
    from benchmarks.measuring import peak_rss_mb
    from landing_files import INCIDENT, write_incidents
    from core import contracts as c
    from core.settings import load_settings
    from ingestion.loading import load_partition

    landing = Path(sys.argv[1])
    path = write_incidents(landing, "2022-03-02", [INCIDENT])
    row = gzip.decompress(path.read_bytes()).split(b"\\n")[1]
    with gzip.open(path, "wb", compresslevel=1) as out:
        out.write(";".join(c.INCIDENT_COLUMNS).encode() + b"\\n")
        block = b"A" * (1 << 24)
        for _ in range(66):  # 1.1 GB on one line
            out.write(block)
        out.write(b"\\n" + row + b"\\n")
    report = load_partition("incidents", "2022-03", load_settings())
    peak = peak_rss_mb() * 2**20  # VmHWM: getrusage's maxrss starts at pytest's own peak
    print(json.dumps({"peak": peak, "size": path.stat().st_size, "loaded": report.rows_loaded,
                      "quarantined": report.rows_quarantined}))
    """
)


def test_a_gzip_bomb_is_read_in_bounded_memory(crimestat_home: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", BOMB, str(crimestat_home / "landing")],
        cwd=PROJECT, env=os.environ.copy(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["size"] < 10_000_000  # a few MB that expand to 1.1 GB
    assert outcome["loaded"] == 1 and outcome["quarantined"] == 1
    assert outcome["peak"] < 1 << 30, f"peak memory {outcome['peak'] / 2**20:.0f} MiB"
    [(_, _, reason, record)] = quarantine(load_settings().warehouse_path).values()
    assert "line is 1_107_296_256 bytes long" in reason and len(record) == 200


def test_an_insert_that_fails_names_file_line_and_field_and_rolls_back(
    crimestat_home: Path,
) -> None:
    """A value a rule missed reaches the insert: the month's transaction is rolled back before
    anything else touches the connection, and the error says where the value is."""
    landing = crimestat_home / "landing"
    write_incidents(landing, "2022-03-02", [incident(1)])
    settings = load_settings()
    load_partition("incidents", "2022-03", settings)
    before = raw_snapshot(settings.warehouse_path)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        good = con.sql("select * exclude (_partition) from raw.incident_versions").pl()
    bad = pl.concat([
        good.with_columns(pl.lit("incidents/2022-03/x.csv.gz").alias("_file")),
        good.with_columns(pl.lit("incidents/2022-03/x.csv.gz").alias("_file"),
                          pl.lit(7).alias("_line"), pl.lit(3_000_000_000).alias("version")),
    ], how="vertical_relaxed")  # fmt: skip
    files = pl.DataFrame({
        "register": ["incidents"], "_partition": ["2022-03"],
        "_file": ["incidents/2022-03/x.csv.gz"], "sha256": ["x"], "rows_read": [2],
        "rows_loaded": [2], "rows_quarantined": [0], "loaded_at": [good["written_at"][0]],
    })  # fmt: skip
    prepared = PreparedPartition(
        {"incident_versions": bad.with_columns(pl.lit("text").alias("_text"))},
        pl.DataFrame(schema={"_file": pl.String, "_line": pl.Int64}),
        files,
    )
    with duckdb.connect(str(settings.warehouse_path)) as con:
        with pytest.raises(InsertError) as raised:
            write_partition(con, "incidents", "2022-03", prepared)
        message = str(raised.value)
        assert "raw.incident_versions: incidents/2022-03/x.csv.gz line 7 field version" in message
        assert "3000000000" in message and "INTEGER" in message
        assert "TransactionContext" not in message
        # The connection is usable: the transaction was rolled back, not left aborted.
        assert con.execute("select count(*) from raw.file_loads").fetchone() == (1,)
    after = raw_snapshot(settings.warehouse_path)
    for name, frame in before.items():
        assert frame.equals(after[name]), name


def test_the_rules_cover_every_numeric_column_of_the_raw_tables() -> None:
    """Every integer or decimal raw column comes from a contract field with a range rule:
    integers are bounded by INTEGER, decimals by a stated maximum within their type."""
    from ingestion.registers import convictions, customs, incidents

    settings = load_settings()
    contracts = {
        c.INCIDENT_VERSIONS: incidents.contract(settings),
        c.CONVICTION_VERSIONS: convictions.contract(settings),
        c.CUSTOMS_VIOLATION_VERSIONS: customs.violations_contract(settings),
        c.CUSTOMS_SEIZURES: customs.seizures_contract(),
    }
    for table, contract in contracts.items():
        fields = contract.by_name
        for name, sql_type in table.columns:
            kind = sql_type.split()[0]
            if name not in fields or not (kind == "integer" or kind.startswith("decimal")):
                continue
            field = fields[name]
            if kind.startswith("decimal"):
                precision, scale = (int(p) for p in kind[8:-1].split(","))
                assert field.maximum is not None, (table.name, name)
                assert field.maximum < 10 ** (precision - scale), (table.name, name)
            else:
                assert field.kind == "integer", (table.name, name)
