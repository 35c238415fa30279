"""The ledger turned once into flat integer-keyed arrays, the form every feature pass reads.

Strings and timestamps are expensive to compare millions of times, so they are converted
once: customers become integer codes (their row position in ``ledger.customers``), dates
become day numbers (``int32`` days since 1900-01-01), the invoice a payment settles becomes
an invoice position. Invoices, payments and credit events are kept sorted by customer code
(stable: ledger order within a customer), so the records of a range of customers are one
contiguous slice: :meth:`PreparedLedger.partition` cuts a partition of contiguous customer
codes without copying, itself a :class:`PreparedLedger` with codes renumbered from 0.

A missing date (an unsettled invoice, a customer without onboarding date) is ``NO_DAY``, a
day after every real date, so "settled on or before ``T``" is simply ``settled_day <= T``.

Ledger rules applied here, once:

* a payment counts for an invoice only when the invoice belongs to the payment's customer;
  otherwise (or with an unknown invoice id) it counts as an unallocated payment;
* a settlement dated before the issue date (a prepayment) takes effect on the issue date.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from creditrisk.features.attributes import RATING_ATTRIBUTE, AttributeHistory
from creditrisk.ledger.frame import CREDIT_EVENT_TYPES, Ledger, LedgerError

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

MATCHING_CUSTOMERS = 2_000
"""Payments are matched to invoices this many customers at a time: small hash tables stay
in cache, which makes the match several times faster than one ledger-wide join."""
SMALL_LEDGER_ROWS = 20_000
"""Up to this many invoices and payments (one customer's, a few customers') the conversion
runs on the calling thread: starting worker threads would cost more than the work."""
_NS_PER_DAY = 86_400 * 10**9
_EPOCH_DAYS_SINCE_1970 = int((EPOCH - np.datetime64("1970-01-01", "D")).astype(np.int64))


def day_numbers(values: pd.Series, *, table: str, column: str) -> np.ndarray:
    """Dates as ``int32`` days since 1900-01-01; missing dates become :data:`NO_DAY`.

    Raises :class:`LedgerError` for a date before 1900 or after the year 4770.
    """
    ns = values.to_numpy(dtype="datetime64[ns]").view(np.int64)
    missing = ns == np.iinfo(np.int64).min  # NaT
    days = ns // _NS_PER_DAY
    days -= _EPOCH_DAYS_SINCE_1970
    bad = ~missing & ((days < 0) | (days >= NO_DAY))
    if bad.any():
        first = values.iloc[int(np.flatnonzero(bad)[0])]
        raise LedgerError(f"{table}.{column}: date {first!r} is outside 1900-01-01..4770-01-01")
    days[missing] = NO_DAY
    out: np.ndarray = days.astype(np.int32)
    return out


def dates_of(days: np.ndarray) -> np.ndarray:
    """Day numbers back to ``datetime64[ns]`` dates (:data:`NO_DAY` becomes ``NaT``)."""
    out = (EPOCH + days.astype(np.int64).astype("timedelta64[D]")).astype("datetime64[ns]")
    out[days >= NO_DAY] = np.datetime64("NaT")
    return out


def _arrow_strings(values: pd.Series) -> pa.ChunkedArray:
    array = pa.array(values.astype("string"))
    return array if isinstance(array, pa.ChunkedArray) else pa.chunked_array([array])


def _customer_codes(
    values: pd.Series, universe: pa.Array, *, table: str, column: str
) -> np.ndarray:
    """Customer code (row in ``universe``) of each of ``values``, as ``int32``.

    Raises :class:`LedgerError` naming the first missing or unknown customer id.
    """
    if len(values) == 0:
        return np.empty(0, dtype=np.int32)
    strings = _arrow_strings(values)
    if strings.null_count:
        row = int(np.flatnonzero(pc.is_null(strings).to_numpy(zero_copy_only=False))[0])
        raise LedgerError(f"{table}.{column}: missing customer id at row {row}")
    found = pc.index_in(strings, value_set=universe)
    if found.null_count:
        row = int(np.flatnonzero(pc.is_null(found).to_numpy(zero_copy_only=False))[0])
        raise LedgerError(
            f"{table}.{column}: {strings[row].as_py()!r} is not a known customer (row {row})"
        )
    codes: np.ndarray = found.to_numpy().astype(np.int32)
    return codes


def _customer_order(codes: np.ndarray) -> np.ndarray | None:
    """Stable order that sorts ``codes``; ``None`` when they are sorted already."""
    if len(codes) < 2 or bool(np.all(codes[1:] >= codes[:-1])):
        return None
    return np.argsort(codes, kind="stable")


def _reordered(array: np.ndarray, order: np.ndarray | None) -> np.ndarray:
    return array if order is None else array[order]


def _reordered_strings(values: pd.Series, order: np.ndarray | None) -> pa.ChunkedArray:
    strings = _arrow_strings(values)
    return strings if order is None else strings.take(pa.array(order))


def _match_invoices(
    payment_invoice_ids: pa.ChunkedArray,
    payment_customer: np.ndarray,
    invoice_ids: pa.ChunkedArray,
    invoice_customer: np.ndarray,
    n_customers: int,
) -> np.ndarray:
    """Position of each payment's invoice among the (customer-sorted) invoices, or -1 when
    the payment is unallocated or names no invoice of its own customer."""
    starts = np.arange(0, n_customers, MATCHING_CUSTOMERS)
    inv_bounds = np.searchsorted(invoice_customer, np.append(starts, n_customers))
    pay_bounds = np.searchsorted(payment_customer, np.append(starts, n_customers))

    def match_blocks(blocks: range) -> list[pa.Array]:
        found = []
        for i in blocks:  # one pass per block of customers, not per customer
            inv_lo, inv_hi = int(inv_bounds[i]), int(inv_bounds[i + 1])
            pay_lo, pay_hi = int(pay_bounds[i]), int(pay_bounds[i + 1])
            if pay_hi > pay_lo:
                matched = pc.index_in(
                    payment_invoice_ids.slice(pay_lo, pay_hi - pay_lo),
                    value_set=invoice_ids.slice(inv_lo, inv_hi - inv_lo).combine_chunks(),
                )
                found.extend(matched.chunks)
        return found

    if len(payment_customer) <= SMALL_LEDGER_ROWS:
        chunks = match_blocks(range(len(starts)))
    else:  # Arrow releases the GIL: two threads match the two halves of the blocks
        half = len(starts) // 2
        with ThreadPoolExecutor(max_workers=2) as pool:
            halves = list(pool.map(match_blocks, [range(half), range(half, len(starts))]))
        chunks = halves[0] + halves[1]
    if not chunks:
        return np.full(len(payment_customer), -1, dtype=np.int32)
    local = pc.fill_null(pa.chunked_array(chunks, type=pa.int32()), -1).to_numpy()
    block_start = np.repeat(inv_bounds[:-1], np.diff(pay_bounds))
    position = np.where(local >= 0, local + block_start, -1)
    allocated = position >= 0
    allocated[allocated] = invoice_customer[position[allocated]] == payment_customer[allocated]
    return np.where(allocated, position, -1).astype(np.int32)


@dataclass(frozen=True)
class PreparedLedger:
    """The ledger as flat arrays: customers ``0..n_customers-1``; invoices, payments and
    credit events sorted by customer code (ledger order within a customer)."""

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
    ratings: AttributeHistory = field(default_factory=AttributeHistory.empty)
    """The customers' rating history (``customer_attributes`` named ``rating``)."""

    @property
    def n_customers(self) -> int:
        return len(self.customer_ids)

    @property
    def n_invoices(self) -> int:
        return len(self.issue_day)

    def partition(self, start: int, stop: int) -> PreparedLedger:
        """The customers with codes ``start <= code < stop`` and their records (views, not
        copies), with codes renumbered from 0 and payments pointing at the partition's
        invoice positions."""
        bounds = np.array([start, stop])
        inv = slice(*np.searchsorted(self.invoice_customer, bounds).tolist())
        pay = slice(*np.searchsorted(self.payment_customer, bounds).tolist())
        ev = slice(*np.searchsorted(self.event_customer, bounds).tolist())
        payment_invoice = self.payment_invoice[pay]
        # a payment's invoice belongs to the same customer, so it lies in the same slice
        payment_invoice = np.where(payment_invoice >= 0, payment_invoice - inv.start, -1)
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
            invoice_customer=self.invoice_customer[inv] - np.int32(start),
            issue_day=self.issue_day[inv],
            due_day=self.due_day[inv],
            settled_day=self.settled_day[inv],
            invoice_amount=self.invoice_amount[inv],
            disputed=self.disputed[inv],
            payment_customer=self.payment_customer[pay] - np.int32(start),
            paid_day=self.paid_day[pay],
            payment_amount=self.payment_amount[pay],
            payment_invoice=payment_invoice.astype(np.int32),
            event_customer=self.event_customer[ev] - np.int32(start),
            event_day=self.event_day[ev],
            event_type=self.event_type[ev],
            code_offset=self.code_offset + start,
            ratings=self.ratings.partition(start, stop),
        )

    def partitions(self, size: int) -> list[tuple[int, int]]:
        """``(start, stop)`` code ranges of at most ``size`` customers covering all."""
        if size < 1:
            raise ValueError(f"partition_size must be at least 1, got {size}")
        return [(s, min(s + size, self.n_customers)) for s in range(0, self.n_customers, size)]


