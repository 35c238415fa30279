"""Customer features as of a date: one row per customer, the columns of the catalog.

``build_features(ledger, as_of=T)`` answers "what did we know about each customer at the end
of day ``T``". It converts the ledger once (:mod:`features.prepared`), then processes
customers in partitions of contiguous codes; each partition is cut to what was known at
``T`` (:func:`features.point_in_time.known_at`, the only as-of filter) and aggregated with
``np.bincount``-style passes (:mod:`features.grouped`). No Python loop runs per customer.

Definitions (``T`` = as-of day; only invoices with a positive amount are receivables, credit
notes only count in ``credit_note_count_365d``):

* open amount of an invoice = amount minus the payments allocated to it so far (not below
  0); an invoice is open when it is issued and not yet settled;
* days past due = ``T - due_date``; aging buckets: current (<= 0), 1-30, 31-60, 61-90, 90+;
* days beyond terms of a settled invoice = ``max(settled_date - due_date, 0)``; late =
  settled after the due date; windows over settled invoices use the settlement date;
* payment delays (signed days from due date to payment), the recent dues (invoices that
  fell due in the last 30 / 60 days), the slow share and the last due delay are defined in
  :mod:`features.payment_delays`;
* overdue invoice count = open invoices more than 15 days past due; part-paid open invoices
  = open invoices with at least one payment allocated to them by ``T``;
* invoice count share = invoices issued in the last 90 days / in the last 365 days (about
  0.25 for a customer ordering steadily all year; ``NaN`` without invoices in the year);
* DSO = open balance / amount invoiced in the last 90 days x 90 (``NaN`` without sales);
* utilisation = open balance / credit limit (``NaN`` without a positive limit);
* broken promise = a ``promise_to_pay`` event on day ``d <= T - 14`` followed by no payment
  at all from the customer on days ``d .. d + 14``.

Undefined values (a mean over no invoices, a share of a zero balance) are ``NaN``, never 0;
counts and amounts of nothing are 0.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from creditrisk.features import point_in_time
from creditrisk.features.catalog import feature_names
from creditrisk.features.grouped import count_by, max_by, quantile_by, ratio, sum_by
from creditrisk.features.payment_delays import payment_delay_arrays
from creditrisk.features.prepared import (
    DAY_BITS,
    EVENT_CODES,
    NO_DAY,
    PreparedLedger,
    prepare_ledger,
)
from creditrisk.ledger.frame import Ledger

DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = DAYS_PER_YEAR / 12  # the one month length: credit need, tenure in months
PROMISE_GRACE_DAYS = 14
OVERDUE_COUNT_DAYS = 15
"""``overdue_over_15_invoice_count`` counts open invoices more than this many days past due."""
REMINDER_WINDOWS_DAYS = (30, 90, 365)
AGING_EDGES_DAYS = (1, 31, 61, 91)
"""Lower edges of the overdue buckets 1-30, 31-60, 61-90 and 90+ days past due."""
AGING_BUCKETS = ("current", "1_30", "31_60", "61_90", "over_90")


def build_features(
    ledger: Ledger, *, as_of: date | pd.Timestamp, partition_size: int = 200_000
) -> pd.DataFrame:
    """Customer features as known at the end of ``as_of``.

    One row per customer onboarded on or before ``as_of`` (in ``ledger.customers`` order),
    indexed by ``customer_id``, columns in catalog order (``feature_names("customer")``).
    Numeric features are ``float64``; ``industry`` and ``country`` are strings (see
    :mod:`models.spec` for the encoding models use). ``partition_size`` bounds the
    customers processed at once; it does not change the result.
    """
    day = point_in_time.as_of_day(as_of)
    prepared = prepare_ledger(ledger)
    frames = [
        feature_frame(prepared.partition(start, stop), day)
        for start, stop in prepared.partitions(partition_size)
    ]
    if not frames:
        return feature_frame(prepared, day)
    return pd.concat(frames) if len(frames) > 1 else frames[0]


def feature_frame(prepared: PreparedLedger, day: int) -> pd.DataFrame:
    """The feature frame of ``prepared``'s customers at the end of day ``day``."""
    known = point_in_time.known_at(prepared, day)
    numeric = customer_feature_arrays(known, day)
    rows = np.flatnonzero(known.onboarded_day < NO_DAY)
    data: dict[str, object] = {}
    for name in feature_names("customer"):
        if name == "customer_rating":  # the value in force at the end of ``day``
            codes = rows.astype(np.int32)
            until = np.full(len(rows), day + 1, dtype=np.int64)
            data[name] = known.ratings.value_before(codes, until).array
        elif name in known.static_categorical:
            data[name] = known.static_categorical[name].array.take(rows)
        else:
            data[name] = numeric[name][rows].astype(np.float64, copy=False)
    index = pd.Index(prepared.customer_ids.array.take(rows), name="customer_id")
    return pd.DataFrame(data, index=index)


