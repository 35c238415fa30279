"""The ledger turned once into flat integer-keyed arrays, the form every feature pass reads.

Strings and timestamps are expensive to compare millions of times, so they are converted
once: customers become integer codes (their row position in ``ledger.customers``), dates
become day numbers (``int32`` days since 1900-01-01), invoices referenced by payments become
invoice row positions. A :class:`PreparedLedger` can be cut into partitions of contiguous
customer codes (:meth:`PreparedLedger.partition`), each itself a :class:`PreparedLedger`
with local codes, so feature passes run over a bounded slice of the ledger at a time.

A missing date (an unsettled invoice, a customer without onboarding date) is ``NO_DAY``, a
day after every real date, so "settled on or before ``T``" is simply ``settled_day <= T``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features.ledger.frame import CREDIT_EVENT_TYPES, Ledger, LedgerError

EPOCH = np.datetime64("1900-01-01", "D")
"""Day number 0."""
DAY_BITS = 20
"""Day numbers fit in 20 bits, so ``code << DAY_BITS | day`` is a sortable (customer, day) key."""
NO_DAY = (1 << DAY_BITS) - 1
"""Day number of a missing date: after every real date (year 4770)."""
EVENT_CODES: dict[str, int] = {name: i for i, name in enumerate(CREDIT_EVENT_TYPES)}
"""Credit event type -> small integer code used in :attr:`PreparedLedger.event_type`."""

STATIC_NUMERIC: tuple[str, ...] = (
    "payment_terms_days",
    "annual_revenue",
    "external_score",
    "credit_limit",
)
STATIC_CATEGORICAL: tuple[str, ...] = ("industry", "country")


def day_numbers(values: pd.Series, *, table: str, column: str) -> np.ndarray:
    """Dates as ``int32`` days since 1900-01-01; missing dates become :data:`NO_DAY`.

    Raises :class:`LedgerError` for a date before 1900 or after the year 4770.
    """
    raw = values.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    missing = np.isnat(raw)
    days = (raw - EPOCH).astype(np.int64)
    bad = ~missing & ((days < 0) | (days >= NO_DAY))
    if bad.any():
        first = values.iloc[int(np.flatnonzero(bad)[0])]
        raise LedgerError(f"{table}.{column}: date {first!r} is outside 1900-01-01..4770-01-01")
    days[missing] = NO_DAY
    return days.astype(np.int32)


def dates_of(days: np.ndarray) -> np.ndarray:
    """Day numbers back to ``datetime64[ns]`` dates (:data:`NO_DAY` becomes ``NaT``)."""
    out = (EPOCH + days.astype(np.int64).astype("timedelta64[D]")).astype("datetime64[ns]")
    out[days >= NO_DAY] = np.datetime64("NaT")
    return out


def _arrow_strings(values: pd.Series) -> pa.Array:
    array = pa.array(values.astype("string"))
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array


def _positions(
    values: pd.Series,
    universe: pa.Array,
    *,
    table: str,
    column: str,
    target: str,
    required: bool,
) -> np.ndarray:
    """Row positions in ``universe`` of each of ``values``; missing values give -1.

    Raises :class:`LedgerError` naming the first value that is not in ``universe``, or the
    first missing value when ``required``.
    """
    if len(values) == 0:
        return np.empty(0, dtype=np.int64)
    strings = _arrow_strings(values)
    if required and strings.null_count:
        row = int(np.flatnonzero(pc.is_null(strings).to_numpy(zero_copy_only=False))[0])
        raise LedgerError(f"{table}.{column}: missing {target} id at row {row}")
    found = pc.index_in(strings, value_set=universe)
    unknown = pc.and_(pc.is_valid(strings), pc.is_null(found))
    if pc.any(unknown).as_py():
        first = strings[int(np.flatnonzero(unknown.to_numpy(zero_copy_only=False))[0])]
        raise LedgerError(f"{table}.{column}: {first.as_py()!r} is not a known {target}")
    return pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)


@dataclass(frozen=True)
class PreparedLedger:
    """The ledger as flat arrays: customers ``0..n_customers-1``, invoices, payments, events.

    Invoice, payment and event arrays are in ledger row order (within a partition: in the
    order of the full ledger restricted to the partition's customers).
    """

    customer_ids: pd.Series
    """``string`` ids, position = customer code."""
    onboarded_day: np.ndarray
    founded_day: np.ndarray
    """``float64`` day numbers (``NaN`` = unknown; may be negative for old companies)."""
    static_numeric: dict[str, np.ndarray]
    static_categorical: dict[str, pd.Series]

    invoice_row: np.ndarray
    """Row position of each invoice in ``ledger.invoices``."""
    invoice_customer: np.ndarray
    issue_day: np.ndarray
    due_day: np.ndarray
    settled_day: np.ndarray
    invoice_amount: np.ndarray
    disputed: np.ndarray

    payment_customer: np.ndarray
    paid_day: np.ndarray
    payment_amount: np.ndarray
    payment_invoice: np.ndarray
    """Position (in these invoice arrays) of the invoice a payment settles, or -1:
    unallocated, or allocated to an invoice of another customer."""

    event_customer: np.ndarray
    event_day: np.ndarray
    event_type: np.ndarray
    code_offset: int = 0
    """Code of this (partition's) customer 0 in the full ledger."""

    @property
    def n_customers(self) -> int:
        return len(self.customer_ids)

    @property
    def n_invoices(self) -> int:
        return len(self.issue_day)

    def partition(self, start: int, stop: int) -> PreparedLedger:
        """The customers with codes ``start <= code < stop`` and their records, with codes
        renumbered from 0 and payments pointing at the partition's invoice positions."""
        inv = np.flatnonzero((self.invoice_customer >= start) & (self.invoice_customer < stop))
        pay = np.flatnonzero((self.payment_customer >= start) & (self.payment_customer < stop))
        ev = np.flatnonzero((self.event_customer >= start) & (self.event_customer < stop))
        # global invoice position -> position among the partition's invoices
        local = np.full(self.n_invoices, -1, dtype=np.int32)
        local[inv] = np.arange(len(inv), dtype=np.int32)
        old_invoice = self.payment_invoice[pay]
        if len(inv):
            payment_invoice = np.where(old_invoice >= 0, local[np.maximum(old_invoice, 0)], -1)
        else:
            payment_invoice = np.full(len(pay), -1)
        customers = slice(start, stop)
        return PreparedLedger(
            customer_ids=self.customer_ids.iloc[customers].reset_index(drop=True),
            onboarded_day=self.onboarded_day[customers],
            founded_day=self.founded_day[customers],
            static_numeric={k: v[customers] for k, v in self.static_numeric.items()},
            static_categorical={
                k: v.iloc[customers].reset_index(drop=True)
                for k, v in self.static_categorical.items()
            },
            invoice_row=self.invoice_row[inv],
            invoice_customer=self.invoice_customer[inv] - start,
            issue_day=self.issue_day[inv],
            due_day=self.due_day[inv],
            settled_day=self.settled_day[inv],
            invoice_amount=self.invoice_amount[inv],
            disputed=self.disputed[inv],
            payment_customer=self.payment_customer[pay] - start,
            paid_day=self.paid_day[pay],
            payment_amount=self.payment_amount[pay],
            payment_invoice=payment_invoice.astype(np.int64),
            event_customer=self.event_customer[ev] - start,
            event_day=self.event_day[ev],
            event_type=self.event_type[ev],
            code_offset=self.code_offset + start,
        )

    def partitions(self, size: int) -> list[tuple[int, int]]:
        """``(start, stop)`` code ranges of at most ``size`` customers covering all."""
        if size < 1:
            raise ValueError(f"partition_size must be at least 1, got {size}")
        return [(s, min(s + size, self.n_customers)) for s in range(0, self.n_customers, size)]


def prepare_ledger(ledger: Ledger) -> PreparedLedger:
    """Convert ``ledger`` once into the arrays the feature passes read.

    Raises :class:`LedgerError` when an invoice, payment or event names an unknown customer,
    a payment names an unknown invoice, or a date is out of range.
    """
    customers, invoices = ledger.customers, ledger.invoices
    payments, events = ledger.payments, ledger.credit_events
    customer_universe = _arrow_strings(customers["customer_id"])
    invoice_customer = _positions(
        invoices["customer_id"],
        customer_universe,
        table="invoices",
        column="customer_id",
        target="customer",
        required=True,
    )
    payment_customer = _positions(
        payments["customer_id"],
        customer_universe,
        table="payments",
        column="customer_id",
        target="customer",
        required=True,
    )
    event_customer = _positions(
        events["customer_id"],
        customer_universe,
        table="credit_events",
        column="customer_id",
        target="customer",
        required=True,
    )
    payment_invoice = _positions(
        payments["invoice_id"],
        _arrow_strings(invoices["invoice_id"]),
        table="payments",
        column="invoice_id",
        target="invoice",
        required=False,
    )
    allocated = payment_invoice >= 0
    same_customer = np.zeros(len(payment_invoice), dtype=bool)
    same_customer[allocated] = (
        invoice_customer[payment_invoice[allocated]] == payment_customer[allocated]
    )
    payment_invoice = np.where(same_customer, payment_invoice, -1)

    issue_day = day_numbers(invoices["issue_date"], table="invoices", column="issue_date")
    # a settlement dated before the issue date (a prepayment) takes effect on the issue date
    settled_day = day_numbers(invoices["settled_date"], table="invoices", column="settled_date")
    founded = customers["founded_on"].to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    founded_day = np.where(
        np.isnat(founded), np.nan, (founded - EPOCH).astype(np.int64).astype(np.float64)
    )
    event_type = (
        events["event_type"].map(EVENT_CODES).to_numpy(dtype=np.float64).astype(np.int8)
        if len(events)
        else np.empty(0, dtype=np.int8)
    )
    return PreparedLedger(
        customer_ids=customers["customer_id"].reset_index(drop=True),
        onboarded_day=day_numbers(
            customers["onboarded_on"], table="customers", column="onboarded_on"
        ),
        founded_day=founded_day,
        static_numeric={
            c: customers[c].to_numpy(dtype=np.float64, na_value=np.nan) for c in STATIC_NUMERIC
        },
        static_categorical={
            c: customers[c].astype("string").reset_index(drop=True) for c in STATIC_CATEGORICAL
        },
        invoice_row=np.arange(len(invoices), dtype=np.int64),
        invoice_customer=invoice_customer.astype(np.int32),
        issue_day=issue_day,
        due_day=day_numbers(invoices["due_date"], table="invoices", column="due_date"),
        settled_day=np.maximum(settled_day, issue_day),
        invoice_amount=invoices["amount"].to_numpy(dtype=np.float64, na_value=np.nan),
        disputed=invoices["disputed"].to_numpy(dtype=bool),
        payment_customer=payment_customer.astype(np.int32),
        paid_day=day_numbers(payments["paid_on"], table="payments", column="paid_on"),
        payment_amount=payments["amount"].to_numpy(dtype=np.float64, na_value=np.nan),
        payment_invoice=payment_invoice.astype(np.int64),
        event_customer=event_customer.astype(np.int32),
        event_day=day_numbers(events["event_date"], table="credit_events", column="event_date"),
        event_type=event_type,
    )
