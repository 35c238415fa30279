"""The generator's truth: the best achievable probabilities, computed, never sampled.

* ``pd_12m`` of customer *c* at month-end *T* of month *m*: the probability that the
  distress chain is absorbed within the next 12 monthly steps given *c*'s creditworthiness
  and its state in month *m*: ``(P_c ** 12)[state, defaulted]``. Absorption in month
  *m + k* is dated on day 1..28 of that month, which always lies in (T, T + 365 days], and
  no earlier default signal exists (living customers are never 90 days past due), so this is
  exactly P(a default event within (T, T + 365 days] | everything the generator knows at T).
  Already defaulted customers get ``in_default`` and ``pd_12m`` = 1.
* ``p_late`` of an invoice issued in month *m* and due in month *m + k*: the payment is
  driven by the state of the due month, so
  ``p_late = sum_g (P_c ** k)[state_m, g] * L_c(g)`` with ``L_c(defaulted) = 1`` (never
  paid) and for a living state ``L_c(g) = P(delay > 0)``, mixing over the dispute::

      (1 - q) * sigmoid(mu / s) + q * s / (b - a) * (softplus((mu + b) / s)
                                                    - softplus((mu + a) / s))

  where the delay is ``mu + dispute * Uniform(a, b) + Logistic(0, s)``. Clipping the delay
  does not change its sign, and a living customer always pays an invoice due before its
  default month, so this is exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from creditrisk.synthetic.calendar import MonthGrid
from creditrisk.synthetic.distress import default_within, matrix_powers
from creditrisk.synthetic.invoicing import Invoices
from creditrisk.synthetic.payments import delay_location_days, dispute_probability
from creditrisk.synthetic.population import Population
from creditrisk.synthetic.world import DEFAULTED, N_LIVING_STATES, N_STATES, WorldParameters

PD_HORIZON_MONTHS = 12


def late_probability_by_state(population: Population, world: WorldParameters) -> np.ndarray:
    """P(paid after due | customer, state of the due month), shape (n, 4)."""
    mu = delay_location_days(population, world)
    q = dispute_probability(population, world)
    s = world.delay_noise_scale_days
    a, b = world.dispute_delay_days
    undisputed = 1.0 / (1.0 + np.exp(-mu / s))
    disputed = s / (b - a) * (np.logaddexp(0.0, (mu + b) / s) - np.logaddexp(0.0, (mu + a) / s))
    out = np.ones((population.size, N_STATES))
    out[:, :N_LIVING_STATES] = (1.0 - q) * undisputed + q * disputed
    return out


def invoice_late_probability(
    invoices: Invoices, population: Population, *, P: np.ndarray, world: WorldParameters
) -> np.ndarray:
    """P(paid after its due date, grace 0) of each invoice, given the state at issue."""
    if invoices.size == 0:
        return np.zeros(0)
    steps = invoices.due_month - invoices.issue_month
    powers = matrix_powers(P, int(steps.max()))
    c = invoices.customer
    to_due_state = powers[steps, c, invoices.issue_state, :]
    late = late_probability_by_state(population, world)
    p_late: np.ndarray = np.einsum("ng,ng->n", to_due_state, late[c])
    return p_late


@dataclass(frozen=True)
class CustomerMonthTruth:
    """Truth per customer and observed month-end (customer onboarded by then)."""

    customer: np.ndarray
    month_end_day: np.ndarray
    pd_12m: np.ndarray
    in_default: np.ndarray


def customer_month_truth(
    population: Population, *, states: np.ndarray, P: np.ndarray, grid: MonthGrid
) -> CustomerMonthTruth:
    """``pd_12m`` and ``in_default`` for every customer and month-end in [start, end]."""
    months = grid.observed_month_ends()
    observed = states[:, months]
    customer, column = np.nonzero(observed >= 0)
    state = observed[customer, column].astype(np.int64)
    pd_by_state = default_within(P, PD_HORIZON_MONTHS)
    return CustomerMonthTruth(
        customer=customer.astype(np.int64),
        month_end_day=grid.last_day[months][column],
        pd_12m=pd_by_state[customer, state],
        in_default=state == DEFAULTED,
    )
