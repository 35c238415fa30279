"""Outcome labels, defined once, with censoring.

Default (per customer snapshot at T, horizon 12 months): the customer has a default event
in (T, T + horizon]: an invoice reaching 90+ days past due while unpaid, a write-off or an
insolvency event (credit_events, including externally supplied ones). Customers whose first
default event is on or before T are already in default and are excluded from the snapshot.
A snapshot whose horizon runs past the ledger's data cut-off is censored (label unknown).

Late payment (per invoice, grace configurable): settled after due_date + grace. At a cut-off
C an invoice's outcome is known if it settled by C, or if it is still open and C is already
past due + grace (then it is late for sure). Otherwise it is censored and excluded. Days
beyond terms (settled - due, signed) are kept for the payment-date model only where the
invoice actually settled by C.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd

from creditrisk.ledger.frame import DEFAULT_EVENT_TYPES, Ledger

DPD_DEFAULT_DAYS = 90


def _ts(value: date | pd.Timestamp) -> pd.Timestamp:
    return pd.Timestamp(value).normalize()


def default_event_dates(ledger: Ledger, *, dpd_days: int = DPD_DEFAULT_DAYS) -> pd.DataFrame:
    """Every default event per customer: (customer_id, event_date, source).

    A 90+ DPD event is dated due_date + 90 days for each positive invoice not settled by
    then. Its date may lie after the data cut-off; callers compare against their window.
    """
    inv = ledger.invoices
    inv = inv[inv["amount"] > 0]
    dpd_date = inv["due_date"] + pd.Timedelta(days=dpd_days)
    reached = inv["settled_date"].isna() | (inv["settled_date"] > dpd_date)
    dpd = pd.DataFrame(
        {
            "customer_id": inv.loc[reached, "customer_id"].to_numpy(),
            "event_date": dpd_date[reached].to_numpy(),
            "source": "dpd_90",
        }
    )
    ev = ledger.credit_events
    ev = ev[ev["event_type"].isin(DEFAULT_EVENT_TYPES)]
    explicit = pd.DataFrame(
        {
            "customer_id": ev["customer_id"].to_numpy(),
            "event_date": ev["event_date"].to_numpy(),
            "source": ev["event_type"].to_numpy(),
        }
    )
    out = pd.concat([dpd, explicit], ignore_index=True)
    out["customer_id"] = out["customer_id"].astype("string")
    return out.sort_values(["customer_id", "event_date"], kind="stable").reset_index(drop=True)


def default_labels(
    ledger: Ledger,
    snapshots: pd.DataFrame,
    *,
    data_end: date | pd.Timestamp,
    horizon_days: int = 365,
    dpd_days: int = DPD_DEFAULT_DAYS,
) -> pd.DataFrame:
    """Label (customer_id, as_of) snapshot rows.

    Returns ``snapshots`` with ``in_default`` (first default on or before as_of),
    ``censored`` (as_of + horizon after data_end) and ``default_12m`` (0/1, meaningful
    where neither flag is set). 90+ DPD events dated after ``data_end`` are not yet
    observable and do not count.
    """
    end = _ts(data_end)
    events = default_event_dates(ledger, dpd_days=dpd_days)
    events = events[events["event_date"] <= end]
    first = events.groupby("customer_id", sort=False)["event_date"].min()
    keys = snapshots[["customer_id", "as_of"]].copy()
    as_of = pd.to_datetime(keys["as_of"]).astype("datetime64[ns]")
    first_default = keys["customer_id"].astype("string").map(first)
    first_default = pd.to_datetime(first_default).astype("datetime64[ns]")
    horizon = pd.Timedelta(days=horizon_days)
    out = snapshots.copy()
    out["in_default"] = (first_default <= as_of).fillna(False).to_numpy(dtype=bool)
    out["censored"] = (as_of + horizon > end).to_numpy(dtype=bool)
    hit = (first_default > as_of) & (first_default <= as_of + horizon)
    out["default_12m"] = hit.fillna(False).to_numpy(dtype=np.int8)
    return out


def late_payment_labels(
    ledger: Ledger,
    *,
    cutoff: date | pd.Timestamp,
    grace_days: int = 0,
    invoice_ids: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Per invoice issued on or before ``cutoff``: late (0/1), days beyond terms, known.

    ``known`` is False for censored invoices (open at the cut-off and not yet past due +
    grace); ``days_beyond_terms`` is NaN unless the invoice settled by the cut-off.
    Credit notes (amount <= 0) are not labelled.
    """
    c = _ts(cutoff)
    inv = ledger.invoices
    inv = inv[(inv["amount"] > 0) & (inv["issue_date"] <= c)]
    if invoice_ids is not None:
        inv = inv[inv["invoice_id"].isin(list(invoice_ids))]
    grace = pd.Timedelta(days=grace_days)
    settled_by_cutoff = inv["settled_date"].notna() & (inv["settled_date"] <= c)
    limit = inv["due_date"] + grace
    late_settled = settled_by_cutoff & (inv["settled_date"] > limit)
    open_past_limit = ~settled_by_cutoff & (c > limit)
    known = settled_by_cutoff | open_past_limit
    days = (inv["settled_date"] - inv["due_date"]).dt.days.astype("float64")
    return pd.DataFrame(
        {
            "invoice_id": inv["invoice_id"].to_numpy(),
            "customer_id": inv["customer_id"].to_numpy(),
            "issue_date": inv["issue_date"].to_numpy(),
            "due_date": inv["due_date"].to_numpy(),
            "known": known.to_numpy(dtype=bool),
            "late": (late_settled | open_past_limit).to_numpy(dtype=np.int8),
            "days_beyond_terms": days.where(settled_by_cutoff).to_numpy(),
        }
    )
