"""Checks within one table: mapped columns read and typed, ledger rules, duplicate ids.

Every check is vectorised over whole columns. Rules: mapped columns present; dates, numbers
and yes/no values readable; required values present; text fits its database column; amounts
positive (invoices may be negative credit notes when the mapping allows it); due and
settlement dates not before the issue date; event types known; ids unique within a file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import numpy as np
import pandas as pd

from creditrisk.ledger.frame import CREDIT_EVENT_TYPES, ID_DTYPE, TABLE_COLUMNS, TABLE_KEYS
from creditrisk.ledger.mapping import TableMapping, constant_column, parse_column
from creditrisk.ledger.schema import LEDGER_TABLES
from creditrisk.ledger.validation.report import ProblemLog, SourceFrame


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


def log_rule(
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


def check_rules(
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
            log_rule(log, src, origin, "amount", amount == 0, "amount is zero", frame)
        elif table == "invoices":
            log_rule(
                log,
                src,
                origin,
                "amount",
                amount <= 0,
                "must be positive (for credit notes set allow_negative_amounts: true on invoices)",
                frame,
            )
        elif table == "payments":
            log_rule(log, src, origin, "amount", amount <= 0, "a payment must be positive", frame)
    if table == "customers":
        for column in ("credit_limit", "payment_terms_days", "annual_revenue"):
            if column in frame:
                log_rule(log, src, origin, column, frame[column] < 0, "must not be negative", frame)
    if table == "invoices" and {"issue_date", "due_date"} <= set(frame):
        before = frame["due_date"] < frame["issue_date"]
        words = "due date is before the issue date " + _iso(frame.loc[before, "issue_date"])
        log_rule(log, src, origin, "due_date", before, words, frame)
    if table == "invoices" and {"issue_date", "settled_date"} <= set(frame):
        before = frame["settled_date"] < frame["issue_date"]
        words = "settled before the issue date " + _iso(frame.loc[before, "issue_date"])
        log_rule(log, src, origin, "settled_date", before, words, frame)
    if table == "credit_events" and "event_type" in frame:
        event_type = frame["event_type"].str.strip().str.lower()
        frame["event_type"] = event_type
        unknown = event_type.notna() & ~event_type.isin(CREDIT_EVENT_TYPES)
        words = "unknown event type (expected one of " + ", ".join(CREDIT_EVENT_TYPES) + ")"
        log_rule(log, src, origin, "event_type", unknown, words, frame)


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


def check_duplicates(
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
    log_rule(log, src, origin, key, duplicate, words, frame)

