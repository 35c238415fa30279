"""Money as an analyst reads it: rounded to cents, with the reporting currency beside it."""

from __future__ import annotations

import math

import numpy as np

from creditrisk.models.policy import Policy

EXACT_CENTS_LIMIT = 2.0**53 / 100
"""Beyond this a float has no cent digits to round (and ``round(1e308, 2)`` overflows)."""


def cents(amount: float) -> float:
    """``amount`` rounded to cents (NaN, infinities and amounts too large to carry cents pass
    through unchanged)."""
    if not math.isfinite(amount) or abs(amount) >= EXACT_CENTS_LIMIT:
        return amount
    return round(amount, 2)


def money_cents(values: np.ndarray) -> np.ndarray:
    """:func:`cents` of every amount (the batch rounds a column exactly as the service rounds
    one value)."""
    return np.asarray([cents(v) for v in np.asarray(values, np.float64).tolist()],
                      dtype=np.float64)


def optional_cents(amount: float | None) -> float | None:
    """:func:`cents` that keeps None (unknown) as None."""
    return None if amount is None else cents(amount)


def reporting_currency(policy: Policy) -> str:
    """The currency every amount of this bundle is in: the policy's ``currency`` (ISO 4217,
    validated by the policy file; a file without one is in the policy's default)."""
    return policy.currency
