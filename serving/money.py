"""Money as an analyst reads it: rounded to cents, with the reporting currency beside it."""

from __future__ import annotations

import math
from typing import Final

from creditrisk.models.policy import Policy

DEFAULT_CURRENCY: Final = "EUR"


def cents(amount: float) -> float:
    """``amount`` rounded to cents (NaN and infinities pass through unchanged)."""
    return round(amount, 2) if math.isfinite(amount) else amount


def optional_cents(amount: float | None) -> float | None:
    """:func:`cents` that keeps None (unknown) as None."""
    return None if amount is None else cents(amount)


def reporting_currency(policy: Policy) -> str:
    """The currency every amount of this bundle is in: the policy's ``currency`` (bundles
    written before the policy carried one are in :data:`DEFAULT_CURRENCY`)."""
    currency = getattr(policy, "currency", None)
    return str(currency) if currency else DEFAULT_CURRENCY
