"""Outcome labels, defined once, with censoring.

Default (per customer snapshot at T, horizon 12 months): the customer has a default event
in (T, T + horizon]: an invoice reaching 90+ days past due while unpaid, a write-off or an
insolvency event (credit_events, including externally supplied ones). "In default" and
"default event" have one definition, :mod:`creditrisk.features.default_status`, shared with
serving; customers in default at T are excluded from the snapshot (known, not predicted).
A snapshot whose horizon runs past the ledger's data cut-off is censored (label unknown).

Late payment (per invoice, grace configurable): settled after due_date + grace. At a cut-off
C an invoice's outcome is known if it settled by C, or if it is still open and C is already
past due + grace (then it is late for sure). Otherwise it is censored and excluded. Days
beyond terms (settled - due, signed) are kept for the payment-date model only where the
invoice actually settled by C.

Rows a mapping's data-quality rule repaired (``invoices.quality_flags``, docs/import.md):
an invoice whose due date was repaired (``due_date_repaired``: the export's due date fell
before the issue date) has no trustworthy due date, so its late label is unknown (excluded,
like a censored invoice); a prepayment settled at issue (``prepaid``) was paid, on time, and
keeps its label (not late). Zero invoices (``zero_amount``) are not labelled (amount <= 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd

from creditrisk.features.default_status import (
    DefaultDefinition,
    default_events,
    in_default_at,
    next_default_dates,
)
from creditrisk.ledger.frame import Ledger, has_quality_flag


def _ts(value: date | pd.Timestamp) -> pd.Timestamp:
    return pd.Timestamp(value).normalize()


def default_labels(
    ledger: Ledger,
    snapshots: pd.DataFrame,
    *,
    data_end: date | pd.Timestamp,
    horizon_days: int = 365,
    definition: DefaultDefinition | None = None,
) -> pd.DataFrame:
    """Label (customer_id, as_of) snapshot rows.

    Returns ``snapshots`` with ``in_default`` (in default at the end of as_of, by
    :func:`creditrisk.features.default_status.in_default_at`), ``censored`` (as_of + horizon
    after data_end) and ``default_12m`` (0/1: a default event in (as_of, as_of + horizon],
    meaningful where neither flag is set). Default events dated after ``data_end`` are not
    yet observable and do not count.
    """
    definition = definition or DefaultDefinition()
    end = _ts(data_end)
    events = default_events(ledger, definition)
    keys = snapshots[["customer_id", "as_of"]]
    as_of = pd.to_datetime(keys["as_of"]).astype("datetime64[ns]")
    # what is known at as_of: an event or a cure after the cut-off is not
    known_events = events[events["event_date"] <= end].copy()
    known_events.loc[known_events["cured_on"] > end, "cured_on"] = pd.NaT
    nxt = next_default_dates(keys, known_events, known_until=end)
    horizon = pd.Timedelta(days=horizon_days)
    out = snapshots.copy()
    out["in_default"] = in_default_at(ledger, keys, definition=definition, events=known_events)
    out["censored"] = (as_of + horizon > end).to_numpy(dtype=bool)
    hit = nxt.notna() & (nxt <= as_of + horizon)
    out["default_12m"] = hit.to_numpy(dtype=np.int8)
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
    grace) and for invoices whose due date an import repaired; ``days_beyond_terms`` is NaN
    unless the invoice settled by the cut-off.
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
    known = (settled_by_cutoff | open_past_limit) & ~has_quality_flag(inv, "due_date_repaired")
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
