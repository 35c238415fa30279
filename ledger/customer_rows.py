"""One customer's ledger rows as plain columns: the online read, without DataFrames.

A request about one customer touches a handful of rows. Turning them into five normalised
DataFrames (:func:`~creditrisk.ledger.frame.normalize_ledger`) costs tens of milliseconds of
pandas overhead; here each table is one indexed ``SELECT ... WHERE customer_id IN (:id)``
(the statement :func:`~creditrisk.ledger.database.read_ledger` runs, so rows come in the
same order) and the values stay Python lists and numpy arrays. Dates are day numbers
(``datetime.date.toordinal``); a missing date is ``None`` in the lists.

The rules of ``normalize_ledger`` that matter for one customer are applied here the same
way (checked equal by ``tests/features/test_one_customer.py``): a customer seen only in
invoices is onboarded on its first invoice date; an invoice without ``settled_date`` gets
the date on which its allocated payments first reach its amount (1 cent tolerance), never
before its issue date; a due date before the issue date and an unknown credit event type
are contract errors. :meth:`CustomerRows.tables` gives the raw tables back, so the general
path (``normalize_ledger``) can be built from the very same rows when a caller needs it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from creditrisk.ledger.errors import LedgerContractError
from creditrisk.ledger.frame import CREDIT_EVENT_TYPES, TABLE_COLUMNS, Ledger, normalize_ledger
from creditrisk.ledger.schema import LEDGER_TABLES

SETTLED_TOLERANCE = 0.01
"""Paid within a cent of the amount settles an invoice (the rule of ``normalize_ledger``)."""

Row = dict[str, Any]


def compensated_add(total: float, compensation: float, value: float) -> tuple[float, float]:
    """One step of the compensated (Kahan) sum pandas' grouped ``sum``/``cumsum`` use, so a
    running total here equals theirs to the last bit: ``(total, compensation)`` after
    adding ``value``."""
    y = value - compensation
    t = total + y
    return t, (t - total) - y


def _date(value: Any, table: str, column: str) -> dt.date | None:
    if value is None:
        return None
    if type(value) is dt.date:
        return value
    if isinstance(value, dt.datetime):  # a driver handing back a timestamp: its day
        return value.date()
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError as exc:
        raise LedgerContractError(f"{table}.{column}: cannot read as date: {exc}") from exc


def _float(value: Any) -> float:
    return float("nan") if value is None else float(value)


@dataclass(frozen=True)
class CustomerRows:
    """The customer's rows of the five ledger tables (contract columns, ledger order), with
    the one-customer normalisation applied (dates as ``datetime.date``, amounts as float,
    derived ``settled_date`` and onboarding filled in)."""

    customer_id: str
    customer: Row | None
    """The customer's row; None when the ledger holds neither it nor any of its invoices."""
    invoices: list[Row]
    payments: list[Row]
    credit_events: list[Row]
    customer_attributes: list[Row]
    raw: dict[str, list[Row]]
    """The rows as read (before the normalisation), for :meth:`ledger`."""

    def ledger(self) -> Ledger:
        """The same rows through :func:`normalize_ledger` (the general path's frames)."""
        return normalize_ledger(
            {
                table: pd.DataFrame(rows, columns=list(TABLE_COLUMNS[table]))
                if rows else None
                for table, rows in self.raw.items()
            }
        )


def read_customer_rows(engine: Engine, customer_id: str) -> CustomerRows:
    """Read one customer's rows with the ``customer_id`` indexes and normalise them.

    One ``SELECT <contract columns> FROM <table> WHERE customer_id IN (<id>)`` per table in
    the driver's own SQL (``read_ledger``'s predicate, so the same plan and row order;
    without SQLAlchemy's per-row type processing). The id is bound, never formatted into
    the SQL (table and column names are the schema's constants). Raises
    :class:`LedgerContractError` as ``normalize_ledger`` would for the same rows.
    """
    mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
    raw: dict[str, list[Row]] = {}
    # exec_driver_sql: the driver's own SQL and rows, with SQLAlchemy's connection handling
    # and error wrapping (an outage is the same OperationalError as on every other path)
    with engine.connect() as conn:
        for table, columns in _COLUMNS.items():
            result = conn.exec_driver_sql(
                f"SELECT {', '.join(columns)} FROM {table} "  # noqa: S608 - schema names
                f"WHERE customer_id IN ({mark})",
                (customer_id,),
            )
            raw[table] = [dict(zip(columns, row, strict=True)) for row in result.fetchall()]
    return customer_rows(customer_id, raw)


_COLUMNS: dict[str, list[str]] = {
    table: [c for c in TABLE_COLUMNS[table] if c in LEDGER_TABLES[table].c]
    for table in LEDGER_TABLES
}
"""Per ledger table, the contract's columns the SQL table has (contract order)."""


