"""Validating an import: from source rows to ledger rows, with a row-level problem report.

Every check is vectorised over whole columns. A problem names the file, the row as the user
sees it (CSV: the line number, the header being line 1; Parquet: the 1-based record number),
the source column, the original value and what is wrong, in words a credit analyst
understands. A source row with any problem is *rejected*; what happens to rejected rows
(nothing written, or skipped into a reject file) is the importer's decision.

Checks: mapped columns present; dates, numbers and yes/no values readable; amounts positive
(invoices may be negative credit notes when the mapping allows it); due and settlement dates
not before the issue date; ids unique within a file; payments and credit events refer to a
customer and invoice that exist (in this import or already in the ledger) and agree with
each other; event types known; text fits its database column.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from rich.table import Table
from rich.text import Text

from creditrisk.ledger.frame import (
    CREDIT_EVENT_TYPES,
    ID_DTYPE,
    TABLE_COLUMNS,
    TABLE_KEYS,
)
from creditrisk.ledger.mapping import (
    LedgerMapping,
    SourceFormat,
    TableMapping,
    constant_column,
    parse_column,
)
from creditrisk.ledger.schema import LEDGER_TABLES

RowKind = Literal["line", "row"]

REPORT_COLUMNS = ["file", "row_kind", "row", "column", "value", "problem"]
_INTERNAL_COLUMNS = ["_source", "_pos"]


@dataclass(frozen=True)
class SourceFrame:
    """One source file as read: its original columns and values and their row numbers.

    ``raw`` keeps the values exactly as read (CSV cells are text) so that rejected rows can
    be written back unchanged; ``row_numbers`` are what the user sees (CSV line numbers with
    the header on line 1, or 1-based Parquet records).
    """

    table: str
    path: Path
    format: SourceFormat
    raw: pd.DataFrame
    row_numbers: np.ndarray
    delimiter: str = ","
    encoding: str = "utf-8"

    @property
    def row_kind(self) -> RowKind:
        return "line" if self.format == "csv" else "row"

    @property
    def n_rows(self) -> int:
        return len(self.raw)


@dataclass(frozen=True)
class ImportReport:
    """All problems found in an import, one row each, in file and row order.

    Columns: ``file``, ``row_kind`` (``line`` for CSV, ``row`` for Parquet), ``row`` (empty
    for problems with the whole file), ``column``, ``value``, ``problem``.
    """

    problems: pd.DataFrame
    rejected_rows: Mapping[str, int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.problems)

    @property
    def ok(self) -> bool:
        return self.problems.empty

    @property
    def has_file_problems(self) -> bool:
        """A whole file is unusable (missing, empty, wrong delimiter/encoding, missing column)."""
        return bool(self.problems["row"].isna().any())

    @property
    def n_rejected_rows(self) -> int:
        return int(sum(self.rejected_rows.values()))

    def head(self, n: int = 20) -> pd.DataFrame:
        """The first ``n`` problems, user columns only."""
        return self.problems[REPORT_COLUMNS].head(n).reset_index(drop=True)

    def summary(self) -> str:
        """One sentence: how many problems in how many rows and files."""
        files = self.problems["file"].nunique()
        rows = self.n_rejected_rows
        text = f"{self.count} problem{'s' * (self.count != 1)}"
        if rows:
            text += f" in {rows} row{'s' * (rows != 1)}"
        return text + f" of {files} file{'s' * (files != 1)}"


class StoredKeys(Protocol):
    """What the ledger database already holds, for reference checks."""

    def existing(self, table: str, ids: pd.Series) -> pd.Index:
        """The subset of ``ids`` already stored in ``table``."""
        ...

    def invoice_customers(self, invoice_ids: pd.Series) -> pd.Series:
        """customer_id per stored invoice_id (index), for the given invoice ids."""
        ...


class NothingStored:
    """An empty ledger (validation without a database)."""

    def existing(self, table: str, ids: pd.Series) -> pd.Index:
        return pd.Index([], dtype=ID_DTYPE)

    def invoice_customers(self, invoice_ids: pd.Series) -> pd.Series:
        return pd.Series([], index=pd.Index([], dtype=ID_DTYPE), dtype=ID_DTYPE)


@dataclass(frozen=True)
class ValidatedTable:
    """The accepted rows of one ledger table (typed ledger columns) and what the mapping gave.

    ``provided`` are the ledger columns this import sets; other columns keep what is stored.
    ``source_rows`` holds each accepted row's position in its source file.
    """

    table: str
    frame: pd.DataFrame
    provided: tuple[str, ...]
    source_rows: np.ndarray


@dataclass(frozen=True)
class ValidatedImport:
    """The outcome of validation: accepted rows per table and the problem report."""

    tables: dict[str, ValidatedTable]
    report: ImportReport
    rejected: dict[str, np.ndarray]
    """Per source table, the positions of rejected rows in the source file."""


class ProblemLog:
    """Collects problems as small frames (one per check) and knows which rows are bad."""

    def __init__(self, sources: Mapping[str, SourceFrame]) -> None:
        self._sources = sources
        self._frames: list[pd.DataFrame] = []
        self.unusable: set[str] = set()
        """Sources with a problem in the whole file (unreadable, missing columns)."""
        self._bad: dict[str, np.ndarray] = {
            name: np.zeros(src.n_rows, dtype=bool) for name, src in sources.items()
        }

    def add_rows(
        self,
        source: str,
        mask: np.ndarray | pd.Series,
        column: str,
        problem: str | pd.Series,
        *,
        about: str | None = None,
        values: pd.Series | None = None,
    ) -> None:
        """Record ``problem`` for every row where ``mask`` holds.

        ``problem`` is one text or a Series of texts indexed by row position (it may hold
        only the masked rows); ``about`` names the ledger column, appended in parentheses;
        ``values`` default to the source column. Texts are built for the masked rows only.
        """
        mask_array = np.asarray(pd.Series(mask).fillna(False), dtype=bool)
        if not mask_array.any():
            return
        src = self._sources[source]
        positions = np.flatnonzero(mask_array)
        if values is None:
            values = (
                src.raw[column] if column in src.raw.columns else pd.Series("", index=src.raw.index)
            )
        shown = _display_text(values.iloc[positions]).to_numpy()
        if isinstance(problem, pd.Series):
            messages = problem.reindex(src.raw.index[positions]).astype(str).to_numpy(dtype=object)
        else:
            messages = np.full(len(positions), problem, dtype=object)
        if about is not None:
            messages = messages + f" ({about})"
        self._frames.append(
            pd.DataFrame(
                {
                    "file": src.path.name,
                    "row_kind": src.row_kind,
                    "row": pd.array(src.row_numbers[positions], dtype="Int64"),
                    "column": column,
                    "value": shown,
                    "problem": messages,
                    "_source": source,
                    "_pos": positions,
                }
            )
        )
        self._bad[source][positions] = True

    def add_file(
        self, source: str, path: Path, problem: str, *, column: str = "", value: str = ""
    ) -> None:
        """Record a problem with a whole file (no row); its rows cannot be checked."""
        self.unusable.add(source)
        self._frames.append(
            pd.DataFrame(
                {
                    "file": [path.name],
                    "row_kind": ["line"],
                    "row": pd.array([None], dtype="Int64"),
                    "column": [column],
                    "value": [value],
                    "problem": [problem],
                    "_source": [source],
                    "_pos": [-1],
                }
            )
        )

    def bad(self, source: str) -> np.ndarray:
        return self._bad[source]

    def report(self) -> ImportReport:
        if self._frames:
            problems = pd.concat(self._frames, ignore_index=True)
        else:
            problems = pd.DataFrame({c: [] for c in REPORT_COLUMNS + _INTERNAL_COLUMNS})
            problems["row"] = problems["row"].astype("Int64")
        order = {name: i for i, name in enumerate(TABLE_COLUMNS)}
        problems = problems.assign(_order=problems["_source"].map(order).astype("float64"))
        problems = problems.sort_values(
            ["_order", "row", "_pos"], kind="stable", na_position="first"
        )
        # a customer column read from the invoice file may repeat an invoice problem
        problems = problems.drop_duplicates(["_source", "_pos", "column", "problem"])
        rejected = {name: int(mask.sum()) for name, mask in self._bad.items() if mask.any()}
        return ImportReport(
            problems=problems.drop(columns="_order").reset_index(drop=True), rejected_rows=rejected
        )


def is_in(values: pd.Series, keys: pd.Series | pd.Index | Iterable[str]) -> np.ndarray:
    """Whether each id in ``values`` is among ``keys`` (missing ids never are).

    Arrow's hash lookup: ``Series.isin`` on string columns builds one scalar per key and is
    about 50 times slower on large imports.
    """
    left = pa.array(pd.array(values, dtype=ID_DTYPE)).cast(pa.large_string())
    key_values = keys if isinstance(keys, pd.Series | pd.Index) else list(keys)
    right = pa.array(pd.array(key_values, dtype=ID_DTYPE)).cast(pa.large_string()).drop_null()
    found = pc.is_in(left, value_set=right)
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)


def lookup(keys: pd.Series, table: pd.Series) -> pd.Series:
    """``table[key]`` for every key, missing where absent (``table`` has a unique index).

    Unlike ``Series.map`` it keeps the table's dtype even when the table is empty.
    """
    found = table.reindex(pd.Index(keys.to_numpy()))
    return pd.Series(found.to_numpy(), index=keys.index, dtype=found.dtype)


def _display_text(values: pd.Series) -> pd.Series:
    """Values as the user sees them in the report (empty for missing)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        text = values.dt.strftime("%Y-%m-%d")
    else:
        text = values.astype("string")
    return text.fillna("").astype(object)


