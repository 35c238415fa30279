"""Payment delays: how many days after (or before) its due date a customer pays.

The one place the customer features define a payment delay. As of day ``T`` (only invoices
with a positive amount are receivables; credit notes never count here):

* payment delay of a settled invoice = ``settled_date - due_date``, signed (negative = paid
  early; days beyond terms, :mod:`features.customer`, is the same clipped at 0). Windows
  over settled invoices use the settlement date (the 365-day mean, median and lower
  quartile, the 90-day mean);
* censored payment delay of an invoice due by ``T`` = (its settled date, or ``T`` while it
  is unpaid) minus its due date: for an unpaid invoice a lower bound that grows every day it
  stays unpaid, so it reacts before the invoice is paid;
* recent dues: invoices with a due date in ``(T - N, T]`` (``N`` = 30, 60 days): how many,
  the share still unpaid, their average censored delay; the 60-day one also against the
  customer's own 12-month mean (``payment_delay_shift_60d``);
* slow share: of the invoices due in ``(T - 40, T - 10]``, the share not settled within 10
  days of the due date (known at ``T``, since due date + 10 <= ``T``);
* last due delay: the censored delay of the invoice with the latest due date on or before
  ``T - 7`` (several due that day: their average), the freshest completed sign of how the
  customer pays now.

Undefined values (a mean over no invoices) are ``NaN``; counts of nothing are 0. All of it
runs on the arrays of :func:`features.point_in_time.known_at`, with ``np.bincount``-style
passes (:mod:`features.grouped`): no Python loop per customer.
"""

from __future__ import annotations

import numpy as np

from creditrisk.features.grouped import count_by, quantile_by, ratio, sum_by
from creditrisk.features.prepared import NO_DAY, PreparedLedger

RECENT_DUE_WINDOWS_DAYS = (30, 60)
"""Windows of the recent-dues family: invoices that fell due in the last N days."""
SLOW_DUE_DAYS = (10, 40)
"""The slow share looks at invoices due ``T - 40 < due <= T - 10``."""
SLOW_GRACE_DAYS = 10
"""An invoice is slow when it is not settled within this many days of its due date."""
LAST_DUE_MIN_AGE_DAYS = 7
"""The last due delay reads the latest invoice due at least this many days before ``T``."""


def payment_delay_arrays(known: PreparedLedger, day: int, n: int) -> dict[str, np.ndarray]:
    """Every payment-delay feature for all codes of ``known`` (already cut at ``day``)."""
    sales = known.invoice_amount > 0
    out = _settled_delays(known, day, n, sales)
    for window in RECENT_DUE_WINDOWS_DAYS:
        out.update(_recent_dues(known, day, n, sales, window))
    out["payment_delay_shift_60d"] = out["payment_delay_due_60d"] - out["payment_delay_mean_365d"]
    out["slow_share_due_10_40d"] = _slow_share(known, day, n, sales)
    out["last_due_delay"] = _last_due_delay(known, day, n, sales)
    return out


def censored_delay(known: PreparedLedger, day: int, chosen: np.ndarray) -> np.ndarray:
    """Censored payment delay (days, ``int64``) of the ``chosen`` invoices, all due by
    ``day``: settled date (or ``day`` while unpaid) minus due date."""
    settled_day = known.settled_day[chosen].astype(np.int64)
    paid_or_today = np.where(settled_day == NO_DAY, day, settled_day)
    delay: np.ndarray = paid_or_today - known.due_day[chosen].astype(np.int64)
    return delay


def _settled_delays(
    known: PreparedLedger, day: int, n: int, sales: np.ndarray
) -> dict[str, np.ndarray]:
    """Signed delays of the invoices settled in the last 365 days (and the last 90)."""
    in_year = sales & (known.settled_day < NO_DAY) & (known.settled_day > day - 365)
    code = known.invoice_customer[in_year]
    settled_day = known.settled_day[in_year].astype(np.int64)
    delay = settled_day - known.due_day[in_year].astype(np.int64)
    recent = settled_day > day - 90
    return {
        "payment_delay_mean_365d": ratio(sum_by(code, delay, n), count_by(code, n)),
        "payment_delay_median_365d": quantile_by(code, delay, n, 0.5),
        "payment_delay_q25_365d": quantile_by(code, delay, n, 0.25),
        "payment_delay_mean_90d": ratio(
            sum_by(code[recent], delay[recent], n), count_by(code[recent], n)
        ),
    }


def _recent_dues(
    known: PreparedLedger, day: int, n: int, sales: np.ndarray, window: int
) -> dict[str, np.ndarray]:
    """Invoices due in ``(T - window, T]``: count, unpaid share, mean censored delay."""
    due = sales & (known.due_day > day - window) & (known.due_day <= day)
    code = known.invoice_customer[due]
    unpaid = known.settled_day[due] == NO_DAY
    count = count_by(code, n)
    return {
        f"due_invoice_count_{window}d": count,
        f"unpaid_due_share_{window}d": ratio(count_by(code[unpaid], n), count),
        f"payment_delay_due_{window}d": ratio(
            sum_by(code, censored_delay(known, day, due), n), count
        ),
    }


def _slow_share(known: PreparedLedger, day: int, n: int, sales: np.ndarray) -> np.ndarray:
    """Share of the invoices due in ``(T - 40, T - 10]`` not settled by due date + 10."""
    newest, oldest = SLOW_DUE_DAYS
    due = sales & (known.due_day > day - oldest) & (known.due_day <= day - newest)
    code = known.invoice_customer[due]
    slow = known.settled_day[due].astype(np.int64) > (
        known.due_day[due].astype(np.int64) + SLOW_GRACE_DAYS
    )
    return ratio(count_by(code[slow], n), count_by(code, n))


def _last_due_delay(known: PreparedLedger, day: int, n: int, sales: np.ndarray) -> np.ndarray:
    """Mean censored delay of each customer's invoices with its latest due date on or
    before ``T - 7``; ``NaN`` for a customer without one."""
    due = sales & (known.due_day <= day - LAST_DUE_MIN_AGE_DAYS)
    code = known.invoice_customer[due]
    due_day = known.due_day[due].astype(np.int64)
    latest = np.full(n, -1, dtype=np.int64)
    np.maximum.at(latest, code, due_day)
    last = due_day == latest[code]
    delay = censored_delay(known, day, due)
    return ratio(sum_by(code[last], delay[last], n), count_by(code[last], n))
