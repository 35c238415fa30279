"""How the synthetic customers pay: delays, disputes, instalments, and stopping at default.

The days beyond terms of an invoice are ``mu + dispute_days + noise`` where

* ``mu`` = base + (days per sd of z) * z + the customer's habit + the shift of the distress
  state *of the month the invoice falls due* (on watch and distressed customers pay later,
  so trouble shows in the most recent payments),
* a dispute (more likely for weak and troubled customers) adds Uniform(15, 40) days,
* the noise is logistic (scale ``delay_noise_scale_days``),

rounded up to whole days, clipped below at paying on the issue date and above at
``delay_cap_days`` (so no living customer is ever 90 days past due). The invoice is paid on
due date + that many days, in two instalments for a share of invoices. A customer that is
defaulted by the month an invoice falls due never pays it, and nothing is paid on or after
the default date. :mod:`creditrisk.synthetic.truth` computes P(late) from exactly this story.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from creditrisk.synthetic.calendar import NO_DATE
from creditrisk.synthetic.invoicing import Invoices
from creditrisk.synthetic.population import Population
from creditrisk.synthetic.world import DEFAULTED, DISTRESSED, N_LIVING_STATES, WorldParameters


@dataclass(frozen=True)
class Settlement:
    """Per invoice: dispute, planned payment and what of it happens before default."""

    disputed: np.ndarray
    """A dispute was raised (and dated before any default)."""
    dispute_day: np.ndarray
    planned_pay_day: np.ndarray
    """When the last instalment would land (:data:`NO_DATE` if never: defaulted by due)."""
    paid_in_full: np.ndarray
    """The last instalment lands before the customer's default (at any date, maybe > end)."""
    first_instalment_day: np.ndarray
    """Day of the first of two instalments (:data:`NO_DATE` for single payments)."""
    first_instalment_amount: np.ndarray

    def stop_day(self, default_day: np.ndarray) -> np.ndarray:
        """The day the invoice stops being chased: paid, or the customer defaulted."""
        stop: np.ndarray = np.minimum(
            np.where(self.paid_in_full, self.planned_pay_day, NO_DATE), default_day
        )
        return stop


def per_living_state(base: np.ndarray, offsets: tuple[float, ...]) -> np.ndarray:
    """``base`` per customer plus an offset per living state, shape (n, 3)."""
    return base[:, None] + np.asarray(offsets, dtype=np.float64)[None, :N_LIVING_STATES]


def delay_location_days(population: Population, world: WorldParameters) -> np.ndarray:
    """``mu`` of the delay per customer and living state, shape (n, 3)."""
    base = world.delay_base_days + world.delay_z_days * population.z + population.habit_days
    return per_living_state(base, world.delay_state_days)


def _logit_table(
    logit: tuple[float, float], state_logit: tuple[float, ...], population: Population
) -> np.ndarray:
    base = logit[0] + logit[1] * population.z
    probability: np.ndarray = 1.0 / (1.0 + np.exp(-per_living_state(base, state_logit)))
    return probability


def dispute_probability(population: Population, world: WorldParameters) -> np.ndarray:
    """P(dispute) per customer and living state, shape (n, 3)."""
    return _logit_table(world.dispute_logit, world.dispute_state_logit, population)


def partial_probability(population: Population, world: WorldParameters) -> np.ndarray:
    """P(paid in two instalments) per customer and living state, shape (n, 3)."""
    return _logit_table(world.partial_logit, world.partial_state_logit, population)


def draw_settlement(
    rng: np.random.Generator,
    invoices: Invoices,
    population: Population,
    *,
    default_day: np.ndarray,
    world: WorldParameters,
) -> Settlement:
    """Draw disputes, delays and instalments for every invoice of the partition."""
    n = invoices.size
    c = invoices.customer
    living = invoices.governing_state != DEFAULTED
    state = np.where(living, invoices.governing_state, DISTRESSED)
    terms = population.payment_terms_days[c]

    u_dispute = rng.random(n)
    dispute_extra = rng.uniform(*world.dispute_delay_days, size=n)
    u_noise = np.clip(rng.random(n), 1e-12, 1.0 - 1e-12)
    u_dispute_day = rng.random(n)
    u_partial = rng.random(n)
    u_gap = rng.random(n)
    share = rng.uniform(*world.partial_first_share, size=n)

    disputed = u_dispute < dispute_probability(population, world)[c, state]
    noise = world.delay_noise_scale_days * np.log(u_noise / (1.0 - u_noise))
    delay = delay_location_days(population, world)[c, state] + disputed * dispute_extra + noise
    days_beyond = np.clip(np.ceil(delay), -terms, world.delay_cap_days).astype(np.int64)
    planned = np.where(living, invoices.due_day + days_beyond, NO_DATE)
    customer_default = default_day[c]
    paid_in_full = living & (planned < customer_default)

    room = planned - invoices.issue_day
    partial = living & (u_partial < partial_probability(population, world)[c, state]) & (room >= 2)
    gap = 1 + np.floor(u_gap * np.minimum(world.partial_max_gap_days, room)).astype(np.int64)
    first_day = np.where(partial, planned - gap, NO_DATE)
    first_amount = np.where(partial, np.round(invoices.amount * share, 2), 0.0)

    window = np.where(living, np.minimum(terms, room - 1), terms)
    window = np.maximum(window, 0)
    dispute_day = invoices.issue_day + np.floor(u_dispute_day * (window + 1)).astype(np.int64)
    disputed &= dispute_day < customer_default
    return Settlement(
        disputed=disputed,
        dispute_day=np.where(disputed, dispute_day, NO_DATE),
        planned_pay_day=planned,
        paid_in_full=paid_in_full,
        first_instalment_day=first_day,
        first_instalment_amount=first_amount,
    )
