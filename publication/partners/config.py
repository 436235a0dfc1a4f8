"""Partner configurations (SPEC 9): what each partner agreed to receive, kept as data in
`config/<PARTNER>.yml`, checked in full when loaded.

A configuration names the partner, the label language of its CSV files, its delivery adapter
and its agreed tables: each reads one monthly mart (`source`), sums one column (`measure`)
over the rows its `filters` keep, broken down by the listed columns, and is delivered in the
listed formats, with or without disclosure control. Every problem is reported at once, each
naming the file and the key (`tables[2].breakdowns[0].column: ...`), so a bad file is fixed
in one go and never half-used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from core.code_labels import LANGUAGES
from core.settings import StructureSettings
from core.vocabulary import PERSONS
from publication.partners.breakdowns import BREAKDOWNS, Breakdown, country_codes
from publication.partners.catalogue import MONTH_COLUMN, mart_catalogue
from publication.partners.delivery import ADAPTERS

CONFIG_DIR = Path(__file__).resolve().parent / "config"
FORMATS = ("csv", "sdmx-csv", "sdmx-ml")
SDMX_FORMATS = ("sdmx-csv", "sdmx-ml")
LABEL_LANGUAGES = tuple(LANGUAGES)  # the languages the project has code labels in
PARTNER_CODE = re.compile(r"^[A-Z]{2}$")
TABLE_ID = re.compile(r"^[a-z][a-z0-9_]*$")
PARTNER_KEYS = {"partner", "name", "country", "label_language", "delivery", "tables"}
PARTNER_REQUIRED = PARTNER_KEYS - {"delivery"}
TABLE_KEYS = {"id", "title", "source", "measure", "breakdowns", "filters", "formats",
              "disclosure_control"}  # fmt: skip
TABLE_REQUIRED = TABLE_KEYS - {"filters"}
BREAKDOWN_KEYS = {"column", "levels", "total"}
DEFAULT_ADAPTER = "outbox"


class PartnerConfigError(ValueError):
    """A configuration file cannot be used; `problems` lists every reason with its key."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = Path(path)
        self.problems = list(problems)
        lines = [f"partner configuration {self.path} is not valid:"]
        lines += [f"  - {problem}" for problem in self.problems]
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class AgreedTable:
    """One agreed table: `filters` keep mart rows whose column holds one of the values."""

    id: str
    title: str
    source: str
    measure: str
    breakdowns: tuple[Breakdown, ...]
    filters: tuple[tuple[str, tuple[Any, ...]], ...]
    formats: tuple[str, ...]
    disclosure_control: bool
    dataflow_id: str

    @property
    def sdmx_formats(self) -> tuple[str, ...]:
        return tuple(f for f in self.formats if f in SDMX_FORMATS)


@dataclass(frozen=True)
class PartnerConfig:
    code: str
    names: Mapping[str, str]  # language -> name of the partner institution
    country: str
    label_language: str
    delivery_adapter: str
    tables: tuple[AgreedTable, ...]
    path: Path

    @property
    def name(self) -> str:
        return self.names["en"]

    @property
    def sources(self) -> tuple[str, ...]:
        """The marts the partner's tables read, each once."""
        return tuple(dict.fromkeys(table.source for table in self.tables))


def partner_codes(config_dir: Path = CONFIG_DIR) -> list[str]:
    """The partners with a configuration file, e.g. ['EE', 'LV']."""
    return sorted(path.stem for path in Path(config_dir).glob("*.yml"))


def load_partner(
    code: str, settings: StructureSettings, config_dir: Path = CONFIG_DIR
) -> PartnerConfig:
    path = Path(config_dir) / f"{code}.yml"
    if not path.is_file():
        known = ", ".join(partner_codes(config_dir)) or "none"
        raise PartnerConfigError(path, [f"no configuration for partner {code!r} (known: {known})"])
    return load_partner_file(path, settings)


def load_partners(
    settings: StructureSettings, config_dir: Path = CONFIG_DIR
) -> dict[str, PartnerConfig]:
    return {code: load_partner(code, settings, config_dir) for code in partner_codes(config_dir)}


def load_partner_file(path: Path, settings: StructureSettings) -> PartnerConfig:
    """Read and check one configuration file; PartnerConfigError lists every problem."""
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise PartnerConfigError(path, [f"not valid YAML: {error}"]) from None
    except (OSError, UnicodeDecodeError) as error:
        raise PartnerConfigError(path, [f"cannot be read: {error}"]) from None
    checker = _Checker(settings)
    config = checker.partner(document, path)
    if checker.problems:
        raise PartnerConfigError(path, checker.problems)
    assert config is not None
    return config


