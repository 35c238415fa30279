"""One customer's features from its own rows: the online path, without the whole-book one.

:func:`features.customer.build_features` and :func:`features.invoice.build_invoice_features`
serve any number of customers: they convert DataFrames (``prepare_ledger``), partition and
assemble frames. For one customer that machinery costs far more than the arithmetic. Here
the customer's rows (:class:`~creditrisk.ledger.customer_rows.CustomerRows`) become the same
:class:`~features.prepared.PreparedLedger` arrays directly (one customer, code 0), and the
numbers come from the very functions the whole-book path runs on those arrays
(:func:`features.customer.customer_feature_arrays` after :func:`point_in_time.known_at`,
:func:`features.invoice.invoice_feature_arrays`); only the assembly differs: plain dicts of
values instead of frames. In default is the rule of :mod:`features.default_status` on the
same columns. ``tests/features/test_one_customer.py`` checks every value equal to the
whole-book path over many random ledgers, customers and dates.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd

from creditrisk.features import point_in_time
from creditrisk.features.attributes import RATING_ATTRIBUTE, AttributeHistory
from creditrisk.features.catalog import INVOICE_ID_COLUMNS, dimension_feature, feature_names
from creditrisk.features.customer import customer_feature_arrays
from creditrisk.features.default_status import (
    DefaultDefinition,
    terminal_events,
    unpaid_in_default,
)
from creditrisk.features.invoice import invoice_feature_arrays
from creditrisk.features.prepared import (
    EPOCH,
    EVENT_CODES,
    NO_DAY,
    STATIC_CATEGORICAL,
    STATIC_NUMERIC,
    PreparedLedger,
)
from creditrisk.ledger.customer_rows import CustomerRows, Row
from creditrisk.ledger.frame import INVOICE_DIMENSIONS, LedgerError

EPOCH_ORDINAL: Final = dt.date(1900, 1, 1).toordinal()
assert dt.date(1900, 1, 1) == EPOCH.astype(object)  # day numbers of features.prepared
ONE_CUSTOMER: Final = pd.Series(["the customer of the rows"], dtype="string")
"""The prepared arrays' customer list: one customer, code 0 (its id is the rows' own;
nothing on this path reads the list but its length)."""
NO_RATINGS: Final = AttributeHistory.empty()
"""The rating is read from the rows directly (:func:`rating_at`); the prepared arrays
carry none."""


def day_number(value: dt.date | None, *, table: str, column: str) -> int:
    """A date as its day number since 1900-01-01 (:data:`NO_DAY` when missing), the
    conversion of :func:`features.prepared.day_numbers` for one value."""
    if value is None:
        return NO_DAY
    day = value.toordinal() - EPOCH_ORDINAL
    if not 0 <= day < NO_DAY:
        raise LedgerError(f"{table}.{column}: date {value!r} is outside 1900-01-01..4770-01-01")
    return day


def _days(rows: list[Row], column: str, table: str) -> np.ndarray:
    return np.array([day_number(r[column], table=table, column=column) for r in rows],
                    dtype=np.int32)


def _floats(values: list[Any]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def prepare_customer(rows: CustomerRows) -> PreparedLedger:
    """The customer's rows as the arrays ``prepare_ledger`` makes of a ledger holding only
    this customer (code 0; invoices, payments and events in ledger order). The customer
    must exist (``rows.customer`` not None)."""
    customer = rows.customer
    if customer is None:
        raise LookupError(f"no ledger rows for customer {rows.customer_id!r}")
    invoices, payments, events = rows.invoices, rows.payments, rows.credit_events
    position: dict[str, int] = {}
    for i, inv in enumerate(invoices):
        position.setdefault(inv["invoice_id"], i)
    issue_day = _days(invoices, "issue_date", "invoices")
    founded = customer["founded_on"]
    return PreparedLedger(
        customer_ids=ONE_CUSTOMER,
        onboarded_day=np.array(
            [day_number(customer["onboarded_on"], table="customers", column="onboarded_on")],
            dtype=np.int32,
        ),
        founded_day=np.array(
            [np.nan if founded is None else float(founded.toordinal() - EPOCH_ORDINAL)]
        ),
        static_numeric={c: np.array([customer[c]], dtype=np.float64) for c in STATIC_NUMERIC},
        static_categorical={},
        invoice_row=np.arange(len(invoices), dtype=np.int32),
        invoice_customer=np.zeros(len(invoices), dtype=np.int32),
        issue_day=issue_day,
        due_day=_days(invoices, "due_date", "invoices"),
        settled_day=np.maximum(_days(invoices, "settled_date", "invoices"), issue_day),
        invoice_amount=_floats([inv["amount"] for inv in invoices]),
        disputed=np.array([bool(inv["disputed"]) for inv in invoices], dtype=bool),
        payment_customer=np.zeros(len(payments), dtype=np.int32),
        paid_day=_days(payments, "paid_on", "payments"),
        payment_amount=_floats([p["amount"] for p in payments]),
        payment_invoice=np.array(
            [position.get(p["invoice_id"], -1) if p["invoice_id"] is not None else -1
             for p in payments],
            dtype=np.int32,
        ),
        event_customer=np.zeros(len(events), dtype=np.int32),
        event_day=_days(events, "event_date", "credit_events"),
        event_type=np.array([EVENT_CODES.get(e["event_type"], -1) for e in events],
                            dtype=np.int8),
        ratings=NO_RATINGS,
    )


def rating_at(rows: CustomerRows, day: int) -> str | None:
    """The customer's rating in force at the end of ``day``: the value with the latest
    valid-from day on or before it (the last row of that day); None when there is none."""
    best: tuple[int, int] | None = None
    value: Any = None
    for i, row in enumerate(rows.customer_attributes):
        if row["attribute"] != RATING_ATTRIBUTE:
            continue
        valid = day_number(row["valid_from"], table="customer_attributes", column="valid_from")
        if valid <= day and (best is None or (valid, i) > best):
            best, value = (valid, i), row["value"]
    return None if value is None else str(value)


@dataclass(frozen=True)
class CustomerFeatures:
    """One customer's features as of a day: catalog order, numbers as floats (NaN unknown),
    categories as text (None missing)."""

    values: dict[str, Any]
    onboarded: bool
    """False when the customer was onboarded after the day (no features then)."""


def customer_features(rows: CustomerRows, prepared: PreparedLedger, day: int) -> CustomerFeatures:
    """The customer's features at the end of ``day``: the values ``build_features`` gives
    its row (``feature_names("customer")``)."""
    known = point_in_time.known_at(prepared, day)
    numeric = customer_feature_arrays(known, day)
    customer = rows.customer or {}
    values: dict[str, Any] = {}
    for name in feature_names("customer"):
        if name == "customer_rating":
            values[name] = rating_at(rows, day)
        elif name in STATIC_CATEGORICAL:
            values[name] = _text(customer.get(name))
        else:
            values[name] = float(numeric[name][0])
    return CustomerFeatures(values, onboarded=bool(known.onboarded_day[0] < NO_DAY))


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


UNIX_ORDINAL: Final = dt.date(1970, 1, 1).toordinal()
NAT_DAYS: Final = np.iinfo(np.int64).min
"""``datetime64``'s NaT as its int64 value."""


