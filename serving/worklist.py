"""The collections worklist: one row per customer with overdue or soon-due money, and what to do.

A collector works customers, not invoices. For each customer with money overdue at ``T`` or
falling due within the next ``horizon_days`` (30 by default) the row says, as known at the
end of ``T``:

* its **grade and PD** (grade ``D`` and PD 1 in default, :mod:`creditrisk.serving.rating`);
* **overdue amount** (open amount of invoices past due) and **oldest days past due**;
* **soon-due amount**: open amount of invoices due in ``(T, T + horizon_days]``;
* **expected overdue in the next 30 days**: the overdue amount plus, for each invoice due in
  that window, p_late x open amount (``p_late`` from the bundle's open-invoice prediction,
  conditional on the invoice being open at ``T``);
* **next expected payment**: the earliest expected payment date (p50) of its open invoices,
  always after ``T``;
* **open disputes**: open invoices with a ``dispute`` event dated on or before ``T``;
* **promises to pay** in the last 365 days and whether they were **kept**: a promise dated
  ``d`` is kept when the customer paid anything on days ``d .. d + PROMISE_GRACE_DAYS`` (the
  feature catalog's rule, :data:`creditrisk.features.customer.PROMISE_GRACE_DAYS`), broken
  when that window has passed without a payment, pending while it is still open;
* **last reminder** date;
* a **next step by dunning stage**, from the oldest days past due (thresholds in
  :class:`DunningStages`, configured in the service settings, see ``docs/service.md``):
  ``reminder`` -> ``call`` -> ``hold_deliveries`` -> ``hand_to_collections`` ->
  ``write_off_review``.

Customers in default are their own section (their next step is ``hand_to_collections``, or
``write_off_review`` once past the write-off threshold or after an insolvency or write-off
event). Rows are sorted by priority: expected overdue in the next 30 days (money at stake),
largest first, then oldest days past due, then customer id. No expected payment date is ever
on or before ``T``: those come from the open-invoice prediction, which never answers one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

import numpy as np
import pandas as pd

from creditrisk.features.customer import PROMISE_GRACE_DAYS
from creditrisk.ledger.frame import DEFAULT_EVENT_TYPES, Ledger

HORIZON_DAYS: Final = 30
PROMISE_LOOKBACK_DAYS: Final = 365
NEXT_STEPS: Final = (
    "reminder", "call", "hold_deliveries", "hand_to_collections", "write_off_review",
)
FACT_COLUMNS: Final = (
    "open_disputes", "promises_365d", "promises_kept", "promises_broken", "promises_pending",
    "last_promise_date", "last_reminder_date", "default_event",
)


@dataclass(frozen=True)
class DunningStages:
    """Days past due (of the oldest overdue invoice) at which the next step escalates."""

    call_from_days: int = 15
    hold_deliveries_from_days: int = 31
    collections_from_days: int = 61
    write_off_review_from_days: int = 181

    def __post_init__(self) -> None:
        steps = (
            self.call_from_days, self.hold_deliveries_from_days, self.collections_from_days,
            self.write_off_review_from_days,
        )
        if steps[0] < 1 or list(steps) != sorted(set(steps)):
            raise ValueError(f"dunning thresholds must be increasing and positive, got {steps}")

    def next_step(self, oldest_days_past_due: np.ndarray) -> np.ndarray:
        """The step per row for customers not in default."""
        bins = [
            self.call_from_days, self.hold_deliveries_from_days, self.collections_from_days,
            self.write_off_review_from_days,
        ]
        stage = np.digitize(np.asarray(oldest_days_past_due, dtype=np.float64), bins)
        return np.asarray(NEXT_STEPS, dtype=object)[stage]


def collection_facts(ledger: Ledger, *, as_of: date) -> pd.DataFrame:
    """Per customer (index customer_id, only those with any fact): :data:`FACT_COLUMNS`.

    Uses only what is known at the end of ``as_of``: events and payments dated on or before
    it, invoices still open at it.
    """
    stamp = pd.Timestamp(as_of)
    events = ledger.credit_events
    events = events.loc[events["event_date"] <= stamp]
    kind = events["event_type"]

    invoices = ledger.invoices
    open_ids = invoices.loc[
        (invoices["issue_date"] <= stamp)
        & (invoices["settled_date"].isna() | (invoices["settled_date"] > stamp)),
        "invoice_id",
    ]
    # membership tested against the few disputed ids (isin converts its values one by one)
    dispute_events = events.loc[kind == "dispute"]
    disputed = open_ids.loc[open_ids.isin(dispute_events["invoice_id"].dropna().unique())]
    disputes = dispute_events.loc[dispute_events["invoice_id"].isin(disputed)]
    open_disputes = disputes.groupby("customer_id")["invoice_id"].nunique()

    reminders = events.loc[kind == "reminder"]
    last_reminder = reminders.groupby("customer_id")["event_date"].max()

    since = stamp - pd.Timedelta(days=PROMISE_LOOKBACK_DAYS)
    promises = events.loc[(kind == "promise_to_pay") & (events["event_date"] > since)]
    status = promise_status(ledger, promises, as_of=as_of)
    promise_counts = (
        status.groupby([promises["customer_id"].to_numpy(), status.to_numpy()])
        .size()
        .unstack(fill_value=0)
        .reindex(columns=["kept", "broken", "pending"], fill_value=0)
    )
    last_promise = promises.groupby("customer_id")["event_date"].max()

    defaulted = events.loc[kind.isin(DEFAULT_EVENT_TYPES)].groupby("customer_id").size() > 0

    ids = (
        open_disputes.index.union(last_reminder.index).union(last_promise.index)
        .union(defaulted.index)
    )
    facts = pd.DataFrame(index=pd.Index(ids, name="customer_id"))
    facts["open_disputes"] = open_disputes.reindex(ids).fillna(0).astype(np.int64)
    facts["promises_365d"] = (
        promise_counts.sum(axis=1).reindex(ids).fillna(0).astype(np.int64)
    )
    for label in ("kept", "broken", "pending"):
        facts[f"promises_{label}"] = (
            promise_counts[label].reindex(ids).fillna(0).astype(np.int64)
        )
    facts["last_promise_date"] = last_promise.reindex(ids)
    facts["last_reminder_date"] = last_reminder.reindex(ids)
    facts["default_event"] = defaulted.reindex(ids).fillna(False).astype(bool)
    return facts[list(FACT_COLUMNS)]


def promise_status(ledger: Ledger, promises: pd.DataFrame, *, as_of: date) -> pd.Series:
    """Per promise row: ``kept`` (a payment by the customer on days d .. d + grace, on or
    before ``as_of``), ``pending`` (window still open, nothing paid yet) or ``broken``.

    One ``merge_asof`` finds each promise's first payment on or after its date (no
    promise x payment product)."""
    if promises.empty:
        return pd.Series([], dtype=object, index=promises.index)
    stamp = pd.Timestamp(as_of)
    payments = ledger.payments
    payments = payments.loc[payments["paid_on"] <= stamp, ["customer_id", "paid_on"]]
    left = promises[["customer_id", "event_date"]].assign(_row=np.arange(len(promises)))
    first_paid = pd.merge_asof(
        left.sort_values("event_date", kind="stable"),
        payments.sort_values("paid_on", kind="stable"),
        left_on="event_date",
        right_on="paid_on",
        by="customer_id",
        direction="forward",
    ).sort_values("_row")["paid_on"]
    grace = pd.Timedelta(days=PROMISE_GRACE_DAYS)
    deadline = promises["event_date"].to_numpy() + grace.to_timedelta64()
    paid_on = first_paid.to_numpy()
    kept = ~pd.isna(paid_on) & (paid_on <= deadline)
    window_open = deadline > stamp.to_datetime64()
    out = np.where(kept, "kept", np.where(window_open, "pending", "broken"))
    return pd.Series(out, index=promises.index, dtype=object)


@dataclass(frozen=True)
class Worklist:
    """The two sections of the worklist, each sorted by priority."""

    as_of: date
    active: pd.DataFrame
    """Customers not in default with overdue or soon-due money (columns :data:`COLUMNS`)."""
    in_default: pd.DataFrame
    """Customers in default with open money (same columns)."""


COLUMNS: Final = (
    "customer_id", "grade", "pd_12m", "in_default", "open_amount", "overdue_amount",
    "oldest_days_past_due", "soon_due_amount", "expected_overdue_30d", "next_expected_payment",
    "open_disputes",
    "promises_365d", "promises_kept", "promises_broken", "promises_pending",
    "last_promise_date", "last_reminder_date", "next_step",
)


def invoice_outlook(
    invoices: pd.DataFrame, *, as_of: date, horizon_days: int = HORIZON_DAYS
) -> pd.DataFrame:
    """Per open invoice (open-invoice predictions, ``open_invoices.INVOICE_PREDICTION_COLUMNS``):
    customer_id, open, overdue and soon-due amounts, days past due when overdue, expected
    overdue in the next ``horizon_days`` (the module docstring's definition) and the expected
    payment date (p50). The worklist and the batch rescoring both sum it per customer.
    """
    stamp = pd.Timestamp(as_of)
    due = pd.to_datetime(invoices["due_date"])
    open_amount = invoices["open_amount"].to_numpy(np.float64)
    overdue = (due < stamp).to_numpy(bool) & (open_amount > 0)
    soon = (
        ((due >= stamp) & (due <= stamp + pd.Timedelta(days=horizon_days))).to_numpy(bool)
        & (open_amount > 0)
        & ~overdue
    )
    p_late = invoices["p_late"].to_numpy(np.float64)
    return pd.DataFrame(
        {
            "customer_id": invoices["customer_id"].astype(str).to_numpy(),
            "open_amount": open_amount,
            "overdue_amount": np.where(overdue, open_amount, 0.0),
            "oldest_days_past_due": np.where(
                overdue, invoices["days_past_due"].to_numpy(np.float64), 0.0
            ),
            "soon_due_amount": np.where(soon, open_amount, 0.0),
            "expected_overdue_30d": np.where(
                overdue, open_amount, np.where(soon, p_late * open_amount, 0.0)
            ),
            "next_expected_payment": pd.to_datetime(invoices["expected_payment_p50"]).to_numpy(),
        }
    )


def build_worklist(
    customers: pd.DataFrame,
    invoices: pd.DataFrame,
    facts: pd.DataFrame,
    *,
    as_of: date,
    stages: DunningStages,
    horizon_days: int = HORIZON_DAYS,
) -> Worklist:
    """The worklist from rated customers (index customer_id; ``pd_12m``, ``grade``,
    ``in_default``), open-invoice predictions (``open_invoices.INVOICE_PREDICTION_COLUMNS``)
    and :func:`collection_facts`."""
    sums = customer_outlook(invoices, as_of=as_of, horizon_days=horizon_days)
    return assemble_worklist(sums, customers, facts, as_of=as_of, stages=stages)


OUTLOOK_COLUMNS: Final = (
    "open_amount", "overdue_amount", "oldest_days_past_due", "soon_due_amount",
    "expected_overdue_30d", "next_expected_payment",
)


def customer_outlook(
    invoices: pd.DataFrame, *, as_of: date, horizon_days: int = HORIZON_DAYS
) -> pd.DataFrame:
    """Per customer with open invoices (index customer_id): :data:`OUTLOOK_COLUMNS`, the
    sums of :func:`invoice_outlook` (the batch rescoring stores them per customer)."""
    per_invoice = invoice_outlook(invoices, as_of=as_of, horizon_days=horizon_days)
    return per_invoice.groupby("customer_id").agg(
        open_amount=("open_amount", "sum"),
        overdue_amount=("overdue_amount", "sum"),
        oldest_days_past_due=("oldest_days_past_due", "max"),
        soon_due_amount=("soon_due_amount", "sum"),
        expected_overdue_30d=("expected_overdue_30d", "sum"),
        next_expected_payment=("next_expected_payment", "min"),
    )


def assemble_worklist(
    sums: pd.DataFrame,
    customers: pd.DataFrame,
    facts: pd.DataFrame,
    *,
    as_of: date,
    stages: DunningStages,
) -> Worklist:
    """The worklist from per-customer outlook sums (:func:`customer_outlook`, or a rescoring
    run's stored ones), rated customers and collection facts."""
    rated = customers.copy()
    rated.index = rated.index.astype(str)
    rows = sums.join(rated[["grade", "pd_12m", "in_default"]], how="inner")
    known_facts = facts.copy()
    known_facts.index = known_facts.index.astype(str)
    rows = rows.join(known_facts, how="left")
    for column in ("open_disputes", "promises_365d", "promises_kept", "promises_broken",
                   "promises_pending"):
        rows[column] = rows[column].fillna(0).astype(np.int64)
    rows["default_event"] = rows["default_event"].fillna(False).astype(bool)
    rows["in_default"] = rows["in_default"].astype(bool)
    steps = stages.next_step(rows["oldest_days_past_due"].to_numpy(np.float64))
    review = rows["default_event"].to_numpy(bool) | (
        rows["oldest_days_past_due"].to_numpy(np.float64) >= stages.write_off_review_from_days
    )
    rows["next_step"] = np.where(
        rows["in_default"].to_numpy(bool),
        np.where(review, "write_off_review", "hand_to_collections"),
        steps,
    )
    rows = rows.reset_index(names="customer_id")
    rows = rows.sort_values(
        ["expected_overdue_30d", "oldest_days_past_due", "customer_id"],
        ascending=[False, False, True],
        kind="stable",
    )
    has_money = (rows["overdue_amount"] > 0) | (rows["soon_due_amount"] > 0)
    defaulted = rows["in_default"].to_numpy(bool)
    active = rows.loc[has_money & ~defaulted, list(COLUMNS)].reset_index(drop=True)
    in_default = rows.loc[defaulted & (rows["open_amount"] > 0), list(COLUMNS)]
    return Worklist(as_of=as_of, active=active, in_default=in_default.reset_index(drop=True))


MONEY_COLUMNS: Final = ("open_amount", "overdue_amount", "soon_due_amount", "expected_overdue_30d")
DATE_COLUMNS: Final = ("next_expected_payment", "last_promise_date", "last_reminder_date")


def worklist_records(rows: pd.DataFrame) -> list[dict[str, object]]:
    """Worklist rows as plain dicts for answers: money in cents, dates as ``datetime.date``
    (None when unknown), days as int."""
    records: list[dict[str, object]] = []
    for row in rows.to_dict(orient="records"):
        out = dict(row)
        for column in MONEY_COLUMNS:
            out[column] = round(float(row[column]), 2)
        for column in DATE_COLUMNS:
            value = row[column]
            out[column] = None if pd.isna(value) else pd.Timestamp(value).date()
        out["oldest_days_past_due"] = int(row["oldest_days_past_due"])
        out["pd_12m"] = float(row["pd_12m"])
        out["in_default"] = bool(row["in_default"])
        out["customer_id"] = str(row["customer_id"])
        out["grade"] = str(row["grade"])
        records.append(out)
    return records