def customer_feature_arrays(known: PreparedLedger, day: int) -> dict[str, np.ndarray]:
    """Every numeric customer feature for all codes of ``known`` (already cut at ``day``)."""
    n = known.n_customers
    paid, payment_count = _paid_per_invoice(known)
    out: dict[str, np.ndarray] = {}
    out.update(_tenure(known, day))
    out.update(_volume(known, day, n))
    is_open = _open_invoices(known, paid)
    out.update(_balances(known, day, n, paid, is_open))
    out.update(_lateness(known, day, n))
    out.update(payment_delay_arrays(known, day, n))
    out["dso_days"] = ratio(out["open_balance"], out["invoiced_amount_90d"]) * 90.0
    limit = np.nan_to_num(known.static_numeric["credit_limit"], nan=0.0)
    out["credit_utilisation"] = ratio(out["open_balance"], limit)
    out.update(_collections(known, day, n, is_open, payment_count))
    out.update(known.static_numeric)
    return out


def _tenure(known: PreparedLedger, day: int) -> dict[str, np.ndarray]:
    n = known.n_customers
    positive = known.invoice_amount > 0
    last_invoice = max_by(known.invoice_customer[positive], known.issue_day[positive], n, np.nan)
    last_payment = max_by(known.payment_customer, known.paid_day, n, np.nan)
    return {
        "days_since_onboarded": (day - known.onboarded_day).astype(np.float64),
        "company_age_years": (day - known.founded_day) / DAYS_PER_YEAR,
        "days_since_last_invoice": day - last_invoice,
        "days_since_last_payment": day - last_payment,
    }


def _volume(known: PreparedLedger, day: int, n: int) -> dict[str, np.ndarray]:
    code, amount, issue = known.invoice_customer, known.invoice_amount, known.issue_day
    out: dict[str, np.ndarray] = {}
    for window in (90, 365):
        sold = (amount > 0) & (issue > day - window)
        out[f"invoice_count_{window}d"] = count_by(code[sold], n)
        out[f"invoiced_amount_{window}d"] = sum_by(code[sold], amount[sold], n)
    recent = (amount > 0) & (issue > day - 30)
    out["invoice_count_30d"] = count_by(code[recent], n)
    out["invoice_count_share_90d"] = ratio(out["invoice_count_90d"], out["invoice_count_365d"])
    credit_note = (amount < 0) & (issue > day - 365)
    out["credit_note_count_365d"] = count_by(code[credit_note], n)
    return out


def _paid_per_invoice(known: PreparedLedger) -> tuple[np.ndarray, np.ndarray]:
    """Amount paid so far and number of payments, per invoice position."""
    allocated = known.payment_invoice >= 0
    target = known.payment_invoice[allocated]
    paid = np.bincount(target, weights=known.payment_amount[allocated], minlength=known.n_invoices)
    count = np.bincount(target, minlength=known.n_invoices)
    return paid, count


def _balances(
    known: PreparedLedger, day: int, n: int, paid: np.ndarray, is_open: np.ndarray
) -> dict[str, np.ndarray]:
    open_amount = np.maximum(known.invoice_amount - paid, 0.0)
    code = known.invoice_customer[is_open]
    amount = open_amount[is_open]
    days_past_due = day - known.due_day[is_open].astype(np.int64)
    bucket = np.searchsorted(np.asarray(AGING_EDGES_DAYS), days_past_due, side="right")
    by_bucket = sum_by(code * len(AGING_BUCKETS) + bucket, amount, n * len(AGING_BUCKETS))
    by_bucket = by_bucket.reshape(n, len(AGING_BUCKETS))
    overdue = days_past_due > 0
    out = {
        "open_balance": sum_by(code, amount, n),
        "overdue_balance": sum_by(code[overdue], amount[overdue], n),
    }
    for i, bucket_name in enumerate(AGING_BUCKETS):
        out[f"aging_{bucket_name}_amount"] = by_bucket[:, i].copy()
    for bucket_name in AGING_BUCKETS:
        out[f"aging_{bucket_name}_share"] = ratio(
            out[f"aging_{bucket_name}_amount"], out["open_balance"]
        )
    out["worst_days_past_due"] = max_by(code[overdue], days_past_due[overdue], n, 0.0)
    out["overdue_over_15_invoice_count"] = count_by(code[days_past_due > OVERDUE_COUNT_DAYS], n)
    return out