# ---------------------------------------------------------------- one table


def _max_length(table: str, column: str) -> int | None:
    length = getattr(LEDGER_TABLES[table].c[column].type, "length", None)
    return int(length) if length is not None else None


def parse_table(
    table: str, table_mapping: TableMapping, src: SourceFrame, log: ProblemLog
) -> tuple[pd.DataFrame, dict[str, str]]:
    """The mapped ledger columns of ``table`` read from ``src`` (typed), logging problems.

    Returns the frame (one row per source row) and, per ledger column, the source column it
    came from (for the report). Missing source columns are logged as file problems.
    """
    kinds = TABLE_COLUMNS[table]
    index = src.raw.index
    out: dict[str, pd.Series] = {}
    origin: dict[str, str] = {}
    missing = [
        spec.column
        for spec in table_mapping.columns.values()
        if spec.column is not None and spec.column not in src.raw.columns
    ]
    for column in missing:
        log.add_file(
            src.table,
            src.path,
            f"column {column!r} is missing from the file (the mapping needs it for {table})",
            column=str(column),
        )
    for column, spec in table_mapping.columns.items():
        kind = kinds[column]
        if spec.is_constant:
            out[column] = constant_column(spec.constant, kind, len(index), index)
            origin[column] = column
            continue
        assert spec.column is not None
        if spec.column not in src.raw.columns:
            continue
        origin[column] = spec.column
        parsed = parse_column(src.raw[spec.column], kind, spec, table_mapping)
        log.add_rows(src.table, parsed.invalid, spec.column, parsed.problem, about=column)
        values = parsed.values
        if table_mapping.is_required(table, column):
            empty = values.isna().to_numpy() & ~parsed.invalid
            log.add_rows(src.table, empty, spec.column, f"missing value ({column})")
        length = _max_length(table, column)
        if length is not None and kind in ("id", "str") and column != "event_type":
            too_long = (values.str.len() > length).fillna(False).to_numpy()
            log.add_rows(
                src.table, too_long, spec.column, f"longer than {length} characters ({column})"
            )
            values = values.where(~too_long)
        out[column] = values
    return pd.DataFrame(out, index=index), origin


