"""Invoice features for the late-payment model: what was known when the prediction is made.

Two prediction moments:

* ``as_of=None``: every invoice (positive amount) at its own issue date. The customer's
  history uses only records dated strictly before the issue date: invoices settled before
  it, payments and invoices before it. Invoices issued the same day are not history.
* ``as_of=T``: the invoices open at the end of ``T`` (issued on or before ``T``, not settled
  by then, positive amount), with the customer's history up to and including ``T`` (so the
  invoice itself is part of the customer's open balance).

An invoice's own outcome (its ``settled_date``, its ``disputed`` flag, its payments) is
known only later and never feeds its own features; ``disputed`` is not used at all here.
What happened to the invoice itself by the prediction date does: the share already paid by
partial payments, the reminders sent for it and whether a dispute was raised on it (dated
credit events naming the invoice). At issue these use records strictly before the issue
day (so they are 0); as of ``T``, records dated up to and including ``T``.

History is read from :class:`~features.running_totals.RunningTotals` (sorted running sums
per customer), so each invoice gets its own cut-off day without a loop. Open and overdue
balances are written as signed changes on the days they take effect: ``+amount`` when an
invoice is issued (overdue: the day after its due date), ``-payment`` when a payment is
received (not before the invoice exists), ``-remaining`` when the invoice is settled. This
equals the customer features' open balance whenever payments before settlement never
exceed the invoice amount (always so for settled dates derived from payments).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from creditrisk.features import point_in_time
from creditrisk.features.catalog import INVOICE_ID_COLUMNS, dimension_feature, feature_names
from creditrisk.features.grouped import ratio
from creditrisk.features.prepared import (
    EPOCH,
    NO_DAY,
    PreparedLedger,
    day_numbers,
    prepare_ledger,
)
from creditrisk.features.running_totals import RunningTotals, to_cents
from creditrisk.ledger.dimensions import decode_dimensions
from creditrisk.ledger.frame import INVOICE_DIMENSIONS, Ledger

RECENT_SETTLED_INVOICES = 5
"""How many of the customer's latest settled invoices ``recent_days_beyond_terms_mean`` uses."""
QUARTER_END_DAYS = 14
DAYS_PER_YEAR = 365.25


def build_invoice_features(
    ledger: Ledger, *, as_of: date | pd.Timestamp | None = None, partition_size: int = 200_000
) -> pd.DataFrame:
    """Invoice features at issue (``as_of=None``) or for the invoices open at ``as_of``.

    Columns: ``invoice_id, customer_id, issue_date, due_date, amount`` and then the catalog's
    invoice features (``feature_names("invoice")``), then ``dim_<name>`` for each extra
    dimension the invoices carry (:func:`features.catalog.dimension_feature`; an invoice
    without it: missing); rows in ledger order. Customers are
    processed ``partition_size`` at a time; the partition size never changes the result.
    """
    as_of_day = None if as_of is None else point_in_time.as_of_day(as_of)
    return _features_frame(ledger, _Indexed.build(ledger, partition_size), as_of_day)


def build_open_invoice_features(
    ledger: Ledger, *, as_of_dates: Sequence[date | pd.Timestamp], partition_size: int = 200_000
) -> pd.DataFrame:
    """``build_invoice_features(ledger, as_of=T)`` for every ``T`` of ``as_of_dates``, stacked
    with a leading ``as_of`` column; the ledger is indexed once for all dates."""
    indexed = _Indexed.build(ledger, partition_size)
    frames = []
    for as_of in as_of_dates:
        frame = _features_frame(ledger, indexed, point_in_time.as_of_day(as_of))
        frame.insert(0, "as_of", pd.Timestamp(as_of).normalize())
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["as_of", *INVOICE_ID_COLUMNS, *feature_names("invoice")])
    out = pd.concat(frames, ignore_index=True)
    out["as_of"] = out["as_of"].astype("datetime64[ns]")
    return out


