"""Seeded raw tables of a small, messy ledger for feature tests."""

from __future__ import annotations

import numpy as np
import pandas as pd


def random_tables(
    seed: int, *, n_customers: int = 40, n_invoices: int = 600, days: int = 800
) -> dict[str, pd.DataFrame]:
    """Seeded raw tables of a small, messy ledger over ``days`` days from 2023-01-01.

    Settlement comes from payments (one or two instalments, some never paid) or, for a share
    of invoices, as an explicit settled date without payments; plus credit notes,
    unallocated payments, reminders, disputes and promises to pay.
    """
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2023-01-01")

    def day(offsets: np.ndarray) -> pd.Series:
        return pd.Series(start + pd.to_timedelta(offsets, unit="D"))

    customer_ids = np.array([f"C{i:03d}" for i in range(n_customers)])
    customers = pd.DataFrame(
        {
            "customer_id": customer_ids,
            "onboarded_on": day(rng.integers(-200, days, n_customers)),
            "country": rng.choice(["DE", "FR", "NL"], n_customers),
            "industry": rng.choice(["retail", "construction"], n_customers),
            "founded_on": day(rng.integers(-9000, -100, n_customers)).where(
                rng.random(n_customers) < 0.8
            ),
            "credit_limit": np.where(rng.random(n_customers) < 0.8, 20_000.0, np.nan),
            "payment_terms_days": rng.choice([14.0, 30.0, 60.0], n_customers),
            "external_score": rng.normal(55, 15, n_customers).round(1),
            "annual_revenue": rng.lognormal(13, 1, n_customers).round(0),
        }
    )
    owner = rng.integers(0, n_customers, n_invoices)
    issue = rng.integers(-150, days, n_invoices)
    terms = rng.choice([0, 14, 30, 45], n_invoices)
    amount = rng.lognormal(7, 1, n_invoices).round(2)
    amount[rng.random(n_invoices) < 0.05] *= -1  # credit notes
    delay = np.maximum(rng.normal(5, 25, n_invoices).round(), -terms).astype(np.int64)
    paid_day = issue + terms + delay
    fate = rng.random(n_invoices)  # < .15 never paid, < .35 two instalments, < .5 explicit
    invoice_ids = np.array([f"I{i:05d}" for i in range(n_invoices)])
    explicit = (fate >= 0.35) & (fate < 0.5)
    settled = day(paid_day).where(explicit)
    invoices = pd.DataFrame(
        {
            "invoice_id": invoice_ids,
            "customer_id": customer_ids[owner],
            "issue_date": day(issue),
            "due_date": day(issue + terms),
            "amount": amount,
            "currency": "EUR",
            "disputed": rng.random(n_invoices) < 0.1,
            "settled_date": settled,
        }
    )
    paying = (fate >= 0.15) & ~explicit & (amount > 0)
    split = paying & (fate < 0.35)
    first_share = np.where(split, 0.4, 1.0)
    rows = []
    for part, mask, when, share in (
        ("a", paying, paid_day - np.where(split, 10, 0), first_share),
        ("b", split, paid_day, 1.0 - first_share),
    ):
        rows.append(
            pd.DataFrame(
                {
                    "payment_id": [f"P{part}{i}" for i in np.flatnonzero(mask)],
                    "customer_id": customer_ids[owner[mask]],
                    "invoice_id": invoice_ids[mask],
                    "paid_on": day(when[mask]),
                    "amount": (amount * share)[mask].round(2),
                }
            )
        )
    n_free = n_customers
    rows.append(
        pd.DataFrame(
            {
                "payment_id": [f"Pu{i}" for i in range(n_free)],
                "customer_id": customer_ids[rng.integers(0, n_customers, n_free)],
                "invoice_id": None,
                "paid_on": day(rng.integers(0, days, n_free)),
                "amount": rng.lognormal(5, 1, n_free).round(2),
            }
        )
    )
    payments = pd.concat(rows, ignore_index=True)
    payments["paid_on"] = payments["paid_on"].clip(upper=start + pd.Timedelta(days=days + 200))
    n_events = 4 * n_customers
    events = pd.DataFrame(
        {
            "event_id": [f"E{i}" for i in range(n_events)],
            "customer_id": customer_ids[rng.integers(0, n_customers, n_events)],
            "event_date": day(rng.integers(-100, days, n_events)),
            "event_type": rng.choice(
                ["reminder", "reminder", "promise_to_pay", "dispute", "collection"], n_events
            ),
        }
    )
    return {
        "customers": customers,
        "invoices": invoices,
        "payments": payments,
        "credit_events": events,
    }