def _rule(
    log: ProblemLog,
    src: SourceFrame,
    origin: Mapping[str, str],
    column: str,
    mask: pd.Series | np.ndarray,
    problem: str | pd.Series,
    frame: pd.DataFrame,
) -> None:
    """Log a ledger-rule problem on ``column`` (shown under its source column)."""
    source_column = origin.get(column, column)
    values = None if source_column in src.raw.columns else frame[column]
    log.add_rows(src.table, mask, source_column, problem, about=column, values=values)


def _iso(dates: pd.Series) -> pd.Series:
    return dates.dt.strftime("%Y-%m-%d").astype(object)


def _check_rules(
    table: str,
    table_mapping: TableMapping,
    frame: pd.DataFrame,
    src: SourceFrame,
    origin: Mapping[str, str],
    log: ProblemLog,
) -> None:
    """Ledger rules within one table: signs of amounts, date order, event types, limits."""
    if "amount" in frame:
        amount = frame["amount"]
        if table == "invoices" and table_mapping.allow_negative_amounts:
            _rule(log, src, origin, "amount", amount == 0, "amount is zero", frame)
        elif table == "invoices":
            _rule(
                log,
                src,
                origin,
                "amount",
                amount <= 0,
                "must be positive (for credit notes set allow_negative_amounts: true on invoices)",
                frame,
            )
        elif table == "payments":
            _rule(log, src, origin, "amount", amount <= 0, "a payment must be positive", frame)
    if table == "customers":
        for column in ("credit_limit", "payment_terms_days", "annual_revenue"):
            if column in frame:
                _rule(log, src, origin, column, frame[column] < 0, "must not be negative", frame)
    if table == "invoices" and {"issue_date", "due_date"} <= set(frame):
        before = frame["due_date"] < frame["issue_date"]
        words = "due date is before the issue date " + _iso(frame.loc[before, "issue_date"])
        _rule(log, src, origin, "due_date", before, words, frame)
    if table == "invoices" and {"issue_date", "settled_date"} <= set(frame):
        before = frame["settled_date"] < frame["issue_date"]
        words = "settled before the issue date " + _iso(frame.loc[before, "issue_date"])
        _rule(log, src, origin, "settled_date", before, words, frame)
    if table == "credit_events" and "event_type" in frame:
        event_type = frame["event_type"].str.strip().str.lower()
        frame["event_type"] = event_type
        unknown = event_type.notna() & ~event_type.isin(CREDIT_EVENT_TYPES)
        words = "unknown event type (expected one of " + ", ".join(CREDIT_EVENT_TYPES) + ")"
        _rule(log, src, origin, "event_type", unknown, words, frame)


