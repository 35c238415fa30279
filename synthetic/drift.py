"""Injected drift: a documented change of behaviour after a date, for monitoring tests and demos.

A :class:`Drift` scales every invoice issued on or after ``after`` by ``invoice_amount_factor``
(customers suddenly buy more, or inflation in their prices), together with the payments
allocated to those invoices, so each invoice's paid share and settlement date are unchanged
and the ledger stays consistent. The generator's truth (default probabilities) is untouched:
the model's inputs move, the world's risk does not. ``generate_ledger(..., drift=Drift(...))``
applies it; a rescoring's monitor should flag the invoicing-volume features
(``invoiced_amount_90d`` ...) with a PSI above 0.25 while an undrifted ledger stays green.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import pandas as pd

from creditrisk.ledger.frame import Ledger


@dataclass(frozen=True)
class Drift:
    """Invoices issued on or after ``after`` (and their payments) x ``invoice_amount_factor``."""

    after: date
    invoice_amount_factor: float = 3.0

    def __post_init__(self) -> None:
        if not self.invoice_amount_factor > 0:
            raise ValueError(f"invoice_amount_factor must be positive, got "
                             f"{self.invoice_amount_factor}")


def apply_drift(ledger: Ledger, drift: Drift) -> Ledger:
    """The ledger with ``drift`` applied (a new Ledger; the input is unchanged)."""
    invoices = ledger.invoices.copy()
    shifted = (invoices["issue_date"] >= pd.Timestamp(drift.after)).to_numpy(bool)
    invoices.loc[shifted, "amount"] = invoices.loc[shifted, "amount"] * drift.invoice_amount_factor
    payments = ledger.payments.copy()
    ids = invoices.loc[shifted, "invoice_id"]
    allocated = payments["invoice_id"].isin(ids).to_numpy(bool)
    payments.loc[allocated, "amount"] = payments.loc[allocated, "amount"] * (
        drift.invoice_amount_factor)
    return replace(ledger, invoices=invoices, payments=payments)