class _Checker:
    """Walks a parsed configuration, collecting every problem under its key."""

    def __init__(self, settings: StructureSettings) -> None:
        self.settings = settings
        self.problems: list[str] = []

    def problem(self, key: str, what: str) -> None:
        self.problems.append(f"{key}: {what}")

    def keys(self, where: str, value: Any, allowed: set[str], required: set[str]) -> bool:
        if not isinstance(value, dict):
            self.problem(where or "(file)", f"must be a mapping, not {type(value).__name__}")
            return False
        prefix = f"{where}." if where else ""
        for key in sorted(set(value) - allowed, key=str):
            self.problem(f"{prefix}{key}", f"unknown key (known: {', '.join(sorted(allowed))})")
        for key in sorted(required - set(value)):
            self.problem(f"{prefix}{key}", "missing")
        return True

    def text(self, key: str, value: Any) -> str | None:
        if isinstance(value, str) and value.strip():
            return value.strip()
        self.problem(key, f"must be non-empty text, not {value!r}")
        return None

    def partner(self, document: Any, path: Path) -> PartnerConfig | None:
        if not self.keys("", document, PARTNER_KEYS, PARTNER_REQUIRED):
            return None
        code = document.get("partner")
        if not isinstance(code, str) or not PARTNER_CODE.match(code):
            self.problem("partner", f"must be a two-letter code like LV, not {code!r}")
        elif code != path.stem:
            self.problem("partner", f"{code!r} is not the file's name ({path.stem}.yml)")
        names = document.get("name")
        if not isinstance(names, dict) or not all(
            isinstance(v, str) and v.strip() for v in names.values()
        ):
            self.problem("name", "must map languages to names, e.g. {en: Ministry of ...}")
            names = {}
        elif "en" not in names:
            self.problem("name", "needs the English name (key en)")
        country = document.get("country")
        if not isinstance(country, str) or country not in country_codes(self.settings):
            self.problem("country", f"{country!r} is not an ISO 3166-1 alpha-2 code of the seed")
        elif country == self.settings.country:
            self.problem("country", f"{country} is the sending country itself")
        language = document.get("label_language")
        if language not in LABEL_LANGUAGES:
            self.problem(
                "label_language",
                f"{language!r} is not a language with labels (available: "
                f"{', '.join(LABEL_LANGUAGES)})",
            )
        adapter = self.delivery(document.get("delivery", {"adapter": DEFAULT_ADAPTER}))
        tables = self.tables(document.get("tables"), str(code))
        if self.problems:
            return None
        return PartnerConfig(
            code=code,
            names=dict(names),
            country=country,
            label_language=language,
            delivery_adapter=adapter,
            tables=tables,
            path=path,
        )

    def delivery(self, value: Any) -> str:
        if not self.keys("delivery", value, {"adapter"}, {"adapter"}):
            return DEFAULT_ADAPTER
        adapter = value.get("adapter", DEFAULT_ADAPTER)
        if not isinstance(adapter, str) or adapter not in ADAPTERS:
            self.problem(
                "delivery.adapter",
                f"{adapter!r} is not an available adapter (available: {', '.join(ADAPTERS)}; "
                "SFTP is not built yet)",
            )
        return adapter

    def tables(self, value: Any, partner: str) -> tuple[AgreedTable, ...]:
        if not isinstance(value, list) or not value:
            self.problem("tables", "must be a non-empty list of agreed tables")
            return ()
        tables, seen = [], set()
        for index, item in enumerate(value):
            table = self.table(f"tables[{index}]", item, partner)
            if table is None:
                continue
            if table.id in seen:
                self.problem(f"tables[{index}].id", f"{table.id!r} is used by an earlier table")
            seen.add(table.id)
            tables.append(table)
        return tuple(tables)

    def table(self, where: str, value: Any, partner: str) -> AgreedTable | None:
        if not self.keys(where, value, TABLE_KEYS, TABLE_REQUIRED):
            return None
        before = len(self.problems)
        table_id = value.get("id")
        if not isinstance(table_id, str) or not TABLE_ID.match(table_id):
            self.problem(
                f"{where}.id", f"must be lowercase letters, digits and _, not {table_id!r}"
            )
        title = self.text(f"{where}.title", value.get("title"))
        source = value.get("source")
        marts = mart_catalogue()
        mart = marts.get(source) if isinstance(source, str) else None
        if mart is None:
            self.problem(
                f"{where}.source",
                f"{source!r} is not a mart (marts: {', '.join(sorted(marts))})",
            )
        elif not mart.monthly:
            self.problem(f"{where}.source", f"marts.{source} has no {MONTH_COLUMN}: not monthly")
        columns = set(mart.columns) if mart else set()
        measure = value.get("measure")
        if mart and (not isinstance(measure, str) or measure not in columns):
            self.problem(f"{where}.measure", f"marts.{source} has no column {measure!r}")
        disclosure = value.get("disclosure_control")
        if not isinstance(disclosure, bool):
            self.problem(
                f"{where}.disclosure_control", f"must be true or false, not {disclosure!r}"
            )
        elif measure == PERSONS and not disclosure:
            self.problem(
                f"{where}.disclosure_control",
                "must be true: the table counts persons, and every published count of "
                "persons goes through disclosure control",
            )
        breakdowns = self.breakdowns(
            f"{where}.breakdowns", value.get("breakdowns"), source, columns, disclosure is True
        )
        filters = self.filters(f"{where}.filters", value.get("filters") or {}, source, columns)
        formats = value.get("formats")
        if not isinstance(formats, list) or not formats:
            self.problem(f"{where}.formats", f"must be a non-empty list of {', '.join(FORMATS)}")
            formats = []
        for position, name in enumerate(formats):
            if name not in FORMATS:
                self.problem(
                    f"{where}.formats[{position}]",
                    f"{name!r} is not a format (known: {', '.join(FORMATS)})",
                )
        if len(set(map(str, formats))) != len(formats):
            self.problem(f"{where}.formats", "lists a format twice")
        if len(self.problems) > before:
            return None
        assert title is not None
        return AgreedTable(
            id=table_id,
            title=title,
            source=source,
            measure=measure,
            breakdowns=breakdowns,
            filters=filters,
            formats=tuple(formats),
            disclosure_control=disclosure,
            dataflow_id=f"{partner}_{table_id.upper()}",
        )

    def breakdowns(
        self, where: str, value: Any, source: Any, columns: set[str], disclosure: bool
    ) -> tuple[Breakdown, ...]:
        if not isinstance(value, list) or not value:
            self.problem(where, "must be a non-empty list of mart columns")
            return ()
        result: list[Breakdown] = []
        for index, item in enumerate(value):
            key = f"{where}[{index}]"
            item = {"column": item} if isinstance(item, str) else item
            if not self.keys(key, item, BREAKDOWN_KEYS, {"column"}):
                continue
            column = item.get("column")
            if not isinstance(column, str):
                self.problem(f"{key}.column", f"must name a mart column, not {column!r}")
                continue
            kind = BREAKDOWNS.get(column)
            if columns and column not in columns:
                self.problem(f"{key}.column", f"marts.{source} has no column {column!r}")
                continue
            if kind is None:
                self.problem(
                    f"{key}.column",
                    f"{column!r} cannot be a breakdown (possible: {', '.join(BREAKDOWNS)})",
                )
                continue
            levels = item.get("levels", [])
            total = item.get("total", False)
            if not isinstance(levels, list) or not all(isinstance(v, int) for v in levels):
                self.problem(f"{key}.levels", f"must be a list of ICCS levels, not {levels!r}")
                continue
            if not isinstance(total, bool):
                self.problem(f"{key}.total", f"must be true or false, not {total!r}")
                continue
            breakdown = Breakdown(column, tuple(levels), total)
            for what in kind.problems(breakdown, disclosure):
                self.problem(key, what)
            if any(b.column == column for b in result):
                self.problem(f"{key}.column", f"{column!r} is listed twice")
            result.append(breakdown)
        return tuple(result)

    def filters(
        self, where: str, value: Any, source: Any, columns: set[str]
    ) -> tuple[tuple[str, tuple[Any, ...]], ...]:
        if not isinstance(value, dict):
            self.problem(where, f"must map mart columns to the values kept, not {value!r}")
            return ()
        result = []
        for column, values in value.items():
            key = f"{where}.{column}"
            if not isinstance(column, str) or (columns and column not in columns):
                self.problem(key, f"marts.{source} has no column {column!r}")
                continue
            values = values if isinstance(values, list) else [values]
            if not values or not all(isinstance(v, str | int | float | bool) for v in values):
                self.problem(key, f"must be a value or a non-empty list of values: {values!r}")
                continue
            kind = BREAKDOWNS.get(column)
            if kind is not None:
                known = kind.mart_values(self.settings)
                unknown = [v for v in values if v not in known]
                if unknown:
                    self.problem(
                        key,
                        f"{', '.join(map(repr, unknown))} not among the values of {column} "
                        "(quote codes YAML reads as booleans, e.g. 'NO')",
                    )
                    continue
            result.append((column, tuple(values)))
        return tuple(result)
