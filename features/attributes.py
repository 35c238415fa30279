"""Time-varying customer attributes (a rating with its valid-from date), read point in time.

The ledger keeps every value a customer's attribute took, with the day from which it holds
(``ledger.customer_attributes``). A feature at ``T`` uses the value valid at ``T``: the one
with the latest valid-from day on or before ``T``; a value valid from a later day is never
seen, so mapping today's rating onto the past is impossible by construction.

:class:`AttributeHistory` holds one attribute's history as flat arrays sorted by (customer
code, valid-from day), so one binary search per row finds the value in force.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

RATING_ATTRIBUTE = "rating"
"""The attribute the ``customer_rating`` feature reads."""


def _keys(customer: np.ndarray, day: np.ndarray) -> np.ndarray:
    """A sortable (customer, day) key; days (0 .. 2**20) fit in the low 32 bits."""
    keys: np.ndarray = (customer.astype(np.int64) << 32) | day.astype(np.int64)
    return keys


@dataclass(frozen=True)
class AttributeHistory:
    """One attribute's values per customer code, sorted by (customer, valid-from day)."""

    customer: np.ndarray
    day: np.ndarray
    value: pd.Series
    """``string`` values, aligned with ``customer`` and ``day``."""

    @classmethod
    def empty(cls) -> AttributeHistory:
        return cls(np.empty(0, np.int32), np.empty(0, np.int32), pd.Series([], dtype="string"))

    @classmethod
    def build(cls, customer: np.ndarray, day: np.ndarray, value: pd.Series) -> AttributeHistory:
        """From unsorted rows (same day twice for a customer: the last row wins)."""
        order = np.lexsort((np.arange(len(day)), day, customer))
        return cls(
            customer[order].astype(np.int32),
            day[order].astype(np.int32),
            value.astype("string").iloc[order].reset_index(drop=True),
        )

    def partition(self, start: int, stop: int) -> AttributeHistory:
        """Customers ``start <= code < stop``, codes renumbered from 0."""
        rows = slice(*np.searchsorted(self.customer, np.array([start, stop])).tolist())
        return AttributeHistory(
            self.customer[rows] - np.int32(start),
            self.day[rows],
            self.value.iloc[rows].reset_index(drop=True),
        )

    def known_at(self, day: int) -> AttributeHistory:
        """Only the values valid from ``day`` or earlier."""
        kept = self.day <= day
        if bool(kept.all()):
            return self
        return AttributeHistory(
            self.customer[kept], self.day[kept], self.value[kept].reset_index(drop=True)
        )

    def value_before(self, customer: np.ndarray, until: np.ndarray) -> pd.Series:
        """Per row, the value in force for ``customer`` just before day ``until`` (the
        latest valid-from day ``< until``); missing when there is none."""
        if len(self.day) == 0 or len(customer) == 0:
            return pd.Series(pd.array([pd.NA] * len(customer), dtype="string"))
        keys = _keys(self.customer, self.day)
        wanted = _keys(customer, np.asarray(until, dtype=np.int64))
        position = np.searchsorted(keys, wanted, side="left") - 1
        found = position >= 0
        safe = np.maximum(position, 0)
        found &= self.customer[safe] == customer
        values = self.value.array.take(safe)
        return pd.Series(values).where(found).astype("string").reset_index(drop=True)
