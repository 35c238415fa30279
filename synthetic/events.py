"""Credit events of the synthetic world: disputes, dunning, insolvencies and write-offs.

* ``dispute``: dated between issue and payment, on the disputed invoice.
* ``reminder``: an unpaid invoice is reminded 7 days after its due date and then every 30
  days while it stays unpaid (and the customer has not defaulted).
* ``promise_to_pay``: a few days after some reminders. Customers who will pay soon promise
  more often; a promise is kept when the payment lands within 14 days (read from the
  payments, consistent with the drawn delay), otherwise it is broken.
* default, dated on the day the distress chain is absorbed, either
  ``insolvency`` (open invoices written off months later, ``write_off`` per invoice) or a
  ``collection`` case earlier that month followed by ``write_off`` of each open invoice on
  the default date (a customer-level ``write_off`` when nothing is open).

Nothing dated after ``end`` is emitted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from creditrisk.ledger.frame import CREDIT_EVENT_TYPES
from creditrisk.synthetic.calendar import NO_DATE, MonthGrid
from creditrisk.synthetic.invoicing import Invoices
from creditrisk.synthetic.payments import Settlement
from creditrisk.synthetic.population import Population
from creditrisk.synthetic.world import WorldParameters

INSOLVENCY = CREDIT_EVENT_TYPES.index("insolvency")
WRITE_OFF = CREDIT_EVENT_TYPES.index("write_off")
REMINDER = CREDIT_EVENT_TYPES.index("reminder")
PROMISE_TO_PAY = CREDIT_EVENT_TYPES.index("promise_to_pay")
DISPUTE = CREDIT_EVENT_TYPES.index("dispute")
COLLECTION = CREDIT_EVENT_TYPES.index("collection")
NO_INVOICE = -1


@dataclass(frozen=True)
class CreditEvents:
    """One partition's credit events, sorted by customer, day, type and invoice."""

    customer: np.ndarray
    day: np.ndarray
    event_type: np.ndarray
    """Index into :data:`creditrisk.ledger.frame.CREDIT_EVENT_TYPES`."""
    invoice: np.ndarray
    """Invoice index in the partition, :data:`NO_INVOICE` for customer-level events."""

    @property
    def size(self) -> int:
        return len(self.customer)


def _events(
    customer: np.ndarray, day: np.ndarray, kind: int, invoice: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return customer, day, np.full(len(customer), kind, dtype=np.int64), invoice


def draw_credit_events(
    rng: np.random.Generator,
    invoices: Invoices,
    settlement: Settlement,
    population: Population,
    *,
    default_day: np.ndarray,
    grid: MonthGrid,
    world: WorldParameters,
) -> CreditEvents:
    """All credit events of the partition dated on or before ``end``."""
    end = grid.end_day
    index = np.arange(invoices.size)
    c = invoices.customer
    parts = []

    dispute = settlement.disputed & (settlement.dispute_day <= end)
    parts.append(_events(c[dispute], settlement.dispute_day[dispute], DISPUTE, index[dispute]))

    # reminders while unpaid, strictly before payment, default and end + 1
    stop = np.minimum(settlement.stop_day(default_day[c]), end + 1)
    first = invoices.due_day + world.first_reminder_days
    interval = world.reminder_interval_days
    n_reminders = np.where(stop - 1 >= first, (stop - 1 - first) // interval + 1, 0)
    reminded = np.repeat(index, n_reminders)
    starts = np.cumsum(n_reminders) - n_reminders
    rank = np.arange(reminded.size) - np.repeat(starts, n_reminders)
    reminder_day = first[reminded] + interval * rank
    parts.append(_events(c[reminded], reminder_day, REMINDER, reminded))

    pay_day = np.where(settlement.paid_in_full, settlement.planned_pay_day, NO_DATE)[reminded]
    soon = pay_day - reminder_day <= world.promise_soon_days
    promise_share = np.where(
        soon, world.promise_share_when_paying_soon, world.promise_share_otherwise
    )
    u_promise = rng.random(reminded.size)
    lag_lo, lag_hi = world.promise_lag_days
    promise_day = reminder_day + rng.integers(lag_lo, lag_hi + 1, reminded.size)
    promised = (u_promise < promise_share) & (promise_day < stop[reminded])
    parts.append(
        _events(c[reminded][promised], promise_day[promised], PROMISE_TO_PAY, reminded[promised])
    )

    parts.extend(_default_events(rng, invoices, settlement, population, default_day, grid, world))

    customer, day, kind, invoice = (np.concatenate(p) for p in zip(*parts, strict=True))
    order = np.lexsort((invoice, kind, day, customer))
    return CreditEvents(
        customer=customer[order].astype(np.int64),
        day=day[order].astype(np.int64),
        event_type=kind[order],
        invoice=invoice[order].astype(np.int64),
    )


def _default_events(
    rng: np.random.Generator,
    invoices: Invoices,
    settlement: Settlement,
    population: Population,
    default_day: np.ndarray,
    grid: MonthGrid,
    world: WorldParameters,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    end = grid.end_day
    n = population.size
    u_path = rng.random(n)
    collection_lead = rng.integers(0, 11, n)
    write_off_lo, write_off_hi = world.write_off_delay_days
    write_off_lag = rng.integers(write_off_lo, write_off_hi + 1, n)

    defaulted = default_day <= end
    collection = defaulted & (u_path < world.collection_share)
    insolvency = defaulted & ~collection
    customers = np.arange(n)
    month_first = grid.first_day[grid.month_of(np.where(defaulted, default_day, end))]
    collection_day = np.maximum(default_day - collection_lead, month_first)
    write_off_day = np.where(collection, default_day, default_day + write_off_lag)

    c = invoices.customer
    open_at_default = ~settlement.paid_in_full & defaulted[c]
    written_off = open_at_default & (write_off_day[c] <= end)
    index = np.arange(invoices.size)
    nothing_open = collection & (np.bincount(c[open_at_default], minlength=n) == 0)
    no_invoice = np.full(int(nothing_open.sum()), NO_INVOICE, dtype=np.int64)
    no_invoice_ins = np.full(int(insolvency.sum()), NO_INVOICE, dtype=np.int64)
    no_invoice_col = np.full(int(collection.sum()), NO_INVOICE, dtype=np.int64)
    return [
        _events(customers[insolvency], default_day[insolvency], INSOLVENCY, no_invoice_ins),
        _events(customers[collection], collection_day[collection], COLLECTION, no_invoice_col),
        _events(c[written_off], write_off_day[c][written_off], WRITE_OFF, index[written_off]),
        _events(customers[nothing_open], default_day[nothing_open], WRITE_OFF, no_invoice),
    ]