def derive_event_ids(events: pd.DataFrame) -> pd.Series:
    """A deterministic id per credit event from customer, date, type and invoice.

    Re-importing the same events gives the same ids, so the import stays idempotent. The
    key text is built vectorised; hashing runs once per event (hashlib has no array form).
    """
    invoice = events["invoice_id"] if "invoice_id" in events else pd.Series("", index=events.index)
    key = (
        events["customer_id"].astype("string")
        + "|"
        + events["event_date"].dt.strftime("%Y-%m-%d").astype("string")
        + "|"
        + events["event_type"].astype("string")
        + "|"
        + invoice.astype("string").fillna("")
    )
    hashed = [
        None if pd.isna(text) else "ev_" + hashlib.sha256(text.encode()).hexdigest()[:24]
        for text in key.to_numpy(dtype=object, na_value=None)
    ]
    return pd.Series(hashed, index=events.index, dtype=ID_DTYPE)


def _check_duplicates(
    table: str, frame: pd.DataFrame, src: SourceFrame, origin: Mapping[str, str], log: ProblemLog
) -> None:
    key = TABLE_KEYS[table]
    if key not in frame:
        return
    ids = frame[key]
    duplicate = ids.duplicated(keep="first") & ids.notna()
    if not duplicate.any():
        return
    rows = pd.Series(src.row_numbers, index=frame.index)
    first = rows.groupby(ids, dropna=True).transform("first")
    where = f"{src.row_kind} " + first.astype("Int64").astype("string")
    if key in origin:
        words = "duplicate id, first on " + where
    else:
        words = "same customer, date, type and invoice as " + where
    _rule(log, src, origin, key, duplicate, words, frame)