def invoice_feature_arrays(
    prepared: PreparedLedger, as_of_day: int | None
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The numeric invoice features of one prepared ledger (a partition, or one customer's
    own): ledger rows of the invoices chosen (as in :func:`build_invoice_features`) in
    ledger order, and per numeric feature its values for those rows. The one-customer path
    (:mod:`features.one_customer`) reads its numbers from here."""
    rows, values, _ = _partition_features(prepared, _totals(prepared), as_of_day)
    order = np.argsort(rows, kind="stable")
    return rows[order], {name: v[order].astype(np.float64, copy=False)
                         for name, v in values.items()}


@dataclass(frozen=True)
class _Totals:
    """A partition's running totals, the same for every prediction date."""

    issued: RunningTotals
    settlements: RunningTotals
    open_balance: RunningTotals
    overdue_balance: RunningTotals


@dataclass(frozen=True)
class _OwnEvents:
    """Reminders and disputes naming an invoice of the same customer: ledger row, day, kind."""

    row: np.ndarray
    day: np.ndarray
    is_reminder: np.ndarray
    is_dispute: np.ndarray
    n_invoices: int


@dataclass(frozen=True)
class _Indexed:
    """The ledger prepared once: partitions with their totals and the invoices' own events."""

    prepared: PreparedLedger
    parts: list[tuple[PreparedLedger, _Totals]]
    events: _OwnEvents

    @classmethod
    def build(cls, ledger: Ledger, partition_size: int) -> _Indexed:
        prepared = prepare_ledger(ledger)
        parts = []
        for start, stop in prepared.partitions(partition_size):
            part = prepared.partition(start, stop)
            parts.append((part, _totals(part)))
        return cls(prepared, parts, _own_events(ledger))


def _features_frame(ledger: Ledger, indexed: _Indexed, as_of_day: int | None) -> pd.DataFrame:
    parts = [_partition_features(part, totals, as_of_day) for part, totals in indexed.parts]
    prepared = indexed.prepared
    rows = np.concatenate([p[0] for p in parts]) if parts else np.empty(0, np.int64)
    order = np.argsort(rows, kind="stable")
    rows = rows[order]
    invoices = ledger.invoices
    frame = pd.DataFrame(
        {c: invoices[c].array.take(rows) for c in INVOICE_ID_COLUMNS},
        index=pd.RangeIndex(len(rows)),
    )
    own_events = _event_counts(indexed.events, rows, frame["issue_date"], as_of_day)
    codes = np.concatenate([p[2] for p in parts])[order] if parts else np.empty(0, np.int64)
    for name in feature_names("invoice"):
        if name in own_events:
            frame[name] = own_events[name]
        elif name == "customer_rating":
            frame[name] = _rating(prepared, codes, frame["issue_date"], as_of_day)
        elif name in INVOICE_DIMENSIONS:
            frame[name] = invoices[name].astype("string").array.take(rows)
        elif name in prepared.static_categorical:
            frame[name] = prepared.static_categorical[name].array.take(codes)
        else:
            values = np.concatenate([p[1][name] for p in parts]) if parts else np.empty(0)
            frame[name] = values[order].astype(np.float64, copy=False)
    extra = decode_dimensions(invoices["dimensions"].array.take(rows))  # dim_<name>
    for name in extra.columns:
        frame[dimension_feature(name).name] = extra[name].array
    return frame


def _rating(
    prepared: PreparedLedger, codes: np.ndarray, issue_dates: pd.Series, as_of_day: int | None
) -> pd.arrays.StringArray:
    """The customer's rating in force before the prediction: valid from a day strictly
    before the issue day (at issue), or on or before ``as_of_day``."""
    if as_of_day is None:
        until = day_numbers(issue_dates, table="invoices", column="issue_date").astype(np.int64)
    else:
        until = np.full(len(codes), as_of_day + 1, dtype=np.int64)
    values: pd.arrays.StringArray = prepared.ratings.value_before(codes, until).array
    return values


def _partition_features(
    part: PreparedLedger, totals: _Totals, as_of_day: int | None
) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Ledger rows, numeric features and global customer codes of the partition's invoices."""
    positive = part.invoice_amount > 0
    if as_of_day is None:
        chosen = positive & (part.issue_day < NO_DAY)
        predicted_on = part.issue_day[chosen].astype(np.int64)
        history_until = predicted_on  # strictly before the issue day
    else:
        chosen = positive & (part.issue_day <= as_of_day) & (part.settled_day > as_of_day)
        predicted_on = np.full(int(chosen.sum()), as_of_day, dtype=np.int64)
        history_until = predicted_on + 1  # up to and including the as-of day
    code = part.invoice_customer[chosen]
    out, prior_mean_amount = _history(totals, code, history_until)
    out.update(_invoice_attributes(part, chosen, predicted_on, prior_mean_amount))
    out["invoice_paid_share"] = _paid_share(part, chosen, history_until)
    onboarded = part.onboarded_day[code].astype(np.float64)
    onboarded[part.onboarded_day[code] == NO_DAY] = np.nan
    out["customer_tenure_days"] = predicted_on - onboarded
    out["company_age_years"] = (predicted_on - part.founded_day[code]) / DAYS_PER_YEAR
    for name, values in part.static_numeric.items():
        out[name] = values[code]
    return part.invoice_row[chosen], out, code.astype(np.int64) + part.code_offset


def _totals(part: PreparedLedger) -> _Totals:
    positive = part.invoice_amount > 0
    cents = to_cents(part.invoice_amount)
    issued = RunningTotals.build(
        part.invoice_customer[positive], part.issue_day[positive], {"cents": cents[positive]}
    )
    settled = positive & (part.settled_day < NO_DAY)
    beyond_terms = np.maximum(part.settled_day[settled].astype(np.int64) - part.due_day[settled], 0)
    settlements = RunningTotals.build(
        part.invoice_customer[settled],
        part.settled_day[settled],
        {"late": (beyond_terms > 0).astype(np.int64), "beyond_terms": beyond_terms},
    )
    return _Totals(issued, settlements, _balance_changes(part, overdue=False),
                   _balance_changes(part, overdue=True))


def _history(
    totals: _Totals, code: np.ndarray, until: np.ndarray
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The customer's history strictly before day ``until``, per chosen invoice, and the
    mean amount of the customer's invoices before then."""
    issued = totals.issued
    first = issued.first(code)
    end = issued.before(code, until)
    count = (end - first).astype(np.float64)
    prior_sum = issued.between("cents", first, end) / 100.0
    out = {
        "prior_invoice_count": count,
        "prior_invoice_count_90d": (end - issued.before(code, until - 90)).astype(np.float64),
    }
    prior_mean_amount = ratio(prior_sum, count)

    settlements = totals.settlements
    first = settlements.first(code)
    end = settlements.before(code, until)
    n_settled = (end - first).astype(np.float64)
    recent_start = np.maximum(end - RECENT_SETTLED_INVOICES, first)
    out["prior_settled_invoice_count"] = n_settled
    out["prior_late_share"] = ratio(settlements.between("late", first, end), n_settled)
    out["prior_days_beyond_terms_mean"] = ratio(
        settlements.between("beyond_terms", first, end), n_settled
    )
    out["recent_days_beyond_terms_mean"] = ratio(
        settlements.between("beyond_terms", recent_start, end),
        (end - recent_start).astype(np.float64),
    )

    open_balance, overdue_balance = totals.open_balance, totals.overdue_balance
    out["open_balance"] = (
        open_balance.between("cents", open_balance.first(code), open_balance.before(code, until))
        / 100.0
    )
    out["overdue_balance"] = (
        overdue_balance.between(
            "cents", overdue_balance.first(code), overdue_balance.before(code, until)
        )
        / 100.0
    )
    out["overdue_share"] = ratio(out["overdue_balance"], out["open_balance"])
    return out, prior_mean_amount


def _balance_changes(part: PreparedLedger, *, overdue: bool) -> RunningTotals:
    """Signed changes of the customer's open (or overdue) balance, on the day each applies.

    Open balance at day T = sum of open invoice amounts minus their payments so far:
    ``+a`` from the issue day (overdue: from the day after the due date), ``-a`` from the
    settlement day, ``-p`` from the day a payment is received (not before the invoice
    counts), ``+p`` back from the settlement day (the settlement already removed ``a``).
    """
    positive = part.invoice_amount > 0
    start = (part.due_day.astype(np.int64) + 1) if overdue else part.issue_day.astype(np.int64)
    start = np.maximum(start, part.issue_day)
    settled = part.settled_day.astype(np.int64)
    cents = to_cents(part.invoice_amount)

    allocated = part.payment_invoice >= 0
    invoice = part.payment_invoice[allocated]
    on_positive = positive[invoice]
    invoice = invoice[on_positive]
    pay_cents = to_cents(part.payment_amount[allocated][on_positive])
    pay_day = np.maximum(part.paid_day[allocated][on_positive].astype(np.int64), start[invoice])

    codes = np.concatenate(
        [
            part.invoice_customer[positive],
            part.invoice_customer[positive],
            part.invoice_customer[invoice],
            part.invoice_customer[invoice],
        ]
    )
    days = np.concatenate(
        [
            start[positive],
            np.maximum(start, settled)[positive],
            pay_day,
            np.maximum(pay_day, settled[invoice]),
        ]
    )
    changes = np.concatenate([cents[positive], -cents[positive], -pay_cents, pay_cents])
    return RunningTotals.build(codes, days, {"cents": changes})


def _invoice_attributes(
    part: PreparedLedger,
    chosen: np.ndarray,
    predicted_on: np.ndarray,
    prior_mean_amount: np.ndarray,
) -> dict[str, np.ndarray]:
    amount = part.invoice_amount[chosen]
    issue = part.issue_day[chosen].astype(np.int64)
    due = part.due_day[chosen].astype(np.int64)
    month, day_of_month, days_in_month, weekday = calendar_of(issue)
    last_month_of_quarter = month % 3 == 0
    days_left_in_month = days_in_month - day_of_month
    return {
        "invoice_amount": amount,
        "log_invoice_amount": np.log1p(amount),
        "amount_vs_customer_mean": ratio(amount, prior_mean_amount),
        "terms_days": (due - issue).astype(np.float64),
        "issue_month": month.astype(np.float64),
        "issue_weekday": weekday.astype(np.float64),
        "issued_at_quarter_end": (
            last_month_of_quarter & (days_left_in_month < QUARTER_END_DAYS)
        ).astype(np.float64),
        "days_since_issue": (predicted_on - issue).astype(np.float64),
        "days_to_due": (due - predicted_on).astype(np.float64),
    }


def calendar_of(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Month (1-12), day of month, days in that month and weekday (Monday 0) of day numbers
    (real dates, not ``NO_DAY``): the calendar pandas' ``DatetimeIndex`` gives, in numpy
    (1900-01-01, day 0, was a Monday)."""
    dates = EPOCH + days.astype(np.int64).astype("timedelta64[D]")
    months = dates.astype("datetime64[M]")
    month = (months - dates.astype("datetime64[Y]").astype("datetime64[M]")).astype(np.int64) + 1
    first = months.astype("datetime64[D]")
    day_of_month = (dates - first).astype(np.int64) + 1
    days_in_month = ((months + 1).astype("datetime64[D]") - first).astype(np.int64)
    weekday = days.astype(np.int64) % 7
    return month, day_of_month, days_in_month, weekday


def _paid_share(part: PreparedLedger, chosen: np.ndarray, until: np.ndarray) -> np.ndarray:
    """Share of each chosen invoice paid by payments dated strictly before ``until``
    (payments allocated to the invoice; capped at 1)."""
    limit = np.full(part.invoice_amount.shape[0], -1, dtype=np.int64)
    limit[chosen] = until
    allocated = part.payment_invoice >= 0
    invoice = part.payment_invoice[allocated].astype(np.int64)
    known = part.paid_day[allocated].astype(np.int64) < limit[invoice]
    paid = np.bincount(
        invoice[known], weights=np.nan_to_num(part.payment_amount[allocated][known]),
        minlength=limit.shape[0],
    )
    share: np.ndarray = np.clip(ratio(paid[chosen], part.invoice_amount[chosen]), 0.0, 1.0)
    return share


def _own_events(ledger: Ledger) -> _OwnEvents:
    """Credit events of type reminder or dispute naming an invoice of the same customer."""
    events = ledger.credit_events
    all_kinds = events["event_type"].astype("string").to_numpy(dtype=object, na_value="")
    wanted = np.isin(all_kinds, ["reminder", "dispute"]) & events["invoice_id"].notna().to_numpy(
        dtype=bool
    )
    relevant = events[wanted]
    kinds = all_kinds[wanted]
    invoices = ledger.invoices
    position = pd.Series(np.arange(len(invoices)), index=invoices["invoice_id"].astype("string"))
    position = position[~position.index.duplicated(keep="first")]
    target = position.reindex(relevant["invoice_id"].astype("string")).to_numpy(dtype=np.float64)
    owner_ok = ~np.isnan(target)
    target_row = np.where(owner_ok, target, 0).astype(np.int64)
    owner_ok &= (
        invoices["customer_id"].astype("string").to_numpy(dtype=object)[target_row]
        == relevant["customer_id"].astype("string").to_numpy(dtype=object)
    )
    event_day = day_numbers(relevant["event_date"], table="credit_events", column="event_date")
    return _OwnEvents(
        row=target_row[owner_ok],
        day=event_day[owner_ok].astype(np.int64),
        is_reminder=(kinds == "reminder")[owner_ok],
        is_dispute=(kinds == "dispute")[owner_ok],
        n_invoices=len(invoices),
    )


def _event_counts(
    events: _OwnEvents, rows: np.ndarray, issue_dates: pd.Series, as_of_day: int | None
) -> dict[str, np.ndarray]:
    """Reminders sent for and disputes raised on each invoice (ledger ``rows``) before the
    prediction moment: strictly before the issue day, or up to and including ``as_of_day``."""
    if as_of_day is None:
        until_of_row = day_numbers(issue_dates, table="invoices", column="issue_date")
    else:
        until_of_row = np.full(len(rows), as_of_day + 1, dtype=np.int64)
    limit = np.full(events.n_invoices, -1, dtype=np.int64)
    limit[rows] = until_of_row
    known = events.day < limit[events.row]
    n = events.n_invoices
    reminders = np.bincount(events.row[events.is_reminder & known], minlength=n)[rows]
    disputes = np.bincount(events.row[events.is_dispute & known], minlength=n)[rows]
    return {
        "invoice_reminder_count": reminders.astype(np.float64),
        "invoice_disputed": (disputes > 0).astype(np.float64),
    }
