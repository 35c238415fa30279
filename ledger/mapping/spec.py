"""Import mappings: how the columns of an ERP export become ledger columns, as data (YAML).

A mapping names, per ledger table (customers, invoices, payments, credit_events), the source
file, how to read it (CSV delimiter and encoding, or Parquet) and, per ledger column, where its
value comes from: a source column (optionally with a date format or a value map) or a
constant. Customers may be taken from the invoice file (``from: invoices``). The format is
documented in ``docs/import.md``; shipped examples live in ``ledger/mappings/``.

This module holds the mapping's model and its rules; a rule broken names the mapping key
that is wrong (``tables.invoices.columns.issue_date.format: ...``). Which rows are read and
their sign (filters, route, amount_sign) is :mod:`.selection`; reading a mapping file is
:mod:`.loading`; applying a column spec to source values is :mod:`.columns`.
"""

from __future__ import annotations

import codecs
import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from creditrisk.ledger.dimensions import MAX_EXTRA_DIMENSIONS, dimension_name_problem
from creditrisk.ledger.errors import MappingError
from creditrisk.ledger.frame import CREDIT_EVENT_TYPES, TABLE_COLUMNS, TABLE_KEYS
from creditrisk.ledger.mapping.selection import AmountSign, RowFilter, TableRoute
from creditrisk.ledger.quality import QualityAction, table_rules

SourceFormat = Literal["csv", "parquet"]

SPECIAL_DATE_FORMATS: dict[str, str] = {
    "iso": "ISO 8601 text such as 2019-01-02 or 2019-01-02T10:30:00 (the default)",
    "yyyymmdd_number": "a number or text such as 20190102 or 20190102.0",
    "epoch_s": "seconds since 1970-01-01",
    "epoch_ms": "milliseconds since 1970-01-01",
    "epoch_us": "microseconds since 1970-01-01",
    "epoch_days": "days since 1970-01-01",
    "excel_days": "spreadsheet serial day numbers (1900 date system, 43467 = 2019-01-02)",
}
"""Named date formats besides strftime patterns such as ``%m/%d/%Y``."""

REQUIRED_COLUMNS: dict[str, frozenset[str]] = {
    "customers": frozenset({"customer_id"}),
    "invoices": frozenset({"invoice_id", "customer_id", "issue_date", "due_date", "amount"}),
    "payments": frozenset({"payment_id", "customer_id", "paid_on", "amount"}),
    "credit_events": frozenset({"customer_id", "event_date", "event_type"}),
    "customer_attributes": frozenset({"customer_id", "attribute", "valid_from"}),
}
"""Ledger columns every row must have (``event_id`` and ``attribute_id`` are derived when
they are not mapped)."""