# ---------------------------------------------------------------- across tables


@dataclass
class _Accepted:
    """Ids accepted so far in this import, and ids rejected with the first place they were."""

    ids: pd.Index
    rejected_at: pd.Series


def _accepted(frame: pd.DataFrame, key: str, bad: np.ndarray, src: SourceFrame) -> _Accepted:
    ids = frame[key]
    good = ids[~bad].dropna()
    rows = pd.Series(
        f"{src.path.name} {src.row_kind} " + pd.Series(src.row_numbers).astype(str),
        index=frame.index,
    )
    rejected = ids[bad & ids.notna().to_numpy()]
    rejected_at = rows[rejected.index].groupby(rejected.to_numpy()).first()
    rejected_at = rejected_at[~is_in(rejected_at.index.to_series(), good)]
    return _Accepted(ids=pd.Index(good.unique()), rejected_at=rejected_at)


def _reference_problems(
    what: str,
    ids: pd.Series,
    accepted: _Accepted,
    stored: pd.Index,
) -> tuple[pd.Series, pd.Series]:
    """(mask, message) for ids neither accepted in this import nor stored."""
    present = ids.notna()
    known = is_in(ids, accepted.ids) | is_in(ids, stored)
    missing = present & ~known
    rejected_where = lookup(ids, accepted.rejected_at)
    message = pd.Series(
        f"unknown {what}: neither in this import nor in the ledger", index=ids.index, dtype=object
    )
    was_rejected = rejected_where.notna()
    message[was_rejected] = (
        f"{what} is rejected in this import (" + rejected_where[was_rejected].astype(str) + ")"
    )
    return missing, message


def _customer_of_invoice(
    invoice_ids: pd.Series,
    invoices: pd.DataFrame | None,
    bad: np.ndarray | None,
    stored: StoredKeys,
) -> pd.Series:
    owner = pd.Series(dtype=ID_DTYPE)
    if invoices is not None and bad is not None and "customer_id" in invoices:
        good = invoices.loc[~bad, ["invoice_id", "customer_id"]].dropna()
        owner = pd.Series(good["customer_id"].to_numpy(), index=good["invoice_id"].to_numpy())
    others = invoice_ids.dropna()
    others = others[~is_in(others, owner.index)]
    if not others.empty:
        owner = pd.concat([owner, stored.invoice_customers(others.drop_duplicates())])
    owner = owner[~owner.index.duplicated()]
    return lookup(invoice_ids, owner)


