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

from creditrisk.ledger.dimensions import (
    MAX_DIMENSION_VALUE_LENGTH,
    canonical_dimensions,
    encode_dimensions,
)
from creditrisk.ledger.frame import CREDIT_EVENT_TYPES, ID_DTYPE, TABLE_COLUMNS, TABLE_KEYS
from creditrisk.ledger.mapping import (
    ColumnSpec,
    TableMapping,
    as_text,
    constant_column,
    parse_column,
)
from creditrisk.ledger.quality import table_rules
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
    missing = sorted(table_mapping.source_columns() - set(src.raw.columns))
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
        if spec.is_generated:
            if any(name not in src.raw.columns for name in spec.source_columns()):
                continue
            values = generated_ids(spec, src)
            origin[column] = column  # the report shows the generated id itself
            if spec.key:
                empty = values.isna().to_numpy()
                log.add_rows(
                    src.table, empty, spec.key[0],
                    f"a key column is empty ({', '.join(spec.key)} -> {column})",
                    values=generated_key_text(spec.key, src),
                )
        else:
            assert spec.column is not None
            if spec.column not in src.raw.columns:
                continue
            origin[column] = spec.column
            parsed = parse_column(src.raw[spec.column], kind, spec, table_mapping)
            log.add_rows(src.table, parsed.invalid, spec.column, parsed.problem, about=column)
            values = parsed.values
            if column == "amount" and table_mapping.sign_rule() is not None:
                values = _signed(values, table_mapping, src, log)
        if column == "dimensions" and spec.column is not None:  # JSON as stored (canonical)
            values, problems = canonical_dimensions(values)
            log.add_rows(src.table, problems.notna().to_numpy(), spec.column, problems,
                         about=column)
        if table_mapping.is_required(table, column) and spec.column is not None:
            empty = values.isna().to_numpy() & ~parsed.invalid
            log.add_rows(src.table, empty, spec.column, f"missing value ({column})")
        length = _max_length(table, column)
        if length is not None and kind in ("id", "str") and column != "event_type":
            too_long = (values.str.len() > length).fillna(False).to_numpy()
            log.add_rows(
                src.table, too_long, origin[column], f"longer than {length} characters ({column})",
                values=values if spec.is_generated else None,
            )
            values = values.where(~too_long)
        out[column] = values
    if table_mapping.dimensions:
        out["dimensions"] = _dimensions(table_mapping, src, log)
    return pd.DataFrame(out, index=index), origin


def _dimensions(table_mapping: TableMapping, src: SourceFrame, log: ProblemLog) -> pd.Series:
    """The mapping's extra dimensions of each row as JSON (ledger/dimensions.py)."""
    index = src.raw.index
    values: dict[str, pd.Series] = {}
    for name, spec in table_mapping.dimensions.items():
        about = f"dimension {name}"
        if spec.is_constant:
            values[name] = constant_column(spec.constant, "str", len(index), index)
            continue
        assert spec.column is not None
        if spec.column not in src.raw.columns:
            continue
        parsed = parse_column(src.raw[spec.column], "str", spec, table_mapping)
        log.add_rows(src.table, parsed.invalid, spec.column, parsed.problem, about=about)
        text = parsed.values.astype("string")
        if spec.required:
            log.add_rows(src.table, text.isna().to_numpy() & ~parsed.invalid, spec.column,
                         f"missing value ({about})")
        too_long = (text.str.len() > MAX_DIMENSION_VALUE_LENGTH).fillna(False).to_numpy()
        log.add_rows(src.table, too_long, spec.column,
                     f"longer than {MAX_DIMENSION_VALUE_LENGTH} characters ({about})")
        values[name] = text.where(~too_long)
    return encode_dimensions(values, index)


def generated_key_text(key: tuple[str, ...], src: SourceFrame) -> pd.Series:
    """The key columns' values joined by ``|`` (missing when any part is empty)."""
    parts = [as_text(src.raw[name]) for name in key]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + "|" + part
    return joined.astype(ID_DTYPE)


def generated_ids(spec: ColumnSpec, src: SourceFrame) -> pd.Series:
    """Ids the mapping generates: ``prefix`` + the row's number in its file (CSV line number,
    Parquet record) or + its key columns joined by ``|``; both the same on every re-import of
    the same file (row numbers only while the file's rows keep their order)."""
    if spec.row_number:
        numbers = pd.Series(src.row_numbers, index=src.raw.index).astype("string")
        return (spec.prefix + numbers).astype(ID_DTYPE)
    assert spec.key is not None
    return (spec.prefix + generated_key_text(spec.key, src)).astype(ID_DTYPE)