def _nearest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class ColumnSpec(BaseModel):
    """Where one ledger column comes from: a source column, a constant, or a generated id.

    YAML accepts a bare source column name (``amount: InvoiceAmount``) or a mapping with
    ``column`` plus optional ``format`` (dates), ``values`` (value map), ``default`` (used
    when the source value is blank or, with ``values``, not in the map) and ``required``; or
    ``constant``; or, for a table's id, ``row_number: true`` (the row's line or record
    number in its file) or ``key: [col, ...]`` (several source columns joined by ``|``), both
    with an optional ``prefix``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    column: str | None = None
    format: str | None = None
    values: dict[str, Any] | None = None
    default: Any = None
    constant: Any = None
    required: bool | None = None
    row_number: bool = False
    key: tuple[str, ...] | None = None
    prefix: str = ""

    @model_validator(mode="before")
    @classmethod
    def _bare_column_name(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"column": data}
        if isinstance(data, bool) or not isinstance(data, dict):
            raise ValueError(
                f"expected a source column name or a mapping with 'column', 'constant', "
                f"'row_number' or 'key', got {data!r}"
            )
        return data

    @field_validator("values", mode="before")
    @classmethod
    def _source_values_as_text(cls, values: Any) -> Any:
        if not isinstance(values, dict):
            return values
        out: dict[str, Any] = {}
        for key, value in values.items():
            if isinstance(key, bool) or key is None:
                raise ValueError(
                    f"key {key!r} was read by YAML as {type(key).__name__}; quote source "
                    f'values, e.g. "Yes": true, "No": false'
                )
            out[str(key)] = value
        return out

    @field_validator("format")
    @classmethod
    def _known_format(cls, fmt: str | None) -> str | None:
        if fmt is None or "%" in fmt or fmt in SPECIAL_DATE_FORMATS:
            return fmt
        raise ValueError(
            f"unknown date format {fmt!r}: use a strftime pattern such as '%m/%d/%Y' or one of "
            f"{', '.join(SPECIAL_DATE_FORMATS)}"
        )

    @field_validator("key")
    @classmethod
    def _key_columns(cls, key: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if key is not None and (not key or len(set(key)) != len(key)):
            raise ValueError("key: list one or more distinct source columns")
        return key

    @model_validator(mode="after")
    def _one_source(self) -> ColumnSpec:
        sources = [
            self.column is not None,
            "constant" in self.model_fields_set,
            self.row_number,
            self.key is not None,
        ]
        if sum(sources) != 1:
            raise ValueError(
                "give exactly one of 'column' (a source column), 'constant', "
                "'row_number: true' or 'key: [columns]'"
            )
        if self.column is None and (
            self.format is not None or self.values is not None or "default" in self.model_fields_set
        ):
            raise ValueError("'format', 'values' and 'default' go with a source 'column'")
        if self.prefix and not self.is_generated:
            raise ValueError("'prefix' goes with 'row_number' or 'key'")
        return self

    @property
    def is_constant(self) -> bool:
        return "constant" in self.model_fields_set

    @property
    def is_generated(self) -> bool:
        """An id generated from the row number or from several source columns."""
        return self.row_number or self.key is not None

    @property
    def has_default(self) -> bool:
        return "default" in self.model_fields_set

    def source_columns(self) -> tuple[str, ...]:
        """The source columns this spec reads."""
        if self.column is not None:
            return (self.column,)
        return self.key or ()


class TableMapping(BaseModel):
    """How to read one ledger table: its source and, per ledger column, a :class:`ColumnSpec`."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    file: str | None = None
    from_: Literal["invoices"] | None = Field(default=None, alias="from")
    format: SourceFormat | None = None
    delimiter: str = ","
    encoding: str = "utf-8"
    decimal: str = "."
    thousands: str | None = None
    na_values: tuple[str, ...] = ("",)
    optional: bool = False
    allow_negative_amounts: bool = False
    drop_duplicates: bool = False
    filters: tuple[RowFilter, ...] = ()
    amount_sign: AmountSign | None = None
    route: TableRoute | None = None
    quality: dict[str, QualityAction] = Field(default_factory=dict)
    columns: dict[str, ColumnSpec]
    dimensions: dict[str, ColumnSpec] = Field(default_factory=dict)
    """Invoices only: extra named string dimensions, name -> where the value comes from
    (kept in ``invoices.dimensions``, features ``dim_<name>``; ledger/dimensions.py)."""

    @field_validator("delimiter", "decimal")
    @classmethod
    def _one_character(cls, value: str) -> str:
        if len(value) != 1:
            raise ValueError(f"must be one character, got {value!r}")
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r} (try utf-8, cp1252 or latin-1)") from None
        return value

    def action(self, rule: str) -> QualityAction:
        """What the mapping does with rows breaking ``rule`` (default: reject)."""
        return self.quality.get(rule, "reject")

    def filter_columns(self) -> set[str]:
        """Source columns read to choose rows and signs (filters, route, amount_sign)."""
        columns = {f.column for f in self.filters}
        if self.amount_sign is not None:
            columns.add(self.amount_sign.column)
        if self.route is not None:
            columns.add(self.route.column)
        return columns

    def sign_rule(self) -> tuple[str, dict[str, Literal[1, -1]]] | None:
        """(source column, value -> sign) when the amount's sign comes from a source column:
        ``amount_sign``, or ``route`` (credit notes negative)."""
        if self.amount_sign is not None:
            return self.amount_sign.column, dict(self.amount_sign.values)
        if self.route is not None:
            return self.route.column, self.route.signs()
        return None

    def source_columns(self) -> set[str]:
        """Every source column the mapping reads from its file (columns, dimensions, filters,
        route, sign)."""
        specs = [*self.columns.values(), *self.dimensions.values()]
        return {name for spec in specs for name in spec.source_columns()} | self.filter_columns()

    def is_required(self, table: str, column: str) -> bool:
        """Whether an empty value in ``column`` rejects the row."""
        if column in REQUIRED_COLUMNS[table]:
            return True
        spec = self.columns.get(column)
        return bool(spec is not None and spec.required)