def customer_rows(customer_id: str, raw: dict[str, list[Row]]) -> CustomerRows:
    """Normalise one customer's raw rows (the rules of :func:`normalize_ledger`)."""
    invoices = [_invoice(row) for row in raw.get("invoices", [])]
    payments = [_payment(row) for row in raw.get("payments", [])]
    events = [_event(row) for row in raw.get("credit_events", [])]
    attributes = [
        {**row, "valid_from": _date(row.get("valid_from"), "customer_attributes", "valid_from")}
        for row in raw.get("customer_attributes", [])
    ]
    for table, key, rows in (("invoices", "invoice_id", invoices),
                             ("payments", "payment_id", payments),
                             ("credit_events", "event_id", events)):
        _check_ids(table, key, rows)
    for inv in invoices:
        if inv["due_date"] is not None and inv["issue_date"] is not None and (
            inv["due_date"] < inv["issue_date"]
        ):
            raise LedgerContractError(
                f"invoices.due_date: before issue_date for invoice {inv['invoice_id']!r}"
            )
    _derive_settled_dates(invoices, payments)
    for event in events:
        if event["event_type"] not in CREDIT_EVENT_TYPES:
            raise LedgerContractError(
                f"credit_events.event_type: unknown value {event['event_type']!r}"
                f" (expected one of {', '.join(CREDIT_EVENT_TYPES)})"
            )
    return CustomerRows(
        customer_id=customer_id,
        customer=_customer(customer_id, raw.get("customers", []), invoices),
        invoices=invoices,
        payments=payments,
        credit_events=events,
        customer_attributes=attributes,
        raw={table: list(raw.get(table, [])) for table in TABLE_COLUMNS},
    )


def _check_ids(table: str, key: str, rows: list[Row]) -> None:
    seen: set[str] = set()
    for position, row in enumerate(rows):
        value = row[key]
        if value is None:
            raise LedgerContractError(f"{table}.{key}: missing id at row {position}")
        if value in seen:
            raise LedgerContractError(f"{table}.{key}: duplicate id {value!r}")
        seen.add(value)


def _invoice(row: Row) -> Row:
    out = dict(row)
    for column in ("issue_date", "due_date", "settled_date"):
        out[column] = _date(row.get(column), "invoices", column)
    out["amount"] = _float(row.get("amount"))
    out["disputed"] = bool(row.get("disputed") or False)
    return out


def _payment(row: Row) -> Row:
    return {**row, "paid_on": _date(row.get("paid_on"), "payments", "paid_on"),
            "amount": _float(row.get("amount"))}


def _event(row: Row) -> Row:
    return {**row, "event_date": _date(row.get("event_date"), "credit_events", "event_date")}


def _customer(customer_id: str, rows: list[Row], invoices: list[Row]) -> Row | None:
    """The customer's row, onboarded on its first invoice date when the date is missing;
    a customer known only from its invoices gets a row of its own (``normalize_ledger``)."""
    issued = [inv["issue_date"] for inv in invoices if inv["issue_date"] is not None]
    first_issue = min(issued) if issued else None
    if not rows:
        if not invoices:
            return None
        row: Row = dict.fromkeys(TABLE_COLUMNS["customers"])
        row.update(customer_id=customer_id, onboarded_on=first_issue)
        return row
    row = dict(rows[0])
    for column, kind in TABLE_COLUMNS["customers"].items():
        value = row.get(column)
        if kind == "date":
            row[column] = _date(value, "customers", column)
        elif kind == "float":
            row[column] = _float(value)
    if row["onboarded_on"] is None:
        row["onboarded_on"] = first_issue
    return row


def _derive_settled_dates(invoices: list[Row], payments: list[Row]) -> None:
    """Fill a missing ``settled_date`` with the first day the payments allocated to the
    invoice (in date order, ledger order within a day) reach its amount, not before its
    issue date."""
    need = {inv["invoice_id"]: inv for inv in invoices if inv["settled_date"] is None}
    if not need:
        return
    allocated: dict[str, list[tuple[dt.date, float]]] = {}
    for pay in payments:
        if pay.get("invoice_id") in need and pay["paid_on"] is not None:
            allocated.setdefault(pay["invoice_id"], []).append((pay["paid_on"], pay["amount"]))
    for invoice_id, paid in allocated.items():
        inv = need[invoice_id]
        owed = inv["amount"] - SETTLED_TOLERANCE
        total = compensation = 0.0
        for day, amount in sorted(paid, key=lambda item: item[0]):  # stable: ledger order
            if amount != amount:  # a missing amount adds nothing and settles nothing
                continue
            total, compensation = compensated_add(total, compensation, amount)
            if total >= owed:
                inv["settled_date"] = max(day, inv["issue_date"])
                break
