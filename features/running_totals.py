"""Running totals per customer over time, answerable for any (customer, day) pair at once.

Records (an invoice issued, a payment received, a balance change) are keyed by
``code << 20 | day`` and sorted once; running sums of their values are kept alongside. How
many records a customer had, or what they added up to, strictly before day ``t`` is then
two binary searches, for millions of (customer, day) questions in one vectorised call.

Values are summed as ``int64`` (amounts in cents, days, flags), so a total does not depend
on which other records exist: adding records after ``t`` or for other customers leaves every
answer before ``t`` bit-for-bit unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from creditrisk.features.prepared import DAY_BITS, NO_DAY


def to_cents(amount: np.ndarray) -> np.ndarray:
    """Amounts as whole cents (``int64``); missing amounts count as 0."""
    cents: np.ndarray = np.round(np.nan_to_num(amount, nan=0.0) * 100.0).astype(np.int64)
    return cents


@dataclass(frozen=True)
class RunningTotals:
    """Records sorted by (customer code, day) with running sums of their values."""

    keys: np.ndarray
    running: dict[str, np.ndarray]
    """Per value: ``running[v][i]`` = sum of the first ``i`` sorted records (length n + 1)."""

    @classmethod
    def build(
        cls, codes: np.ndarray, days: np.ndarray, values: Mapping[str, np.ndarray]
    ) -> RunningTotals:
        """Index records of customer ``codes`` on ``days``; records on ``NO_DAY`` or later
        (dates that never happen) are dropped. Ties keep their input order."""
        kept = days < NO_DAY
        keys = (codes[kept].astype(np.int64) << DAY_BITS) | days[kept].astype(np.int64)
        order = np.argsort(keys, kind="stable")
        running = {}
        for name, value in values.items():
            ordered = value[kept][order].astype(np.int64)
            running[name] = np.concatenate(([0], np.cumsum(ordered)))
        return cls(keys=keys[order], running=running)

    def first(self, codes: np.ndarray) -> np.ndarray:
        """Position of each customer's first record."""
        return np.searchsorted(self.keys, codes.astype(np.int64) << DAY_BITS, side="left")

    def before(self, codes: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Position just past each customer's last record dated strictly before ``days``."""
        day = np.clip(days.astype(np.int64), 0, NO_DAY)
        return np.searchsorted(self.keys, (codes.astype(np.int64) << DAY_BITS) | day, side="left")

    def between(self, name: str, start: np.ndarray, stop: np.ndarray) -> np.ndarray:
        """Sum of value ``name`` over sorted positions ``start <= i < stop``."""
        running = self.running[name]
        total: np.ndarray = running[stop] - running[start]
        return total