def validate_import(
    mapping: LedgerMapping,
    sources: Mapping[str, SourceFrame],
    stored: StoredKeys,
    *,
    file_problems: Iterable[tuple[str, Path, str, str, str]] = (),
) -> ValidatedImport:
    """Check every source row against the mapping and the ledger rules.

    ``sources`` are the files read, keyed by ledger table; ``stored`` tells which ids the
    ledger database already holds; ``file_problems`` are problems met while reading
    (``(table, path, column, value, problem)``). Rows are checked in foreign-key order so
    that a payment of a rejected invoice is rejected too, with the reason.
    """
    log = ProblemLog(sources)
    for table, path, column, value, problem in file_problems:
        log.add_file(table, path, problem, column=column, value=value)

    frames: dict[str, pd.DataFrame] = {}
    origins: dict[str, dict[str, str]] = {}
    for table in TABLE_COLUMNS:
        if table not in mapping.tables:
            continue
        table_mapping = mapping.tables[table]
        source_name = "invoices" if table_mapping.from_ is not None else table
        if source_name not in sources:
            continue
        src = sources[source_name]
        frame, origin = parse_table(table, table_mapping, src, log)
        if (
            table == "credit_events"
            and "event_id" not in table_mapping.columns
            and {"customer_id", "event_date", "event_type"} <= set(frame)
        ):
            frame["event_type"] = frame["event_type"].str.strip().str.lower()
            frame["event_id"] = derive_event_ids(frame)
        _check_rules(table, table_mapping, frame, src, origin, log)
        if table_mapping.from_ is None:
            _check_duplicates(table, frame, src, origin, log)
        frames[table] = frame
        origins[table] = origin

    empty_accepted = _Accepted(pd.Index([], dtype=ID_DTYPE), pd.Series(dtype=object))
    customers_from_file = "customers" in frames and mapping.tables["customers"].from_ is None
    accepted_customers = empty_accepted
    if customers_from_file and "customer_id" in frames["customers"]:
        accepted_customers = _accepted(
            frames["customers"], "customer_id", log.bad("customers"), sources["customers"]
        )

    if "invoices" in frames and "customer_id" in frames["invoices"] and customers_from_file:
        invoices = frames["invoices"]
        ids = invoices["customer_id"]
        of_rejected = is_in(ids, accepted_customers.rejected_at.index) & ~is_in(
            ids, accepted_customers.ids
        )
        of_rejected &= ~is_in(ids, stored.existing("customers", ids[of_rejected]))
        words = (
            "customer is rejected in this import ("
            + lookup(ids, accepted_customers.rejected_at).astype(str)
            + ")"
        )
        _rule(
            log,
            sources["invoices"],
            origins["invoices"],
            "customer_id",
            of_rejected,
            words,
            invoices,
        )

    accepted_invoices = empty_accepted
    if "invoices" in frames and "invoice_id" in frames["invoices"]:
        accepted_invoices = _accepted(
            frames["invoices"], "invoice_id", log.bad("invoices"), sources["invoices"]
        )
        good_invoices = frames["invoices"][~log.bad("invoices")]
        invoice_customers = pd.Index(good_invoices.get("customer_id", pd.Series()).dropna())
        accepted_customers = _Accepted(
            ids=accepted_customers.ids.append(invoice_customers).unique(),
            rejected_at=accepted_customers.rejected_at,
        )

    # references into a file that could not be read are not checked (it is reported already)
    invoices_known = "invoices" not in log.unusable
    customers_known = invoices_known and "customers" not in log.unusable
    for table in ("payments", "credit_events"):
        if table not in frames:
            continue
        _check_references(
            table,
            frames,
            sources[table],
            origins[table],
            log,
            stored,
            accepted_customers if customers_known else None,
            accepted_invoices if invoices_known else None,
        )

    if customers_from_file and invoices_known:
        _check_onboarding(frames, sources["customers"], origins["customers"], log, stored)

    report = log.report()
    tables: dict[str, ValidatedTable] = {}
    for table, frame in frames.items():
        table_mapping = mapping.tables[table]
        source_name = "invoices" if table_mapping.from_ is not None else table
        good = ~log.bad(source_name)
        positions = np.flatnonzero(good)
        accepted = frame.iloc[positions]
        if table_mapping.from_ is not None:  # first accepted invoice row per customer
            first = (
                ~accepted["customer_id"].duplicated(keep="first") & accepted["customer_id"].notna()
            )
            positions = positions[first.to_numpy()]
            accepted = accepted[first]
        provided = tuple(
            c for c in TABLE_COLUMNS[table] if c in table_mapping.columns or c in accepted
        )
        tables[table] = ValidatedTable(
            table=table,
            frame=accepted.reset_index(drop=True),
            provided=provided,
            source_rows=positions,
        )
    rejected = {name: np.flatnonzero(log.bad(name)) for name in sources}
    return ValidatedImport(tables=tables, report=report, rejected=rejected)