def _check_constant(
    table: str, column: str, kind: str, value: Any, field: str = "constant"
) -> None:
    where = f"tables.{table}.columns.{column}.{field}"
    if value is None:
        return
    if kind == "date":
        try:
            pd.Timestamp(str(value))
        except ValueError:
            raise ValueError(f"{where}: {value!r} is not an ISO date such as 2019-01-02") from None
    elif kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{where}: {value!r} is not a number")
    elif kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{where}: {value!r} is not true or false")
    elif column == "event_type" and value not in CREDIT_EVENT_TYPES:
        raise ValueError(
            f"{where}: unknown event type {value!r} "
            f"(expected one of {', '.join(CREDIT_EVENT_TYPES)})"
        )


def _check_value_map(table: str, column: str, kind: str, values: dict[str, Any]) -> None:
    where = f"tables.{table}.columns.{column}.values"
    for source, target in values.items():
        if target is None:
            continue
        if kind == "bool" and not isinstance(target, bool):
            raise ValueError(f"{where}.{source}: {target!r} is not true or false")
        if kind == "float" and (isinstance(target, bool) or not isinstance(target, int | float)):
            raise ValueError(f"{where}.{source}: {target!r} is not a number")
        if column == "event_type" and target not in CREDIT_EVENT_TYPES:
            raise ValueError(
                f"{where}.{source}: unknown event type {target!r} "
                f"(expected one of {', '.join(CREDIT_EVENT_TYPES)})"
            )


def _check_dimensions(table: str, mapping: TableMapping) -> None:
    where = f"tables.{table}.dimensions"
    if not mapping.dimensions:
        return
    if table != "invoices":
        raise ValueError(f"{where}: only invoices take extra dimensions")
    if "dimensions" in mapping.columns:
        raise ValueError(f"{where}: give dimensions (named source columns) or "
                         "columns.dimensions (their JSON as stored), not both")
    if len(mapping.dimensions) > MAX_EXTRA_DIMENSIONS:
        raise ValueError(
            f"{where}: {len(mapping.dimensions)} dimensions, at most {MAX_EXTRA_DIMENSIONS}"
        )
    for name, spec in mapping.dimensions.items():
        problem = dimension_name_problem(name)
        if problem is not None:
            raise ValueError(f"{where}.{name}: {problem}")
        if name in TABLE_COLUMNS["invoices"]:
            raise ValueError(
                f"{where}.{name}: an invoice column of its own; map it under columns"
            )
        if spec.format is not None or spec.is_generated:
            raise ValueError(f"{where}.{name}: a dimension is a source column (text) or a "
                             "constant, with an optional value map and default")
        if spec.values is not None:
            _check_value_map(table, name, "str", spec.values)


def _check_table(table: str, mapping: TableMapping, tables: Mapping[str, TableMapping]) -> None:
    where = f"tables.{table}"
    kinds = TABLE_COLUMNS[table]
    if (mapping.file is None) == (mapping.from_ is None):
        raise ValueError(f"{where}: give exactly one of 'file' (a source file) or 'from: invoices'")
    if mapping.from_ is not None:
        if table != "customers":
            raise ValueError(f"{where}.from: only customers can be taken from the invoice file")
        invoices = tables.get("invoices")
        if invoices is None or invoices.file is None:
            raise ValueError(f"{where}.from: 'from: invoices' needs an invoices table with a file")
    if mapping.allow_negative_amounts and table != "invoices":
        raise ValueError(
            f"{where}.allow_negative_amounts: only invoices may be negative (credit notes)"
        )
    if mapping.amount_sign is not None and table != "invoices":
        raise ValueError(f"{where}.amount_sign: only invoices take a sign (credit notes)")
    if mapping.route is not None and table != "invoices":
        raise ValueError(f"{where}.route: only invoice files are routed (invoice or credit note)")
    if mapping.route is not None and mapping.amount_sign is not None:
        raise ValueError(
            f"{where}: give route or amount_sign, not both (route gives the sign of credit notes)"
        )
    if mapping.from_ is not None and (mapping.filters or mapping.drop_duplicates):
        raise ValueError(
            f"{where}: filters and drop_duplicates belong to the invoices table it is taken from"
        )
    _check_dimensions(table, mapping)
    rules = table_rules(table)
    for rule, action in mapping.quality.items():
        if rule not in rules:
            known = ", ".join(rules) or "none"
            raise ValueError(
                f"{where}.quality.{rule}: not a data-quality rule of {table}"
                f"{_nearest(rule, list(rules))} (rules: {known})"
            )
        if action not in rules[rule].actions:
            raise ValueError(
                f"{where}.quality.{rule}: {action!r} is not possible here; choose one of "
                f"{', '.join(rules[rule].actions)}"
            )
    for column, spec in mapping.columns.items():
        if column not in kinds:
            raise ValueError(
                f"{where}.columns.{column}: not a column of the {table} table"
                f"{_nearest(column, list(kinds))}; expected one of {', '.join(kinds)}"
            )
        kind = kinds[column]
        if spec.format is not None and kind != "date":
            raise ValueError(f"{where}.columns.{column}.format: only date columns take a format")
        if spec.required is False and column in REQUIRED_COLUMNS[table]:
            raise ValueError(f"{where}.columns.{column}.required: the ledger always needs it")
        if spec.is_constant:
            _check_constant(table, column, kind, spec.constant)
            if column == TABLE_KEYS[table]:
                raise ValueError(f"{where}.columns.{column}: an id cannot be a constant")
        if spec.is_generated and column != TABLE_KEYS[table]:
            raise ValueError(
                f"{where}.columns.{column}: only the table's id ({TABLE_KEYS[table]}) can be "
                f"generated from row_number or key"
            )
        if spec.values is not None:
            _check_value_map(table, column, kind, spec.values)
        if spec.has_default:
            _check_constant(table, column, kind, spec.default, "default")
    missing = sorted(REQUIRED_COLUMNS[table] - set(mapping.columns))
    if missing:
        raise ValueError(
            f"{where}.columns: {', '.join(missing)} must be mapped (the ledger needs "
            f"{'it' if len(missing) == 1 else 'them'} on every row)"
        )