def prepare_ledger(ledger: Ledger) -> PreparedLedger:
    """Convert ``ledger`` once into the arrays the feature passes read.

    Raises :class:`LedgerError` when an invoice, payment or event names a missing or
    unknown customer, or a date is out of range.
    """
    customers, invoices = ledger.customers, ledger.invoices
    payments, events = ledger.payments, ledger.credit_events
    universe = _arrow_strings(customers["customer_id"]).combine_chunks()
    if len(invoices) + len(payments) <= SMALL_LEDGER_ROWS:  # a thread costs more than this
        invoice_customer = _customer_codes(
            invoices["customer_id"], universe, table="invoices", column="customer_id"
        )
        payment_customer = _customer_codes(
            payments["customer_id"], universe, table="payments", column="customer_id"
        )
    else:
        with ThreadPoolExecutor(max_workers=2) as pool:  # Arrow look-ups release the GIL
            codes = {
                table: pool.submit(
                    _customer_codes, frame["customer_id"], universe, table=table,
                    column="customer_id",
                )
                for table, frame in (("invoices", invoices), ("payments", payments))
            }
            invoice_customer = codes["invoices"].result()
            payment_customer = codes["payments"].result()
    event_customer = _customer_codes(
        events["customer_id"], universe, table="credit_events", column="customer_id"
    )
    inv_order = _customer_order(invoice_customer)
    invoice_customer = _reordered(invoice_customer, inv_order)
    pay_order = _customer_order(payment_customer)
    payment_customer = _reordered(payment_customer, pay_order)
    ev_order = _customer_order(event_customer)

    payment_invoice = _match_invoices(
        _reordered_strings(payments["invoice_id"], pay_order),
        payment_customer,
        _reordered_strings(invoices["invoice_id"], inv_order),
        invoice_customer,
        len(customers),
    )

    def invoice_days(column: str) -> np.ndarray:
        return _reordered(day_numbers(invoices[column], table="invoices", column=column), inv_order)

    issue_day = invoice_days("issue_date")
    founded = customers["founded_on"].to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    founded_day = np.where(
        np.isnat(founded), np.nan, (founded - EPOCH).astype(np.int64).astype(np.float64)
    )
    event_type = pc.index_in(
        _arrow_strings(events["event_type"]), value_set=pa.array(CREDIT_EVENT_TYPES)
    )
    invoice_row = (
        np.arange(len(invoices), dtype=np.int32)
        if inv_order is None
        else inv_order.astype(np.int32)
    )
    return PreparedLedger(
        customer_ids=customers["customer_id"].astype("string").reset_index(drop=True),
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
        invoice_row=invoice_row,
        invoice_customer=invoice_customer,
        issue_day=issue_day,
        due_day=invoice_days("due_date"),
        settled_day=np.maximum(invoice_days("settled_date"), issue_day),
        invoice_amount=_reordered(
            invoices["amount"].to_numpy(dtype=np.float64, na_value=np.nan), inv_order
        ),
        disputed=_reordered(invoices["disputed"].to_numpy(dtype=bool), inv_order),
        payment_customer=payment_customer,
        paid_day=_reordered(
            day_numbers(payments["paid_on"], table="payments", column="paid_on"), pay_order
        ),
        payment_amount=_reordered(
            payments["amount"].to_numpy(dtype=np.float64, na_value=np.nan), pay_order
        ),
        payment_invoice=payment_invoice,
        event_customer=_reordered(event_customer, ev_order),
        event_day=_reordered(
            day_numbers(events["event_date"], table="credit_events", column="event_date"),
            ev_order,
        ),
        event_type=_reordered(pc.fill_null(event_type, -1).to_numpy().astype(np.int8), ev_order),
        ratings=_rating_history(ledger, universe),
    )


def _rating_history(ledger: Ledger, universe: pa.Array) -> AttributeHistory:
    attributes = ledger.customer_attributes
    rows = attributes[attributes["attribute"].astype("string") == RATING_ATTRIBUTE]
    if rows.empty:
        return AttributeHistory.empty()
    customer = _customer_codes(
        rows["customer_id"], universe, table="customer_attributes", column="customer_id"
    )
    day = day_numbers(rows["valid_from"], table="customer_attributes", column="valid_from")
    return AttributeHistory.build(customer, day, rows["value"].reset_index(drop=True))