def _check_references(
    table: str,
    frames: Mapping[str, pd.DataFrame],
    src: SourceFrame,
    origin: Mapping[str, str],
    log: ProblemLog,
    stored: StoredKeys,
    customers: _Accepted | None,
    invoices: _Accepted | None,
) -> None:
    """Payments and credit events must name a known customer and (if any) a known invoice.

    ``None`` means the ids of that table are unknown (its file is unusable): not checked.
    """
    frame = frames[table]
    if "customer_id" in frame and customers is not None:
        ids = frame["customer_id"]
        unknown = ids.notna() & ~is_in(ids, customers.ids)
        stored_customers = stored.existing("customers", ids[unknown].drop_duplicates())
        mask, words = _reference_problems("customer", ids, customers, stored_customers)
        _rule(log, src, origin, "customer_id", mask, words, frame)
    if "invoice_id" in frame and invoices is not None:
        ids = frame["invoice_id"]
        unknown = ids.notna() & ~is_in(ids, invoices.ids)
        stored_invoices = stored.existing("invoices", ids[unknown].drop_duplicates())
        mask, words = _reference_problems("invoice", ids, invoices, stored_invoices)
        _rule(log, src, origin, "invoice_id", mask, words, frame)
        if "customer_id" in frame:
            owner = _customer_of_invoice(
                ids.where(~mask),
                frames.get("invoices"),
                log.bad("invoices") if "invoices" in frames else None,
                stored,
            )
            other = owner.notna() & frame["customer_id"].notna() & (owner != frame["customer_id"])
            words = (
                "invoice belongs to customer "
                + owner.astype("string").fillna("")
                + (", not to this row's customer")
            )
            _rule(log, src, origin, "invoice_id", other, words, frame)


def _check_onboarding(
    frames: Mapping[str, pd.DataFrame],
    src: SourceFrame,
    origin: Mapping[str, str],
    log: ProblemLog,
    stored: StoredKeys,
) -> None:
    """A customer needs an onboarding date: given, or its first invoice, or already stored."""
    customers = frames["customers"]
    if "customer_id" not in customers:
        return
    onboarded = customers.get("onboarded_on", pd.Series(pd.NaT, index=customers.index))
    ids = customers["customer_id"]
    need = onboarded.isna() & ids.notna()
    if not need.any():
        return
    with_invoices = pd.Index([], dtype=ID_DTYPE)
    if "invoices" in frames and "customer_id" in frames["invoices"]:
        good = frames["invoices"][~log.bad("invoices")]
        with_invoices = pd.Index(good["customer_id"].dropna().unique())
    need &= ~is_in(ids, with_invoices)
    need &= ~is_in(ids, stored.existing("customers", ids[need]))
    words = "no onboarding date and no invoice to take it from"
    column = "onboarded_on" if "onboarded_on" in origin else "customer_id"
    _rule(log, src, origin, column, need, words, customers)


# ---------------------------------------------------------------- presentation


def report_table(report: ImportReport, *, limit: int = 20) -> Table:
    """The first ``limit`` problems as a rich table, titled with the totals."""
    shown = report.head(limit)
    more = report.count - len(shown)
    title = report.summary()
    caption = f"... and {more} more problem{'s' * (more != 1)}" if more > 0 else None
    table = Table(title=title, caption=caption, show_lines=False, header_style="bold")
    table.add_column("file", overflow="fold")
    table.add_column("row", justify="right", no_wrap=True)
    table.add_column("column", overflow="fold")
    table.add_column("value", overflow="fold")
    table.add_column("problem", overflow="fold")
    rows = shown["row_kind"] + " " + shown["row"].astype("string").fillna("")
    rows = rows.where(shown["row"].notna(), "whole file")
    for file, row, column, value, problem in zip(
        shown["file"], rows, shown["column"], shown["value"], shown["problem"], strict=True
    ):
        table.add_row(*(Text(str(cell)) for cell in (file, row, column, value, problem)))
    return table
