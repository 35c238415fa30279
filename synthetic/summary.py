"""Headline figures of a generated ledger: row counts and the yearly default rate."""

from __future__ import annotations

from dataclasses import dataclass

from creditrisk.ledger.frame import DEFAULT_EVENT_TYPES
from creditrisk.synthetic.generator import SyntheticLedger

MONTHS_PER_YEAR = 12


@dataclass(frozen=True)
class SyntheticSummary:
    """Counts of one or more partitions; add summaries of partitions to combine them."""

    customers: int = 0
    invoices: int = 0
    payments: int = 0
    credit_events: int = 0
    defaults: int = 0
    """Customers with a default event (insolvency or write-off) in the ledger."""
    exposure_customer_months: int = 0
    """Month-ends at which a customer was onboarded and not in default."""
    truth_customer_months: int = 0
    """Rows of the customer-month truth (including months in default)."""

    @property
    def yearly_default_rate(self) -> float:
        """Defaults per customer-year of exposure (0 when there is no exposure)."""
        years = self.exposure_customer_months / MONTHS_PER_YEAR
        return self.defaults / years if years else 0.0

    def __add__(self, other: SyntheticSummary) -> SyntheticSummary:
        return SyntheticSummary(
            customers=self.customers + other.customers,
            invoices=self.invoices + other.invoices,
            payments=self.payments + other.payments,
            credit_events=self.credit_events + other.credit_events,
            defaults=self.defaults + other.defaults,
            exposure_customer_months=self.exposure_customer_months + other.exposure_customer_months,
            truth_customer_months=self.truth_customer_months + other.truth_customer_months,
        )


def summarize(result: SyntheticLedger) -> SyntheticSummary:
    """Row counts, defaults and exposure of a generated ledger (or one partition)."""
    events = result.ledger.credit_events
    defaulted = events.loc[events["event_type"].isin(DEFAULT_EVENT_TYPES), "customer_id"]
    return SyntheticSummary(
        customers=len(result.ledger.customers),
        invoices=len(result.ledger.invoices),
        payments=len(result.ledger.payments),
        credit_events=len(events),
        defaults=int(defaulted.nunique()),
        exposure_customer_months=int((~result.customer_month_truth["in_default"]).sum()),
        truth_customer_months=len(result.customer_month_truth),
    )
