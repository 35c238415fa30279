"""The ledger's extent in a few aggregate SQL queries, without reading its rows.

``creditrisk train`` checks first whether the ledger is long enough for the configured
windows; that needs only the first invoice date and the latest date recorded, which the
database answers in milliseconds where reading the whole ledger takes seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine, func, select

from creditrisk.ledger.schema import credit_events, invoices, payments


@dataclass(frozen=True)
class LedgerSpan:
    """First invoice, latest recorded date and row counts of a ledger database."""

    first_issue: date | None
    last_date: date | None
    """The latest date recorded anywhere (issue, settlement, payment, credit event): the
    same as :func:`creditrisk.ledger.database.ledger_max_date` of the ledger read whole."""
    invoices: int
    credit_events: int

    @property
    def is_empty(self) -> bool:
        return self.first_issue is None


def _as_date(value: object) -> date | None:
    """SQLite returns aggregate dates as ISO text, PostgreSQL as dates."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def read_ledger_span(engine: Engine) -> LedgerSpan:
    """:class:`LedgerSpan` of the ledger at ``engine`` (three aggregate queries)."""
    with engine.connect() as conn:
        first, last_issue, last_settled, n_invoices = conn.execute(
            select(
                func.min(invoices.c.issue_date),
                func.max(invoices.c.issue_date),
                func.max(invoices.c.settled_date),
                func.count(),
            ).select_from(invoices)
        ).one()
        last_paid = conn.execute(select(func.max(payments.c.paid_on))).scalar()
        last_event, n_events = conn.execute(
            select(func.max(credit_events.c.event_date), func.count()).select_from(credit_events)
        ).one()
    dates = [
        d for d in map(_as_date, (last_issue, last_settled, last_paid, last_event)) if d
    ]
    return LedgerSpan(
        first_issue=_as_date(first),
        last_date=max(dates) if dates else None,
        invoices=int(n_invoices),
        credit_events=int(n_events),
    )
