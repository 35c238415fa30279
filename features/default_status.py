"""In default at T: the one definition, shared by training labels, serving, the portfolio and
every batch job (its parameters travel in the model bundle, so they can never disagree).

A customer is **in default at the end of day T** when, with what is known at T,

* one of its invoices (amount > 0) is unpaid at T and ``days_past_due`` or more days past its
  due date (``T - due_date >= days_past_due``), or
* it has a default credit event (``insolvency``, ``write_off`` by default) dated on or before
  T: such an event is terminal.

A **default event** is dated when it happens: the day an invoice reaches ``days_past_due``
days past due while still unpaid (``due_date + days_past_due``), or the credit event's date.
The 12-month default label of a snapshot at T is "a default event in (T, T + horizon]" for a
customer not in default at T. A customer whose long-overdue invoice was paid afterwards has
cured and is no longer in default (a later unpaid invoice can default it again).

What is known is not predicted: a customer in default at T gets PD 1 and grade ``D``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from creditrisk.ledger.frame import DEFAULT_EVENT_TYPES, Ledger

DEFAULT_DAYS_PAST_DUE = 90
DPD_SOURCE = "days_past_due"


@dataclass(frozen=True)
class DefaultDefinition:
    """What counts as default: the days-past-due threshold and the terminal event types."""

    days_past_due: int = DEFAULT_DAYS_PAST_DUE
    event_types: tuple[str, ...] = DEFAULT_EVENT_TYPES

    def __post_init__(self) -> None:
        if isinstance(self.days_past_due, bool) or not 1 <= int(self.days_past_due) <= 3650:
            raise ValueError(
                f"days_past_due must be between 1 and 3650, got {self.days_past_due!r}"
            )
        unknown = set(self.event_types) - set(DEFAULT_EVENT_TYPES)
        if unknown:
            raise ValueError(f"event_types not known as default events: {sorted(unknown)}")

    def to_dict(self) -> dict[str, Any]:
        return {"days_past_due": int(self.days_past_due), "event_types": list(self.event_types)}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> DefaultDefinition:
        return cls(int(raw["days_past_due"]), tuple(raw.get("event_types", DEFAULT_EVENT_TYPES)))


def default_events(ledger: Ledger, definition: DefaultDefinition) -> pd.DataFrame:
    """Every default event per customer: ``customer_id, event_date, source, cured_on``.

    A days-past-due event is dated ``due_date + days_past_due`` for each positive invoice not
    settled by then; ``cured_on`` is the invoice's settlement date (NaT while unpaid). Credit
    events never cure. The date may lie after any data cut-off: callers compare against their
    window. Sorted by customer and date.
    """
    inv = ledger.invoices
    inv = inv[inv["amount"] > 0]
    reached_on = inv["due_date"] + pd.Timedelta(days=int(definition.days_past_due))
    reached = inv["settled_date"].isna() | (inv["settled_date"] > reached_on)
    dpd = pd.DataFrame(
        {
            "customer_id": inv.loc[reached, "customer_id"].to_numpy(),
            "event_date": reached_on[reached].to_numpy(),
            "source": DPD_SOURCE,
            "cured_on": inv.loc[reached, "settled_date"].to_numpy(),
        }
    )
    ev = ledger.credit_events
    ev = ev[ev["event_type"].isin(definition.event_types)]
    explicit = pd.DataFrame(
        {
            "customer_id": ev["customer_id"].to_numpy(),
            "event_date": ev["event_date"].to_numpy(),
            "source": ev["event_type"].to_numpy(),
            "cured_on": pd.NaT,
        }
    )
    out = pd.concat([dpd, explicit], ignore_index=True)
    out["customer_id"] = out["customer_id"].astype("string")
    out["event_date"] = out["event_date"].astype("datetime64[ns]")
    out["cured_on"] = out["cured_on"].astype("datetime64[ns]")
    return out.sort_values(["customer_id", "event_date"], kind="stable").reset_index(drop=True)


def in_default_at(
    ledger: Ledger,
    keys: pd.DataFrame,
    *,
    definition: DefaultDefinition,
    events: pd.DataFrame | None = None,
) -> np.ndarray:
    """Per row of ``keys`` (``customer_id``, ``as_of``): in default at the end of ``as_of``.

    Vectorised over any number of (customer, date) pairs, so monthly training snapshots and
    a single online request use the same rule. ``events`` may pass a precomputed
    :func:`default_events` frame.
    """
    events = default_events(ledger, definition) if events is None else events
    n = len(keys)
    if n == 0 or events.empty:
        return np.zeros(n, dtype=bool)
    left = pd.DataFrame(
        {
            "row": np.arange(n),
            "customer_id": keys["customer_id"].astype("string").to_numpy(),
            "as_of": pd.to_datetime(keys["as_of"]).astype("datetime64[ns]").to_numpy(),
        }
    )
    pairs = left.merge(events, on="customer_id", how="inner")
    active = (pairs["event_date"] <= pairs["as_of"]) & (
        pairs["cured_on"].isna() | (pairs["cured_on"] > pairs["as_of"])
    )
    out = np.zeros(n, dtype=bool)
    out[pairs.loc[active, "row"].to_numpy(dtype=np.int64)] = True
    return out


def customers_in_default(
    ledger: Ledger,
    customer_ids: pd.Index | pd.Series,
    *,
    as_of: date | pd.Timestamp,
    definition: DefaultDefinition,
) -> pd.Series:
    """In default at the end of ``as_of``, per customer id (boolean Series, same order).

    The rule of :func:`in_default_at` for one date, read straight off the ledger's columns
    (no event frame, no merge: one customer's request costs microseconds, not milliseconds):
    an unpaid positive invoice whose default event (``due_date + days_past_due``) is dated
    on or before ``as_of`` and not cured (settled) by then, or a default credit event dated
    on or before ``as_of``. Checked equal to :func:`in_default_at` by a property test.
    """
    ids = pd.Index(customer_ids).astype("string")
    flags = ids.isin(_defaulted_ids(ledger, pd.Timestamp(as_of).normalize(), definition))
    return pd.Series(np.asarray(flags, dtype=bool), index=ids, name="in_default")


def _defaulted_ids(
    ledger: Ledger, as_of: pd.Timestamp, definition: DefaultDefinition
) -> np.ndarray:
    """Customer ids (object array, repeats allowed) with an active default event at ``as_of``."""
    day = np.datetime64(as_of.to_datetime64(), "ns")
    inv = ledger.invoices
    events = ledger.credit_events
    active = unpaid_in_default(
        inv["amount"].to_numpy(dtype=np.float64, na_value=np.nan),
        inv["due_date"].to_numpy(dtype="datetime64[ns]"),
        inv["settled_date"].to_numpy(dtype="datetime64[ns]"),
        day,
        definition,
    )
    terminal = terminal_events(
        events["event_type"].to_numpy(dtype=object, na_value=None),
        events["event_date"].to_numpy(dtype="datetime64[ns]"),
        day,
        definition,
    )
    return np.concatenate([
        inv["customer_id"].to_numpy(dtype=object)[active],
        events["customer_id"].to_numpy(dtype=object)[terminal],
    ])


def unpaid_in_default(
    amount: np.ndarray,
    due: np.ndarray,
    settled: np.ndarray,
    as_of: np.datetime64,
    definition: DefaultDefinition,
) -> np.ndarray:
    """Per invoice: its days-past-due default event is active at the end of ``as_of``.

    The event exists for a positive invoice not settled by ``due + days_past_due``, is dated
    then, and is cured by the settlement: active when dated on or before ``as_of`` and not
    settled by ``as_of``. Dates as ``datetime64`` (missing: ``NaT``)."""
    reached_on = due + np.timedelta64(int(definition.days_past_due), "D")
    unpaid = np.isnat(settled)
    active: np.ndarray = (
        (amount > 0)
        & (unpaid | (settled > reached_on))  # a default event exists ...
        & (reached_on <= as_of)  # ... dated on or before T
        & (unpaid | (settled > as_of))  # ... and not cured by T
    )
    return active


def terminal_events(
    event_type: np.ndarray, event_date: np.ndarray, as_of: np.datetime64,
    definition: DefaultDefinition,
) -> np.ndarray:
    """Per credit event: a default event type dated on or before ``as_of`` (never cured)."""
    kinds = np.isin(event_type, np.asarray(definition.event_types, dtype=object))
    known: np.ndarray = kinds & (event_date <= as_of)
    return known


def next_default_dates(
    keys: pd.DataFrame, events: pd.DataFrame, *, known_until: pd.Timestamp
) -> pd.Series:
    """Per row of ``keys``: the first default event dated after ``as_of`` and on or before
    ``known_until`` (NaT when none), for labels looking forward from ``as_of``."""
    n = len(keys)
    known = events[events["event_date"] <= known_until]
    if n == 0 or known.empty:
        return pd.Series(pd.NaT, index=keys.index, dtype="datetime64[ns]")
    left = pd.DataFrame(
        {
            "row": np.arange(n),
            "customer_id": keys["customer_id"].astype("string").to_numpy(),
            "as_of": pd.to_datetime(keys["as_of"]).astype("datetime64[ns]").to_numpy(),
        }
    )
    pairs = left.merge(known[["customer_id", "event_date"]], on="customer_id", how="inner")
    pairs = pairs[pairs["event_date"] > pairs["as_of"]]
    first = pairs.groupby("row", sort=False)["event_date"].min()
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    out[first.index.to_numpy(dtype=np.int64)] = first.to_numpy(dtype="datetime64[ns]")
    return pd.Series(out, index=keys.index, dtype="datetime64[ns]")
