"""The month grid the synthetic world lives on.

Dates are integer days since 1970-01-01 inside the generator (fast, vectorised) and become
``datetime64[ns]`` only when the frames are assembled. Month 0 is the month holding
``start``; the grid extends a few months beyond ``end`` because a payment decision may fall
after the ledger ends (nothing dated after ``end`` is ever written).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from creditrisk.synthetic.errors import SyntheticLedgerError

NO_DATE = np.iinfo(np.int64).max // 4
"""Sentinel day number meaning "never" (after any real date, safe to add days to)."""


def day_number(value: date) -> int:
    """Days since 1970-01-01."""
    return int(np.datetime64(value, "D").astype(np.int64))


@dataclass(frozen=True)
class MonthGrid:
    """Calendar months from the month of ``start`` to a few months beyond ``end``."""

    first_day: np.ndarray
    """First day of each month (int64 day numbers)."""
    last_day: np.ndarray
    """Last day of each month (the month-end)."""
    calendar_month: np.ndarray
    """1..12 for each month."""
    start_day: int
    end_day: int

    @property
    def n_months(self) -> int:
        return len(self.first_day)

    @property
    def days_in_month(self) -> np.ndarray:
        days: np.ndarray = self.last_day - self.first_day + 1
        return days

    def month_of(self, days: np.ndarray) -> np.ndarray:
        """Index of the month holding each day number."""
        return np.searchsorted(self.first_day, days, side="right") - 1

    def observed_month_ends(self) -> np.ndarray:
        """Indices of the months whose month-end lies in [start, end]."""
        inside = (self.last_day >= self.start_day) & (self.last_day <= self.end_day)
        return np.flatnonzero(inside)


def build_month_grid(start: date, end: date, *, months_after_end: int) -> MonthGrid:
    """Months covering [start, end] plus ``months_after_end`` more."""
    if end < start:
        raise SyntheticLedgerError(f"end {end} is before start {start}")
    first = np.datetime64(start, "M")
    last = np.datetime64(end, "M") + np.timedelta64(months_after_end, "M")
    months = np.arange(first, last + np.timedelta64(1, "M"), dtype="datetime64[M]")
    first_day = months.astype("datetime64[D]").astype(np.int64)
    next_first = (months + np.timedelta64(1, "M")).astype("datetime64[D]").astype(np.int64)
    return MonthGrid(
        first_day=first_day,
        last_day=next_first - 1,
        calendar_month=(months.astype(np.int64) % 12 + 1).astype(np.int64),
        start_day=day_number(start),
        end_day=day_number(end),
    )
