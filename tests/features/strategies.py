"""Hypothesis strategies: small random ledgers as raw tables, and records dated after a day.

Days are offsets from 2023-01-01. Amounts come from a short list (including a credit note)
so that shrunk examples stay readable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from hypothesis import strategies as st

from creditrisk.ledger.frame import CREDIT_EVENT_TYPES

START = pd.Timestamp("2023-01-01")
HORIZON_DAYS = 500
AMOUNTS = (-80.0, 100.0, 250.5, 1000.0, 3333.33)
PAYMENT_AMOUNTS = (50.0, 100.0, 250.5, 1000.0)


def on(day: int | None) -> pd.Timestamp | None:
    return None if day is None else START + pd.Timedelta(days=day)


@dataclass
class RawLedger:
    """Lists of raw records, turned into DataFrames by :meth:`tables`."""

    customers: list[dict] = field(default_factory=list)
    invoices: list[dict] = field(default_factory=list)
    payments: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    ratings: list[dict] = field(default_factory=list)

    def tables(self) -> dict[str, pd.DataFrame]:
        def frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
            return pd.DataFrame(rows, columns=columns)

        return {
            "customers": frame(
                self.customers,
                [
                    "customer_id",
                    "onboarded_on",
                    "country",
                    "industry",
                    "founded_on",
                    "credit_limit",
                    "payment_terms_days",
                    "external_score",
                    "annual_revenue",
                ],
            ),
            "invoices": frame(
                self.invoices,
                [
                    "invoice_id",
                    "customer_id",
                    "issue_date",
                    "due_date",
                    "amount",
                    "disputed",
                    "settled_date",
                ],
            ),
            "payments": frame(
                self.payments, ["payment_id", "customer_id", "invoice_id", "paid_on", "amount"]
            ),
            "credit_events": frame(
                self.events, ["event_id", "customer_id", "event_date", "event_type"]
            ),
            "customer_attributes": frame(
                self.ratings, ["attribute_id", "customer_id", "attribute", "valid_from", "value"]
            ),
        }

    def plus(self, other: RawLedger) -> RawLedger:
        return RawLedger(
            self.customers + other.customers,
            self.invoices + other.invoices,
            self.payments + other.payments,
            self.events + other.events,
            self.ratings + other.ratings,
        )


def _customer(draw: st.DrawFn, customer_id: str, onboarded: int) -> dict:
    return {
        "customer_id": customer_id,
        "onboarded_on": on(onboarded),
        "country": draw(st.sampled_from(["DE", "FR"])),
        "industry": draw(st.sampled_from(["retail", "transport"])),
        "founded_on": on(draw(st.one_of(st.none(), st.integers(-4000, 0)))),
        "credit_limit": draw(st.sampled_from([None, 0.0, 2000.0])),
        "payment_terms_days": 30.0,
        "external_score": 50.0,
        "annual_revenue": 1e6,
    }


def _invoice(draw: st.DrawFn, invoice_id: str, customer_id: str, lo: int, hi: int) -> dict:
    issue = draw(st.integers(lo, hi))
    due = issue + draw(st.sampled_from([0, 14, 30]))
    settled = draw(st.one_of(st.none(), st.integers(issue, issue + 90)))
    return {
        "invoice_id": invoice_id,
        "customer_id": customer_id,
        "issue_date": on(issue),
        "due_date": on(due),
        "amount": draw(st.sampled_from(AMOUNTS)),
        "disputed": draw(st.booleans()),
        "settled_date": on(settled),
    }


def _payment(
    draw: st.DrawFn, payment_id: str, invoices: list[dict], customers: list[str], lo: int, hi: int
) -> dict:
    target = draw(st.one_of(st.none(), st.sampled_from(invoices))) if invoices else None
    customer = target["customer_id"] if target else draw(st.sampled_from(customers))
    return {
        "payment_id": payment_id,
        "customer_id": customer,
        "invoice_id": target["invoice_id"] if target else None,
        "paid_on": on(draw(st.integers(lo, hi))),
        "amount": draw(st.sampled_from(PAYMENT_AMOUNTS)),
    }


def _event(draw: st.DrawFn, event_id: str, customers: list[str], lo: int, hi: int) -> dict:
    return {
        "event_id": event_id,
        "customer_id": draw(st.sampled_from(customers)),
        "event_date": on(draw(st.integers(lo, hi))),
        "event_type": draw(st.sampled_from(CREDIT_EVENT_TYPES)),
    }


def _rating(draw: st.DrawFn, attribute_id: str, customers: list[str], lo: int, hi: int) -> dict:
    return {
        "attribute_id": attribute_id,
        "customer_id": draw(st.sampled_from(customers)),
        "attribute": "rating",
        "valid_from": on(draw(st.integers(lo, hi))),
        "value": draw(st.sampled_from(["A", "B", "C"])),
    }


@st.composite
def raw_ledgers(draw: st.DrawFn) -> RawLedger:
    """A small ledger: 1-4 customers, up to 10 invoices, payments (partial, unallocated,
    late, early) and credit events, dated anywhere in 500 days."""
    raw = RawLedger()
    for i in range(draw(st.integers(1, 4))):
        raw.customers.append(_customer(draw, f"C{i}", draw(st.integers(0, HORIZON_DAYS))))
    ids = [c["customer_id"] for c in raw.customers]
    for i in range(draw(st.integers(0, 10))):
        owner = draw(st.sampled_from(ids))
        raw.invoices.append(_invoice(draw, f"I{i}", owner, 0, HORIZON_DAYS))
    for i in range(draw(st.integers(0, 10))):
        raw.payments.append(_payment(draw, f"P{i}", raw.invoices, ids, 0, HORIZON_DAYS + 100))
    for i in range(draw(st.integers(0, 8))):
        raw.events.append(_event(draw, f"E{i}", ids, 0, HORIZON_DAYS + 100))
    for i in range(draw(st.integers(0, 5))):
        raw.ratings.append(_rating(draw, f"R{i}", ids, 0, HORIZON_DAYS + 100))
    return raw


@st.composite
def records_from(draw: st.DrawFn, base: RawLedger, first_day: int) -> RawLedger:
    """New records all dated on or after ``first_day``: customers onboarded then, invoices
    issued then (for old or new customers), payments then (on old or new invoices, or
    unallocated), credit events then and ratings valid from then."""
    later = RawLedger()
    hi = first_day + 200
    for i in range(draw(st.integers(0, 2))):
        later.customers.append(_customer(draw, f"N{i}", draw(st.integers(first_day, hi))))
    ids = [c["customer_id"] for c in base.customers + later.customers]
    for i in range(draw(st.integers(0, 4))):
        owner = draw(st.sampled_from(ids))
        later.invoices.append(_invoice(draw, f"NI{i}", owner, first_day, hi))
    invoices = base.invoices + later.invoices
    for i in range(draw(st.integers(0, 4))):
        later.payments.append(_payment(draw, f"NP{i}", invoices, ids, first_day, hi))
    for i in range(draw(st.integers(0, 3))):
        later.events.append(_event(draw, f"NE{i}", ids, first_day, hi))
    for i in range(draw(st.integers(0, 3))):
        later.ratings.append(_rating(draw, f"NR{i}", ids, first_day, hi))
    return later
