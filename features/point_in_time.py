"""The point-in-time cut: what the ledger looked like at the end of day ``T``.

This is the one place where customer features forget the future. Every customer feature is
computed from ``known_at(prepared, T)`` and from nothing else, so "no record dated after
``T`` changes a feature at ``T``" holds by construction here and is checked by a property
test (``tests/features/test_point_in_time.py``), which fails when this cut is bypassed.

At the end of day ``T``:

* invoices issued after ``T`` do not exist yet;
* an invoice settled after ``T`` is still open (its settled date is unknown, ``NO_DAY``);
* an invoice's ``disputed`` flag is known only once it is settled (the ledger records the
  outcome, not the day the dispute was raised); dispute *events* carry their own dates;
* payments and credit events dated after ``T`` have not happened;
* customers onboarded after ``T`` are not customers yet.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

import numpy as np
import pandas as pd

from creditrisk.features.prepared import EPOCH, NO_DAY, PreparedLedger


class AsOfError(ValueError):
    """An as-of date that cannot be read or lies outside the supported range."""


def as_of_day(as_of: date | datetime | pd.Timestamp | np.datetime64 | str) -> int:
    """The day number of ``as_of`` (its calendar day; a time of day is dropped)."""
    try:
        stamp = pd.Timestamp(as_of)
    except (ValueError, TypeError) as exc:
        raise AsOfError(f"cannot read as-of date {as_of!r}: {exc}") from exc
    if stamp is pd.NaT:
        raise AsOfError(f"as-of date {as_of!r} is missing")
    day = (stamp.normalize().tz_localize(None) - pd.Timestamp(EPOCH)).days
    if not 0 <= day < NO_DAY:
        raise AsOfError(f"as-of date {as_of!r} is outside 1900-01-01..4770-01-01")
    return int(day)


def known_at(prepared: PreparedLedger, day: int) -> PreparedLedger:
    """``prepared`` restricted to what was known at the end of day ``day``.

    Customer codes stay the same (so results line up with ``prepared.customer_ids``);
    customers onboarded after ``day`` get ``onboarded_day = NO_DAY``.
    """
    invoice_kept = _kept(prepared.issue_day <= day)
    payment_kept = _kept(prepared.paid_day <= day)
    event_kept = _kept(prepared.event_day <= day)
    settled_by_then = prepared.settled_day <= day

    payment_invoice = prepared.payment_invoice[payment_kept]
    if not isinstance(invoice_kept, slice):  # invoices dropped: renumber the survivors
        new_position = np.cumsum(invoice_kept, dtype=np.int64) - 1
        allocated = payment_invoice >= 0
        allocated[allocated] = invoice_kept[payment_invoice[allocated]]
        payment_invoice = np.where(
            allocated, new_position[np.maximum(payment_invoice, 0)] if len(new_position) else -1, -1
        )
    return dataclasses.replace(
        prepared,
        onboarded_day=np.where(prepared.onboarded_day <= day, prepared.onboarded_day, NO_DAY),
        invoice_row=prepared.invoice_row[invoice_kept],
        invoice_customer=prepared.invoice_customer[invoice_kept],
        issue_day=prepared.issue_day[invoice_kept],
        due_day=prepared.due_day[invoice_kept],
        settled_day=np.where(settled_by_then, prepared.settled_day, NO_DAY)[invoice_kept],
        invoice_amount=prepared.invoice_amount[invoice_kept],
        disputed=(prepared.disputed & settled_by_then)[invoice_kept],
        payment_customer=prepared.payment_customer[payment_kept],
        paid_day=prepared.paid_day[payment_kept],
        payment_amount=prepared.payment_amount[payment_kept],
        payment_invoice=payment_invoice,
        event_customer=prepared.event_customer[event_kept],
        event_day=prepared.event_day[event_kept],
        event_type=prepared.event_type[event_kept],
        ratings=prepared.ratings.known_at(day),
    )


def _kept(mask: np.ndarray) -> np.ndarray | slice:
    """``mask``, or a whole-array slice when it keeps everything (a view, not a copy)."""
    return slice(None) if bool(mask.all()) else mask
