"""Applying one column spec to a source column, vectorised: typed values, and which rows
cannot be read (with the reason, in words)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from creditrisk.ledger.frame import DATE_DTYPE, ID_DTYPE
from creditrisk.ledger.mapping.spec import ColumnSpec, TableMapping

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
            "epoch_us": ("us", "unix"),
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
    "epoch_us": "microseconds since 1970",
    "epoch_days": "days since 1970",
    "excel_days": "spreadsheet day number",
}


_NUMERIC_DATE_FORMATS = (
    "yyyymmdd_number", "epoch_s", "epoch_ms", "epoch_us", "epoch_days", "excel_days"
)


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
        ambiguous = _ambiguous_separator(text, table_mapping)
        if table_mapping.thousands is not None:
            text = text.str.replace(table_mapping.thousands, "", regex=False)
        if table_mapping.decimal != ".":
            text = text.str.replace(table_mapping.decimal, ".", regex=False)
        numbers = pd.to_numeric(text, errors="coerce").astype("float64")
        if ambiguous is not None:
            mask, words = ambiguous
            numbers = numbers.mask(mask).where(np.isfinite(numbers))
            problem = pd.Series("not a number", index=values.index, dtype=object)
            problem[mask.to_numpy()] = words
            invalid = numbers.isna().to_numpy() & ~blank.to_numpy()
            return ParsedColumn(values=numbers, invalid=invalid, problem=problem)
    numbers = numbers.where(np.isfinite(numbers))
    invalid = numbers.isna().to_numpy() & ~blank.to_numpy()
    return ParsedColumn(values=numbers, invalid=invalid, problem="not a number")


def _ambiguous_separator(
    text: pd.Series, table_mapping: TableMapping
) -> tuple[pd.Series, str] | None:
    """Rows holding the other separator when the mapping declares no thousands separator:
    ``1.234`` with ``decimal: ","`` is 1234 in a German export, never 1.234; refuse it."""
    if table_mapping.thousands is not None:
        return None
    other = "," if table_mapping.decimal == "." else "."
    if other == table_mapping.decimal:  # pragma: no cover - decimal is one character
        return None
    mask = text.str.contains(other, regex=False).fillna(False).astype(bool)
    if not mask.any():
        return None
    words = (
        f"ambiguous number: {other!r} is not the declared decimal mark "
        f"{table_mapping.decimal!r} and the mapping declares no thousands separator; set "
        f"thousands: {other!r} (or decimal: {other!r}) on this table"
    )
    return mask, words


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
    """Read one ledger column from its source column following ``spec`` (vectorised).

    With a ``default``, a blank source value (and, with ``values``, one not in the map) takes
    the default instead of being missing or rejected.
    """
    parsed = _parse_source(source, kind, spec, table_mapping)
    if not spec.has_default or spec.default is None:
        return parsed
    text = as_text(source)
    use_default = text.isna().to_numpy().copy()
    if spec.values is not None:
        use_default |= ~text.isin(list(spec.values)).to_numpy()
    fill = constant_column(spec.default, kind, len(source), source.index)
    values = parsed.values.where(~use_default, fill)
    invalid = parsed.invalid & ~use_default
    return ParsedColumn(values=values, invalid=invalid, problem=parsed.problem)


def _parse_source(
    source: pd.Series, kind: str, spec: ColumnSpec, table_mapping: TableMapping
) -> ParsedColumn:
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
