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
  the share still unpaid, their average censored delay, and that delay against the
  customer's own 12-month mean (``payment_delay_shift_30d``, ``payment_delay_shift_60d``);
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

from dataclasses import dataclass

import numpy as np

from creditrisk.features.grouped import count_by, quantiles_by, ratio, sum_by
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
    dues = _DueInvoices.of(known, day, sales)
    for window in RECENT_DUE_WINDOWS_DAYS:
        out.update(dues.recent(window, n))
        out[f"payment_delay_shift_{window}d"] = (
            out[f"payment_delay_due_{window}d"] - out["payment_delay_mean_365d"])
    out["slow_share_due_10_40d"] = dues.slow_share(n)
    out["last_due_delay"] = dues.last_due_delay(n)
    return out


def _settled_delays(
    known: PreparedLedger, day: int, n: int, sales: np.ndarray
) -> dict[str, np.ndarray]:
    """Signed delays of the invoices settled in the last 365 days (and the last 90)."""
    in_year = sales & (known.settled_day < NO_DAY) & (known.settled_day > day - 365)
    code = known.invoice_customer[in_year]
    settled_day = known.settled_day[in_year].astype(np.int64)
    delay = settled_day - known.due_day[in_year].astype(np.int64)
    recent = settled_day > day - 90
    median, lower_quartile = quantiles_by(code, delay, n, (0.5, 0.25))
    return {
        "payment_delay_mean_365d": ratio(sum_by(code, delay, n), count_by(code, n)),
        "payment_delay_median_365d": median,
        "payment_delay_q25_365d": lower_quartile,
        "payment_delay_mean_90d": ratio(
            sum_by(code[recent], delay[recent], n), count_by(code[recent], n)
        ),
    }


@dataclass(frozen=True)
class _DueInvoices:
    """The receivables due by ``T``: customer code, days since due, settled (or not) by
    ``T``, and the censored payment delay (settled date, or ``T`` while unpaid, minus the
    due date)."""

    code: np.ndarray
    age: np.ndarray
    unpaid: np.ndarray
    delay: np.ndarray

    @classmethod
    def of(cls, known: PreparedLedger, day: int, sales: np.ndarray) -> _DueInvoices:
        due = sales & (known.due_day <= day)
        due_day = known.due_day[due].astype(np.int64)
        settled_day = known.settled_day[due].astype(np.int64)
        unpaid = settled_day == NO_DAY
        delay = np.where(unpaid, day, settled_day) - due_day
        return cls(known.invoice_customer[due], day - due_day, unpaid, delay)

    def recent(self, window: int, n: int) -> dict[str, np.ndarray]:
        """Due in ``(T - window, T]``: count, unpaid share, mean censored delay."""
        chosen = self.age < window
        code = self.code[chosen]
        count = count_by(code, n)
        return {
            f"due_invoice_count_{window}d": count,
            f"unpaid_due_share_{window}d": ratio(count_by(code[self.unpaid[chosen]], n), count),
            f"payment_delay_due_{window}d": ratio(sum_by(code, self.delay[chosen], n), count),
        }

    def slow_share(self, n: int) -> np.ndarray:
        """Due in ``(T - 40, T - 10]``: the share not settled by due date + 10 (an unpaid
        invoice is more than 10 days past due by then)."""
        newest, oldest = SLOW_DUE_DAYS
        chosen = (self.age >= newest) & (self.age < oldest)
        code = self.code[chosen]
        slow = self.unpaid[chosen] | (self.delay[chosen] > SLOW_GRACE_DAYS)
        return ratio(count_by(code[slow], n), count_by(code, n))

    def last_due_delay(self, n: int) -> np.ndarray:
        """Mean censored delay of each customer's invoices with its latest due date on or
        before ``T - 7`` (its least days since due); ``NaN`` without one."""
        chosen = self.age >= LAST_DUE_MIN_AGE_DAYS
        code, age = self.code[chosen], self.age[chosen]
        youngest = np.full(n, np.iinfo(np.int64).max)
        np.minimum.at(youngest, code, age)
        last = age == youngest[code]
        return ratio(sum_by(code[last], self.delay[chosen][last], n), count_by(code[last], n))
