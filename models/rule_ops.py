"""The arithmetic the policy rules are written in: numpy columns, or plain floats for one row.

A rule (:func:`models.limits.limit_rule`) is written once against an ``ops`` argument and
runs on either namespace: :data:`ARRAY_OPS` for a batch (numpy arrays, vectorised) or
:data:`SCALAR_OPS` for the one customer the online service decides (Python floats and
bools). A batch of one through numpy pays about 1 µs per array operation, and a rule has
about a hundred of them; the same rule on plain floats costs a few µs in all. The two
namespaces give the same result for every input the rules receive (NaN included), which
the policy tests check row by row against the batch path.

Plain operators (``+ - * / < <= == & |``) work on both; everything else goes through
``ops``: ``~`` on a Python bool is an integer, ``np.where`` and ``np.minimum`` build arrays.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["ARRAY_OPS", "SCALAR_OPS", "ArrayOps", "ScalarOps"]


class ArrayOps:
    """numpy columns (one entry per row)."""

    @staticmethod
    def where(condition: Any, when_true: Any, when_false: Any) -> Any:
        return np.where(condition, when_true, when_false)

    @staticmethod
    def minimum(left: Any, right: Any) -> Any:
        return np.minimum(left, right)

    @staticmethod
    def maximum(left: Any, right: Any) -> Any:
        return np.maximum(left, right)

    @staticmethod
    def isnan(values: Any) -> Any:
        return np.isnan(values)

    @staticmethod
    def not_(flags: Any) -> Any:
        return ~flags

    @staticmethod
    def floor(values: Any) -> Any:
        return np.floor(values)

    @staticmethod
    def ratio_or(numerator: float, denominator: Any, default: float) -> Any:
        """``numerator / denominator`` where the denominator is positive, else ``default``."""
        with np.errstate(divide="ignore", over="ignore"):
            return np.where(denominator > 0, numerator / denominator, default)

    @staticmethod
    def isin(values: Any, choices: Iterable[Any]) -> Any:
        hit = np.zeros(np.shape(values), dtype=bool)
        for choice in choices:
            hit |= values == choice
        return hit

    @staticmethod
    def full_like(like: Any, value: Any) -> Any:
        return np.full(np.shape(like), value)


class ScalarOps:
    """Python floats and bools (one customer); NaN behaves as in numpy."""

    @staticmethod
    def where(condition: Any, when_true: Any, when_false: Any) -> Any:
        return when_true if condition else when_false

    @staticmethod
    def minimum(left: Any, right: Any) -> Any:
        return left if (left <= right or left != left) else right  # NaN propagates

    @staticmethod
    def maximum(left: Any, right: Any) -> Any:
        return left if (left >= right or left != left) else right  # NaN propagates

    @staticmethod
    def isnan(value: Any) -> bool:
        return bool(value != value)

    @staticmethod
    def not_(flag: Any) -> bool:
        return not flag

    @staticmethod
    def floor(value: Any) -> Any:
        return float(math.floor(value)) if math.isfinite(value) else value

    @staticmethod
    def ratio_or(numerator: float, denominator: Any, default: float) -> Any:
        """``numerator / denominator`` where the denominator is positive, else ``default``."""
        return numerator / denominator if denominator > 0 else default

    @staticmethod
    def isin(value: Any, choices: Iterable[Any]) -> bool:
        return value in choices

    @staticmethod
    def full_like(like: Any, value: Any) -> Any:
        return value


ARRAY_OPS = ArrayOps()
SCALAR_OPS = ScalarOps()
