"""Money in the policy: amounts rounded to cents, and amounts and shares written in reasons.

``round_money`` rounds half away from zero on the decimal value a person reads (1.005 ->
1.01, 2.675 -> 2.68), not on the binary float (where 1.005 is 1.00499...): the amount is
first rounded to a millionth of a cent, which removes the binary error and keeps every real
cent. Non-finite amounts and amounts above :data:`MAX_INPUT_AMOUNT` are
refused with :class:`PolicyInputError` naming the field.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from creditrisk.models.grades import PolicyInputError
from creditrisk.models.policy_inputs import MAX_INPUT_AMOUNT

__all__ = ["days_text", "money_text", "percent_text", "round_money", "round_money_value"]

_MICRO_CENTS = 1e6


def round_money(amount: ArrayLike, *, name: str, ceiling: float = MAX_INPUT_AMOUNT) -> np.ndarray:
    """Amounts rounded to cents, half away from zero on the decimal value (float64 array)."""
    values = np.asarray(amount, dtype=np.float64)
    bad = ~(np.abs(values) <= ceiling)  # NaN and inf fail too
    if bad.any():
        flat = values.reshape(-1)
        row = int(np.flatnonzero(bad.reshape(-1))[0])
        raise PolicyInputError(
            f"{name}: row {row} is {flat[row]!r}, not a finite amount within {ceiling:,.0f}"
        )
    cents = np.abs(values) * 100.0
    cents = np.round(cents, 6)  # drop the binary error below a millionth of a cent
    return np.copysign(np.floor(cents + 0.5), values) / 100.0


def round_money_value(amount: float, *, name: str, ceiling: float = MAX_INPUT_AMOUNT) -> float:
    """:func:`round_money` of one Python float, with the same float operations (numpy's
    ``round(x, 6)`` is ``rint(x * 1e6) / 1e6``; Python's ``round`` of a float to an integer
    also rounds half to even), so both give the same bits."""
    if not abs(amount) <= ceiling:
        raise PolicyInputError(
            f"{name}: row 0 is {amount!r}, not a finite amount within {ceiling:,.0f}"
        )
    cents = round(abs(amount) * 100.0 * _MICRO_CENTS) / _MICRO_CENTS
    return math.copysign(math.floor(cents + 0.5), amount) / 100.0


def money_text(amount: float, currency: str) -> str:
    """An amount in a reason sentence: ``EUR 82,508.48`` (``none`` when unknown)."""
    if math.isnan(amount):
        return "none"
    if math.isinf(amount):
        return "no limit"
    return f"{currency} {amount:,.2f}"


def percent_text(share: float) -> str:
    """A share in a reason sentence: ``0.125`` -> ``12.5 %`` (``none`` when unknown)."""
    return "none" if math.isnan(share) else f"{round(share * 100.0, 2):g} %"


def days_text(days: float) -> str:
    return f"{days:g}"
