"""Invoices of the synthetic world: how many, when, how much, due when.

Per customer and month the number of invoices is Poisson with a rate that grows with the
customer's size, follows the season (Q4 peak, summer dip) and falls when the customer is in
trouble. Invoices are issued uniformly over the days the customer trades that month (not
before it starts, not on or after its default, not after ``end``). Amounts are lognormal
around the customer's usual invoice; the due date is issue date plus payment terms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from creditrisk.synthetic.calendar import MonthGrid
from creditrisk.synthetic.population import Population
from creditrisk.synthetic.world import WorldParameters


@dataclass(frozen=True)
class Invoices:
    """One partition's invoices as parallel arrays, sorted by customer then issue date."""

    customer: np.ndarray
    """Index of the customer in its :class:`Population` partition."""
    issue_day: np.ndarray
    due_day: np.ndarray
    amount: np.ndarray
    issue_month: np.ndarray
    due_month: np.ndarray
    issue_state: np.ndarray
    """Distress state of the issue month (what the truth conditions on)."""
    governing_state: np.ndarray
    """Distress state of the due month: it drives how this invoice is paid."""

    @property
    def size(self) -> int:
        return len(self.customer)


def draw_invoices(
    rng: np.random.Generator,
    population: Population,
    *,
    states: np.ndarray,
    default_day: np.ndarray,
    grid: MonthGrid,
    world: WorldParameters,
) -> Invoices:
    """Draw every invoice issued in [start, end] by the partition's customers."""
    months = np.flatnonzero(grid.first_day <= grid.end_day)
    month_states = states[:, months]
    lo = np.maximum(grid.first_day[months][None, :], population.trade_start_day[:, None])
    hi = np.minimum(
        np.minimum(grid.last_day[months], grid.end_day)[None, :], default_day[:, None] - 1
    )
    trading_days = np.where(month_states >= 0, np.maximum(hi - lo + 1, 0), 0)
    season = np.asarray(world.seasonality)[grid.calendar_month[months] - 1]
    season = season / np.mean(world.seasonality)
    state_factor = np.asarray(world.state_invoice_multiplier)[np.maximum(month_states, 0)]
    rate = (
        population.invoices_per_month[:, None]
        * season[None, :]
        * state_factor
        * trading_days
        / grid.days_in_month[months][None, :]
    )
    counts = rng.poisson(rate)

    flat_counts = counts.ravel()
    pair = np.repeat(np.arange(flat_counts.size), flat_counts)
    customer = pair // len(months)
    month = months[pair % len(months)]
    pair_lo = lo.ravel()[pair]
    pair_days = trading_days.ravel()[pair]
    issue_day = pair_lo + np.floor(rng.random(pair.size) * pair_days).astype(np.int64)
    log_amount = np.log(population.invoice_amount_median[customer]) + (
        world.invoice_amount_sigma * rng.standard_normal(pair.size)
    )
    amount = np.maximum(np.round(np.exp(log_amount), 2), 1.0)

    order = np.lexsort((issue_day, customer))
    customer, month, issue_day, amount = (
        customer[order],
        month[order],
        issue_day[order],
        amount[order],
    )
    due_day = issue_day + population.payment_terms_days[customer]
    due_month = grid.month_of(due_day)
    return Invoices(
        customer=customer,
        issue_day=issue_day,
        due_day=due_day,
        amount=amount,
        issue_month=month,
        due_month=due_month,
        issue_state=states[customer, month].astype(np.int64),
        governing_state=states[customer, due_month].astype(np.int64),
    )