class LedgerMapping(BaseModel):
    """A whole import mapping: the ledger tables to read and how.

    ``base_dir`` (the mapping file's folder) anchors relative source paths unless the
    import is given a data directory.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = ""
    description: str = ""
    tables: dict[str, TableMapping]
    base_dir: Path = Field(default=Path("."), exclude=True)

    @field_validator("tables", mode="before")
    @classmethod
    def _known_tables(cls, tables: Any) -> Any:
        if isinstance(tables, dict):
            for name in tables:
                if name not in TABLE_COLUMNS:
                    raise ValueError(
                        f"unknown ledger table {name!r}{_nearest(str(name), list(TABLE_COLUMNS))}"
                        f"; expected one of {', '.join(TABLE_COLUMNS)}"
                    )
            if not tables:
                raise ValueError("map at least one ledger table")
        return tables

    @model_validator(mode="after")
    def _tables_consistent(self) -> LedgerMapping:
        for table, mapping in self.tables.items():
            _check_table(table, mapping, self.tables)
        return self

    def source_tables(self) -> list[str]:
        """Ledger tables read from a file of their own, in foreign-key order."""
        return [t for t in TABLE_COLUMNS if t in self.tables and self.tables[t].file is not None]

    def source_path(self, table: str, data_dir: Path | None = None) -> Path:
        """The file a table is read from: absolute, or relative to ``data_dir`` / the mapping."""
        file = self.tables[table].file
        if file is None:
            raise MappingError(f"tables.{table}: has no file of its own (from: invoices)")
        path = Path(file).expanduser()
        if path.is_absolute():
            return path
        return (data_dir if data_dir is not None else self.base_dir) / path

    def source_format(self, table: str, path: Path) -> SourceFormat:
        """``format`` from the mapping, else from the file extension."""
        declared = self.tables[table].format
        if declared is not None:
            return declared
        suffixes = [s.lower() for s in path.suffixes]
        if ".parquet" in suffixes or ".pq" in suffixes:
            return "parquet"
        if {".csv", ".tsv", ".txt"} & set(suffixes):
            return "csv"
        raise MappingError(
            f"tables.{table}.format: cannot tell the format of {path.name!r} from its "
            f"extension; set format: csv or format: parquet"
        )

    def with_files(self, files: Mapping[str, Path]) -> LedgerMapping:
        """A copy reading ``files`` (ledger table -> path) instead of the mapped files."""
        tables = dict(self.tables)
        for table, path in files.items():
            if table not in tables:
                raise MappingError(
                    f"--file {table}=...: the mapping has no {table!r} table "
                    f"(it maps {', '.join(tables)})"
                )
            if tables[table].file is None:
                raise MappingError(f"--file {table}=...: {table} is read from the invoice file")
            tables[table] = tables[table].model_copy(
                update={"file": str(Path(path).expanduser().resolve())}
            )
        return self.model_copy(update={"tables": tables})