def datetime64_days(values: Sequence[dt.date | None]) -> np.ndarray:
    """Dates (None for missing) as ``datetime64[D]`` (NaT for None), through their ordinals:
    numpy converting ``datetime.date`` objects itself took ~650 us for 222 dates, this
    ~35 us, with the same values."""
    return np.array(
        [NAT_DAYS if v is None else v.toordinal() - UNIX_ORDINAL for v in values],
        dtype=np.int64,
    ).view("datetime64[D]")


def in_default(
    rows: CustomerRows, as_of: dt.date, definition: DefaultDefinition
) -> bool:
    """In default at the end of ``as_of`` (:mod:`features.default_status`)."""
    day = np.datetime64(as_of, "D")
    invoices, events = rows.invoices, rows.credit_events
    unpaid = unpaid_in_default(
        _floats([inv["amount"] for inv in invoices]),
        datetime64_days([inv["due_date"] for inv in invoices]),
        datetime64_days([inv["settled_date"] for inv in invoices]),
        day,
        definition,
    )
    terminal = terminal_events(
        np.array([e["event_type"] for e in events], dtype=object),
        datetime64_days([e["event_date"] for e in events]),
        day,
        definition,
    )
    return bool(unpaid.any() or terminal.any())


OWN_EVENT_TYPES: Final = ("reminder", "dispute")


def open_invoice_features(
    rows: CustomerRows, prepared: PreparedLedger, day: int
) -> dict[str, list[Any] | np.ndarray]:
    """The customer's invoices open at the end of ``day`` with their features: the columns
    ``build_invoice_features(ledger, as_of=day)`` gives them (ids, dates as
    ``datetime.date``, catalog features, ``dim_<name>`` of extra dimensions), as lists and
    arrays of one value per open invoice, ledger order."""
    chosen, numeric = invoice_feature_arrays(prepared, day)
    invoices = [rows.invoices[int(i)] for i in chosen]
    customer = rows.customer or {}
    columns: dict[str, list[Any] | np.ndarray] = {
        c: [inv[c] for inv in invoices] for c in INVOICE_ID_COLUMNS
    }
    own = _own_event_counts(rows, chosen, day)
    rating = rating_at(rows, day)
    for name in feature_names("invoice"):
        if name in own:
            columns[name] = own[name]
        elif name == "customer_rating":
            columns[name] = [rating] * len(invoices)
        elif name in INVOICE_DIMENSIONS:
            columns[name] = [_text(inv.get(name)) for inv in invoices]
        elif name in STATIC_CATEGORICAL:
            columns[name] = [_text(customer.get(name))] * len(invoices)
        else:
            columns[name] = numeric[name]
    columns.update(_extra_dimensions(invoices))
    return columns


def _own_event_counts(rows: CustomerRows, chosen: np.ndarray, day: int) -> dict[str, np.ndarray]:
    """Reminders sent for and disputes raised on each chosen invoice up to ``day``: credit
    events naming one of the customer's invoices (the first with that id)."""
    position: dict[str, int] = {}
    for i, inv in enumerate(rows.invoices):
        position.setdefault(inv["invoice_id"], i)
    reminders = np.zeros(len(rows.invoices))
    disputes = np.zeros(len(rows.invoices))
    for event in rows.credit_events:
        target = position.get(event.get("invoice_id") or "")
        if target is None or event["event_type"] not in OWN_EVENT_TYPES:
            continue
        if day_number(event["event_date"], table="credit_events", column="event_date") <= day:
            (reminders if event["event_type"] == "reminder" else disputes)[target] += 1
    return {
        "invoice_reminder_count": reminders[chosen].astype(np.float64),
        "invoice_disputed": (disputes[chosen] > 0).astype(np.float64),
    }


def _extra_dimensions(invoices: list[Row]) -> dict[str, list[str | None]]:
    """``dim_<name>`` per extra dimension any of the invoices carries (names sorted)."""
    parsed = [None if inv.get("dimensions") is None else json.loads(inv["dimensions"])
              for inv in invoices]
    names = sorted({name for values in parsed if values for name in values})
    return {
        dimension_feature(name).name: [
            None if values is None or values.get(name) is None else str(values[name])
            for values in parsed
        ]
        for name in names
    }