def _signed(
    amount: pd.Series, table_mapping: TableMapping, src: SourceFrame, log: ProblemLog
) -> pd.Series:
    """``sign x |amount|`` with the sign mapped from a source column (posting type): by
    ``amount_sign``, or by ``route`` (its unrouted rows were left out when read)."""
    rule = table_mapping.sign_rule()
    assert rule is not None
    column, signs = rule
    if column not in src.raw.columns:
        return amount
    sign = as_text(src.raw[column]).astype(object).map(signs).astype("float64")
    unknown = sign.isna().to_numpy()
    log.add_rows(
        src.table, unknown, column,
        "no sign for this value in amount_sign.values (" + ", ".join(signs) + ")",
        about="amount",
    )
    return amount.abs() * sign


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
    """Ledger rules within one table: signs of amounts, date order, event types, limits.

    Invoices follow the mapping's data-quality rules (``quality``): a row breaking one is
    rejected (default), repaired, or kept with a flag in ``quality_flags``; each rule's rows
    are counted in the report.
    """
    if table == "invoices":
        _check_invoice_rules(table_mapping, frame, src, origin, log)
    if "amount" in frame and table == "payments":
        log_rule(log, src, origin, "amount", frame["amount"] <= 0, "a payment must be positive",
                 frame)
    if table == "customers":
        for column in ("credit_limit", "payment_terms_days", "annual_revenue"):
            if column in frame:
                log_rule(log, src, origin, column, frame[column] < 0, "must not be negative", frame)
    if table == "credit_events" and "event_type" in frame:
        event_type = frame["event_type"].str.strip().str.lower()
        frame["event_type"] = event_type
        unknown = event_type.notna() & ~event_type.isin(CREDIT_EVENT_TYPES)
        words = "unknown event type (expected one of " + ", ".join(CREDIT_EVENT_TYPES) + ")"
        log_rule(log, src, origin, "event_type", unknown, words, frame)


def _add_flag(flags: pd.Series, mask: pd.Series, flag: str) -> pd.Series:
    mask = mask.fillna(False).astype(bool)
    joined = flags.where(flags.isna(), flags + "," + flag).fillna(flag)
    return flags.where(~mask, joined).astype(ID_DTYPE)


ACTION_DONE = {"reject": "rejected", "repair": "repaired", "flag": "flagged"}


def _check_invoice_rules(
    table_mapping: TableMapping,
    frame: pd.DataFrame,
    src: SourceFrame,
    origin: Mapping[str, str],
    log: ProblemLog,
) -> None:
    """The invoices' data-quality rules (:data:`creditrisk.ledger.quality.QUALITY_RULES`),
    each as the mapping chooses (reject, repair, flag), and the sign of amounts; sets
    ``frame["quality_flags"]`` (missing when no rule acted on the row)."""
    flags = pd.Series(pd.NA, index=frame.index, dtype=ID_DTYPE)
    negatives = table_mapping.allow_negative_amounts or table_mapping.sign_rule() is not None
    for rule in table_rules("invoices").values():
        if not set(rule.needs) <= set(frame):
            continue
        broken = rule.breaks(frame)
        action = table_mapping.action(rule.name)
        log.count_rule(src.table, f"{rule.name}_{ACTION_DONE[action]}", int(broken.sum()))
        if action != "reject":
            if rule.repair is not None:
                rule.repair(frame, broken)
            flags = _add_flag(flags, broken, rule.flag)
        elif rule.name != "zero_amount" or negatives:  # else: below, with negative amounts
            words: str | pd.Series = rule.problem
            if "{issue}" in rule.problem:  # the row's issue date
                head, tail = rule.problem.split("{issue}")
                words = head + _iso(frame.loc[broken, "issue_date"]) + tail
            log_rule(log, src, origin, rule.column, broken, words, frame)
    if "amount" in frame and not negatives:
        amount = frame["amount"]
        bad = amount < 0
        if table_mapping.action("zero_amount") == "reject":
            bad |= amount == 0
        log_rule(
            log, src, origin, "amount", bad.fillna(False),
            "must be positive (for credit notes set allow_negative_amounts: true, "
            "amount_sign or route on invoices; quality.zero_amount: flag keeps zero amounts)",
            frame,
        )
    frame["quality_flags"] = flags


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
    return _hashed_ids("ev_", key)


def derive_attribute_ids(attributes: pd.DataFrame) -> pd.Series:
    """A deterministic id per customer attribute value from customer, attribute and
    valid-from date: re-importing the history updates values, never duplicates them."""
    key = (
        attributes["customer_id"].astype("string")
        + "|"
        + attributes["attribute"].astype("string")
        + "|"
        + attributes["valid_from"].dt.strftime("%Y-%m-%d").astype("string")
    )
    return _hashed_ids("at_", key)


def _hashed_ids(prefix: str, key: pd.Series) -> pd.Series:
    hashed = [
        None if pd.isna(text) else prefix + hashlib.sha256(text.encode()).hexdigest()[:24]
        for text in key.to_numpy(dtype=object, na_value=None)
    ]
    return pd.Series(hashed, index=key.index, dtype=ID_DTYPE)


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
    elif table == "customer_attributes":
        words = "same customer, attribute and valid-from date as " + where
    else:
        words = "same customer, date, type and invoice as " + where
    log_rule(log, src, origin, key, duplicate, words, frame)

