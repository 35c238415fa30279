"""Import mappings: how the columns of an ERP export become ledger columns, as data (YAML).

A mapping names, per ledger table (customers, invoices, payments, credit_events), the source
file, how to read it (CSV delimiter and encoding, or Parquet) and, per ledger column, where its
value comes from: a source column (optionally with a date format or a value map) or a
constant. Customers may be taken from the invoice file (``from: invoices``). The format is
documented in ``docs/import.md``; shipped examples live in ``features/ledger/mappings/``.

Loading a mapping validates it completely; a :class:`MappingError` names the mapping key
that is wrong (``tables.invoices.columns.issue_date.format: ...``). :func:`parse_column`
applies one column spec to a source column, vectorised, and says which rows it cannot read.
"""

from __future__ import annotations

import codecs
import datetime as dt
import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from creditrisk.ledger.errors import MappingError
from creditrisk.ledger.frame import (
    CREDIT_EVENT_TYPES,
    DATE_DTYPE,
    ID_DTYPE,
    TABLE_COLUMNS,
    TABLE_KEYS,
)

SourceFormat = Literal["csv", "parquet"]

EARLIEST_DATE = pd.Timestamp("1800-01-01")  # founding dates of old firms
LATEST_DATE = pd.Timestamp("2199-12-31")

YES_NO_WORDS: dict[str, bool] = {
    "true": True,
    "false": False,
    "yes": True,
    "no": False,
    "y": True,
    "n": False,
    "t": True,
    "f": False,
    "1": True,
    "0": False,
}
"""How a yes/no column without a value map is read (case-insensitive)."""

SPECIAL_DATE_FORMATS: dict[str, str] = {
    "iso": "ISO 8601 text such as 2019-01-02 or 2019-01-02T10:30:00 (the default)",
    "yyyymmdd_number": "a number or text such as 20190102 or 20190102.0",
    "epoch_s": "seconds since 1970-01-01",
    "epoch_ms": "milliseconds since 1970-01-01",
    "epoch_days": "days since 1970-01-01",
    "excel_days": "spreadsheet serial day numbers (1900 date system, 43467 = 2019-01-02)",
}
"""Named date formats besides strftime patterns such as ``%m/%d/%Y``."""

REQUIRED_COLUMNS: dict[str, frozenset[str]] = {
    "customers": frozenset({"customer_id"}),
    "invoices": frozenset({"invoice_id", "customer_id", "issue_date", "due_date", "amount"}),
    "payments": frozenset({"payment_id", "customer_id", "paid_on", "amount"}),
    "credit_events": frozenset({"customer_id", "event_date", "event_type"}),
}
"""Ledger columns every row must have (``event_id`` is derived when it is not mapped)."""

SHIPPED_MAPPINGS_PACKAGE = "creditrisk.ledger.mappings"