def _lateness(known: PreparedLedger, day: int, n: int) -> dict[str, np.ndarray]:
    settled = (known.invoice_amount > 0) & (known.settled_day < NO_DAY)
    in_year = settled & (known.settled_day > day - 365)
    code = known.invoice_customer[in_year]
    amount = known.invoice_amount[in_year]
    settled_day = known.settled_day[in_year].astype(np.int64)
    beyond_terms = np.maximum(settled_day - known.due_day[in_year], 0)
    count = count_by(code, n)
    recent = settled_day > day - 90
    before = ~recent & (settled_day > day - 180)
    mean_recent = ratio(sum_by(code[recent], beyond_terms[recent], n), count_by(code[recent], n))
    mean_before = ratio(sum_by(code[before], beyond_terms[before], n), count_by(code[before], n))
    disputed = known.disputed[in_year]
    return {
        "settled_invoice_count_365d": count,
        "late_share_365d": ratio(count_by(code[beyond_terms > 0], n), count),
        "days_beyond_terms_mean_365d": ratio(sum_by(code, beyond_terms, n), count),
        "days_beyond_terms_weighted_365d": ratio(
            sum_by(code, amount * beyond_terms, n), sum_by(code, amount, n)
        ),
        "days_beyond_terms_p90_365d": quantile_by(code, beyond_terms, n, 0.9),
        "days_beyond_terms_trend_90d": mean_recent - mean_before,
        "disputed_settled_invoice_count_365d": count_by(code[disputed], n),
    }


def _collections(
    known: PreparedLedger, day: int, n: int, is_open: np.ndarray, payment_count: np.ndarray
) -> dict[str, np.ndarray]:
    code, event_day, kind = known.event_customer, known.event_day, known.event_type
    in_year = event_day > day - 365
    reminder = kind == EVENT_CODES["reminder"]
    dispute = in_year & (kind == EVENT_CODES["dispute"])
    out = {
        "dispute_count_365d": count_by(code[dispute], n),
        "dispute_count_90d": count_by(code[dispute & (event_day > day - 90)], n),
    }
    for window in REMINDER_WINDOWS_DAYS:
        out[f"reminder_count_{window}d"] = count_by(code[reminder & (event_day > day - window)], n)
    promise = (
        in_year & (kind == EVENT_CODES["promise_to_pay"]) & (event_day <= day - PROMISE_GRACE_DAYS)
    )
    out["broken_promise_count_365d"] = count_by(
        code[promise][_no_payment_within_grace(known, code[promise], event_day[promise])], n
    )
    instalments = (known.invoice_amount > 0) & (known.issue_day > day - 365) & (payment_count >= 2)
    out["partially_paid_invoice_count_365d"] = count_by(known.invoice_customer[instalments], n)
    part_paid_open = is_open & (payment_count >= 1)
    out["open_part_paid_invoice_count"] = count_by(known.invoice_customer[part_paid_open], n)
    return out


def _open_invoices(known: PreparedLedger, paid: np.ndarray) -> np.ndarray:
    """Which invoices are open at the cut: a sale, not settled, with an amount still owed."""
    amount = known.invoice_amount
    is_open: np.ndarray = (amount > 0) & (known.settled_day == NO_DAY) & (amount - paid > 0)
    return is_open


def _no_payment_within_grace(
    known: PreparedLedger, code: np.ndarray, promise_day: np.ndarray
) -> np.ndarray:
    """For each promise, whether the customer paid nothing on days ``d .. d + 14``."""
    paid_keys = np.sort(
        (known.payment_customer.astype(np.int64) << DAY_BITS) | known.paid_day.astype(np.int64)
    )
    base = code.astype(np.int64) << DAY_BITS
    first = np.searchsorted(paid_keys, base | promise_day, side="left")
    last = np.searchsorted(paid_keys, base | (promise_day + PROMISE_GRACE_DAYS), side="right")
    kept: np.ndarray = last == first
    return kept
