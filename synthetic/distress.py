"""The monthly distress chain: healthy -> watch -> distressed -> defaulted (absorbing).

Each customer's financial health is a 4-state Markov chain with one step per calendar
month. Its transition probabilities depend on the customer's latent creditworthiness ``z``
(worse customers slide into trouble more often and recover less). Default is the month the
chain is absorbed; it is dated on day 1..28 of that month so that "default within 12 months
of a month-end" and "absorbed within the next 12 monthly steps" are the same event.
"""

from __future__ import annotations

import numpy as np

from creditrisk.synthetic.calendar import NO_DATE, MonthGrid
from creditrisk.synthetic.world import (
    DEFAULTED,
    DISTRESSED,
    HEALTHY,
    N_STATES,
    WATCH,
    WorldParameters,
)

NOT_STARTED = -1
"""State code for months before a customer's chain starts (not yet a customer)."""


def _probability(logit: tuple[float, float], z: np.ndarray) -> np.ndarray:
    base, slope = logit
    return 1.0 / (1.0 + np.exp(-(base + slope * z)))


def transition_matrices(z: np.ndarray, world: WorldParameters) -> np.ndarray:
    """Monthly transition matrix per customer, shape (n, 4, 4), rows sum to 1."""
    n = len(z)
    P = np.zeros((n, N_STATES, N_STATES))
    P[:, HEALTHY, WATCH] = _probability(world.healthy_to_watch, z)
    P[:, HEALTHY, DISTRESSED] = _probability(world.healthy_to_distressed, z)
    P[:, HEALTHY, DEFAULTED] = _probability(world.healthy_to_default, z)
    P[:, WATCH, HEALTHY] = _probability(world.watch_to_healthy, z)
    P[:, WATCH, DISTRESSED] = _probability(world.watch_to_distressed, z)
    P[:, WATCH, DEFAULTED] = _probability(world.watch_to_default, z)
    P[:, DISTRESSED, WATCH] = _probability(world.distressed_to_watch, z)
    P[:, DISTRESSED, DEFAULTED] = _probability(world.distressed_to_default, z)
    P[:, DEFAULTED, DEFAULTED] = 1.0
    for state in (HEALTHY, WATCH, DISTRESSED):
        P[:, state, state] = 1.0 - P[:, state, :].sum(axis=1)
    return P


def applicant_distribution(z: np.ndarray, world: WorldParameters) -> np.ndarray:
    """State distribution of a customer at onboarding, shape (n, 4) (never defaulted)."""
    out = np.zeros((len(z), N_STATES))
    out[:, WATCH] = _probability(world.applicant_watch, z)
    out[:, DISTRESSED] = _probability(world.applicant_distressed, z)
    out[:, HEALTHY] = 1.0 - out[:, WATCH] - out[:, DISTRESSED]
    return out


def existing_distribution(
    applicant: np.ndarray, P: np.ndarray, *, burn_in_months: int
) -> np.ndarray:
    """State at ``start`` of a customer who has traded ``burn_in_months`` and not defaulted."""
    dist = applicant
    for _ in range(burn_in_months):
        dist = np.einsum("ns,nst->nt", dist, P)
    dist = dist.copy()
    dist[:, DEFAULTED] = 0.0
    normalised: np.ndarray = dist / dist.sum(axis=1, keepdims=True)
    return normalised


def matrix_powers(P: np.ndarray, max_power: int) -> np.ndarray:
    """``P**k`` for k = 0..max_power per customer, shape (max_power + 1, n, 4, 4)."""
    n = P.shape[0]
    out = np.empty((max_power + 1, n, N_STATES, N_STATES))
    out[0] = np.eye(N_STATES)
    for k in range(1, max_power + 1):
        out[k] = out[k - 1] @ P
    return out


def default_within(P: np.ndarray, months: int) -> np.ndarray:
    """P(absorbed within ``months`` monthly steps | current state), shape (n, 4)."""
    absorbed = np.zeros((P.shape[0], N_STATES))
    absorbed[:, DEFAULTED] = 1.0
    for _ in range(months):
        absorbed = np.einsum("nst,nt->ns", P, absorbed)
    return absorbed


def simulate_states(
    rng: np.random.Generator,
    *,
    initial: np.ndarray,
    P: np.ndarray,
    start_month: np.ndarray,
    n_months: int,
) -> np.ndarray:
    """Sample each customer's state per month, shape (n, n_months), int8.

    Months before ``start_month`` hold :data:`NOT_STARTED`; at ``start_month`` the state is
    drawn from ``initial``, afterwards from the previous month's row of ``P``.
    """
    n = len(start_month)
    states = np.full((n, n_months), NOT_STARTED, dtype=np.int8)
    rows = np.arange(n)
    previous = np.zeros(n, dtype=np.int64)
    for month in range(n_months):
        u = rng.random(n)
        starting = start_month == month
        running = start_month < month
        probs = np.where(starting[:, None], initial, P[rows, previous])
        cumulative = np.cumsum(probs, axis=1)[:, : N_STATES - 1]
        drawn = (u[:, None] >= cumulative).sum(axis=1)
        current = np.where(starting | running, drawn, NOT_STARTED)
        states[:, month] = current
        previous = np.where(current >= 0, current, 0)
    return states


def draw_default_days(
    rng: np.random.Generator, states: np.ndarray, grid: MonthGrid, world: WorldParameters
) -> np.ndarray:
    """Day number of each customer's default (:data:`NO_DATE` when never absorbed).

    The default is dated uniformly on day 1..``default_last_day_of_month`` of the month the
    chain is first in the defaulted state.
    """
    absorbed = states == DEFAULTED
    ever = absorbed.any(axis=1)
    month = np.argmax(absorbed, axis=1)
    offset = rng.integers(0, world.default_last_day_of_month, len(month))
    return np.where(ever, grid.first_day[month] + offset, NO_DATE).astype(np.int64)