def _nearest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class ColumnSpec(BaseModel):
    """Where one ledger column comes from: a source column, or a constant.

    YAML accepts a bare source column name (``amount: InvoiceAmount``) or a mapping with
    ``column`` plus optional ``format`` (dates), ``values`` (value map) and ``required``, or
    ``constant``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    column: str | None = None
    format: str | None = None
    values: dict[str, Any] | None = None
    constant: Any = None
    required: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _bare_column_name(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"column": data}
        if isinstance(data, bool) or not isinstance(data, dict):
            raise ValueError(
                f"expected a source column name or a mapping with 'column' or 'constant', "
                f"got {data!r}"
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

    @model_validator(mode="after")
    def _column_or_constant(self) -> ColumnSpec:
        has_constant = "constant" in self.model_fields_set
        if has_constant == (self.column is not None):
            raise ValueError("give exactly one of 'column' (a source column) or 'constant'")
        if has_constant and (self.format is not None or self.values is not None):
            raise ValueError("a 'constant' takes no 'format' or 'values'")
        return self

    @property
    def is_constant(self) -> bool:
        return "constant" in self.model_fields_set


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
    columns: dict[str, ColumnSpec]

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

    def is_required(self, table: str, column: str) -> bool:
        """Whether an empty value in ``column`` rejects the row."""
        if column in REQUIRED_COLUMNS[table]:
            return True
        spec = self.columns.get(column)
        return bool(spec is not None and spec.required)


def _check_constant(table: str, column: str, kind: str, value: Any) -> None:
    where = f"tables.{table}.columns.{column}.constant"
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
        if spec.values is not None:
            _check_value_map(table, column, kind, spec.values)
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


def _format_errors(source: str, error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"])
        message = str(item["msg"]).removeprefix("Value error, ")
        lines.append(f"  {where}: {message}" if where else f"  {message}")
    return f"mapping {source} is invalid:\n" + "\n".join(lines)


def parse_mapping(data: Any, *, base_dir: Path, source: str = "<mapping>") -> LedgerMapping:
    """Validate a mapping already read from YAML (a dict); relative files resolve to base_dir."""
    if not isinstance(data, dict):
        raise MappingError(f"mapping {source} is invalid: expected a YAML mapping with 'tables'")
    try:
        return LedgerMapping.model_validate({**data, "base_dir": base_dir})
    except ValidationError as exc:
        raise MappingError(_format_errors(source, exc)) from None


def shipped_mappings() -> dict[str, Path]:
    """Mappings shipped with creditrisk, by name (``canonical``, ``ibm_accounts_receivable``)."""
    folder = resources.files(SHIPPED_MAPPINGS_PACKAGE)
    return {
        Path(entry.name).stem: Path(str(entry))
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
    }


def resolve_mapping_path(name_or_path: str | Path) -> Path:
    """A mapping file path, or the name of a shipped mapping (``ibm_accounts_receivable``)."""
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return path
    shipped = shipped_mappings()
    if path.stem in shipped and path.parent == Path("."):
        return shipped[path.stem]
    raise MappingError(
        f"mapping file not found: {str(name_or_path)!r} "
        f"(shipped mappings: {', '.join(sorted(shipped))})"
    )


def load_mapping(name_or_path: str | Path) -> LedgerMapping:
    """Read and validate a mapping file (or a shipped mapping by name)."""
    path = resolve_mapping_path(name_or_path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise MappingError(f"mapping {path} is not valid YAML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(f"cannot read mapping {path}: {exc}") from None
    return parse_mapping(data, base_dir=path.resolve().parent, source=str(path))


# ---------------------------------------------------------------- applying a column spec


def as_text(values: pd.Series) -> pd.Series:
    """Source values as trimmed text, missing for blanks; whole numbers without '.0'."""
    if pd.api.types.is_bool_dtype(values):
        text = values.astype("string").str.lower()
    elif pd.api.types.is_numeric_dtype(values):
        numbers = values.astype("float64")
        whole = numbers.isna() | (np.floor(numbers) == numbers)
        text = numbers.astype("Int64").astype("string") if whole.all() else values.astype("string")
    else:
        text = values.astype("string").str.strip()
    return text.mask(text == "").astype(ID_DTYPE)


@dataclass(frozen=True)
class ParsedColumn:
    """A ledger column read from a source column: typed values, and the unreadable rows."""

    values: pd.Series
    invalid: np.ndarray
    problem: str | pd.Series


def _parse_date_text(text: pd.Series, fmt: str) -> pd.Series:
    """Parse each distinct value once (exports repeat the same few thousand dates)."""
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    parsed = _parse_distinct_dates(pd.Series(uniques), fmt).to_numpy()
    out = parsed[np.maximum(codes, 0)] if len(parsed) else np.full(len(codes), np.datetime64("NaT"))
    out = np.where(codes >= 0, out, np.datetime64("NaT"))
    return pd.Series(out, index=text.index).astype("datetime64[us]")


def _local(dates: pd.Series) -> pd.Series:
    """Wall-clock dates without time zone (the local calendar day is what the ledger keeps)."""
    if getattr(dates.dt, "tz", None) is not None:
        return dates.dt.tz_localize(None)
    return dates


def _parse_distinct_dates(text: pd.Series, fmt: str) -> pd.Series:
    if fmt == "iso":  # drop any UTC offset first: mixed offsets would not parse together
        local = text.astype("string").str.replace(r"(Z|[+-]\d{2}:?\d{2})$", "", regex=True)
        return pd.to_datetime(local, format="ISO8601", errors="coerce")
    if fmt == "yyyymmdd_number":
        numbers = pd.to_numeric(text, errors="coerce").astype("float64")
        plausible = (numbers >= 18000101) & (numbers <= 21991231) & (np.floor(numbers) == numbers)
        whole = numbers.where(plausible)
        digits = whole.astype("Int64").astype("string")
        return pd.to_datetime(digits, format="%Y%m%d", errors="coerce")
    if fmt.startswith(("epoch_", "excel_")):
        numbers = pd.to_numeric(text, errors="coerce").astype("float64")
        unit, origin = {
            "epoch_s": ("s", "unix"),
            "epoch_ms": ("ms", "unix"),
            "epoch_days": ("D", "unix"),
            "excel_days": ("D", "1899-12-30"),
        }[fmt]
        start = pd.Timestamp("1970-01-01") if origin == "unix" else pd.Timestamp(origin)
        scale = pd.Timedelta(1, unit=unit)
        low = (EARLIEST_DATE - start) / scale
        high = (LATEST_DATE - start) / scale
        plausible = numbers.where((numbers >= low) & (numbers <= high))
        return pd.to_datetime(plausible, unit=unit, origin=origin, errors="coerce")
    try:
        return _local(pd.to_datetime(text, format=fmt, errors="coerce"))
    except ValueError:  # %z with mixed offsets: compare in UTC
        return _local(pd.to_datetime(text, format=fmt, errors="coerce", utc=True))


def _date_format_words(fmt: str) -> str:
    if fmt == "iso":
        return "an ISO date such as 2019-01-02"
    if "%" in fmt:
        return f"a date in the format {fmt}"
    return f"a date ({fmt}: {_SPECIAL_WORDS.get(fmt, fmt)})"


_SPECIAL_WORDS = {
    "yyyymmdd_number": "a number such as 20190102",
    "epoch_s": "seconds since 1970",
    "epoch_ms": "milliseconds since 1970",
    "epoch_days": "days since 1970",
    "excel_days": "spreadsheet day number",
}


_NUMERIC_DATE_FORMATS = ("yyyymmdd_number", "epoch_s", "epoch_ms", "epoch_days", "excel_days")


def _holds_dates(values: pd.Series) -> bool:
    present = values.dropna()
    return (
        pd.api.types.is_object_dtype(values)
        and not present.empty
        and isinstance(present.iloc[0], dt.date)
    )


def _parse_date(values: pd.Series, fmt: str | None, blank: pd.Series) -> ParsedColumn:
    fmt = fmt or "iso"
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
        if getattr(parsed.dt, "tz", None) is not None:
            parsed = parsed.dt.tz_localize(None)
    elif _holds_dates(values):  # e.g. Parquet date32 columns arrive as datetime.date
        parsed = pd.to_datetime(values, errors="coerce")
    elif pd.api.types.is_numeric_dtype(values) and fmt in _NUMERIC_DATE_FORMATS:
        parsed = _parse_date_text(values.astype("float64"), fmt)
    else:
        parsed = _parse_date_text(as_text(values), fmt)
    parsed = pd.Series(parsed, index=values.index)
    unreadable = parsed.isna().to_numpy() & ~blank.to_numpy()
    out_of_range = ((parsed < EARLIEST_DATE) | (parsed > LATEST_DATE)).to_numpy()
    problem = pd.Series(f"not {_date_format_words(fmt)}", index=values.index, dtype=object)
    problem[out_of_range] = "date outside 1800-2199"
    good = parsed.where(~out_of_range).dt.normalize()
    return ParsedColumn(
        values=good.astype(DATE_DTYPE), invalid=unreadable | out_of_range, problem=problem
    )


def _parse_number(values: pd.Series, table_mapping: TableMapping, blank: pd.Series) -> ParsedColumn:
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = values.astype("float64")
    else:
        text = as_text(values)
        if table_mapping.thousands is not None:
            text = text.str.replace(table_mapping.thousands, "", regex=False)
        if table_mapping.decimal != ".":
            text = text.str.replace(table_mapping.decimal, ".", regex=False)
        numbers = pd.to_numeric(text, errors="coerce").astype("float64")
    numbers = numbers.where(np.isfinite(numbers))
    invalid = numbers.isna().to_numpy() & ~blank.to_numpy()
    return ParsedColumn(values=numbers, invalid=invalid, problem="not a number")


def _parse_yes_no(values: pd.Series, blank: pd.Series) -> ParsedColumn:
    if pd.api.types.is_bool_dtype(values):
        flags = values.astype("boolean")
    else:
        words = as_text(values).str.lower().astype(object)
        flags = words.map(YES_NO_WORDS).astype("boolean")
    invalid = flags.isna().to_numpy() & ~blank.to_numpy()
    return ParsedColumn(
        values=flags, invalid=invalid, problem="not a yes/no value (true/false, yes/no, 1/0)"
    )


def _typed(
    values: pd.Series, kind: str, spec: ColumnSpec, table_mapping: TableMapping, blank: pd.Series
) -> ParsedColumn:
    if kind == "date":
        return _parse_date(values, spec.format, blank)
    if kind == "float":
        return _parse_number(values, table_mapping, blank)
    if kind == "bool":
        return _parse_yes_no(values, blank)
    text = as_text(values)
    return ParsedColumn(values=text, invalid=np.zeros(len(text), dtype=bool), problem="")


def parse_column(
    source: pd.Series, kind: str, spec: ColumnSpec, table_mapping: TableMapping
) -> ParsedColumn:
    """Read one ledger column from its source column following ``spec`` (vectorised)."""
    text = as_text(source)
    blank = text.isna()
    if spec.values is None:
        return _typed(source, kind, spec, table_mapping, blank)
    known = text.isin(list(spec.values)).to_numpy()
    mapped = text.astype(object).map(spec.values)
    mapped_blank = pd.Series(mapped.isna().to_numpy(), index=source.index)
    if kind == "bool":
        parsed = ParsedColumn(mapped.astype("boolean"), np.zeros(len(mapped), dtype=bool), "")
    else:
        plain = spec.model_copy(update={"values": None})
        parsed = _typed(mapped, kind, plain, table_mapping, mapped_blank)
    unmapped = ~known & ~blank.to_numpy()
    listed = ", ".join(spec.values)
    problem = pd.Series(
        "not one of the mapped values (" + listed + ")", index=source.index, dtype=object
    )
    if isinstance(parsed.problem, pd.Series):
        problem = problem.where(unmapped, parsed.problem)
    elif parsed.problem:
        problem[~unmapped] = parsed.problem
    return ParsedColumn(
        values=parsed.values.where(~unmapped) if kind != "bool" else parsed.values,
        invalid=unmapped | parsed.invalid,
        problem=problem,
    )


def constant_column(value: Any, kind: str, n_rows: int, index: pd.Index) -> pd.Series:
    if kind == "date":
        stamp = pd.NaT if value is None else pd.Timestamp(str(value)).normalize()
        return pd.Series([stamp] * n_rows, index=index, dtype=DATE_DTYPE)
    if kind == "float":
        return pd.Series(np.nan if value is None else float(value), index=index, dtype="float64")
    if kind == "bool":
        return pd.Series([value] * n_rows, index=index, dtype="boolean")
    return pd.Series([value] * n_rows, index=index, dtype=ID_DTYPE)
