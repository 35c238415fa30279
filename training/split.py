"""Out-of-time split: train on older dates, calibrate and test on the latest ones.

Never a random split across time. Between the training rows and the holdout there is a
gap as long as the label window, so no training label window reaches into the holdout:
a training snapshot at T has its label window (T, T + horizon] ending on or before the
first holdout date. The holdout is split into a calibration part and a test part by
customer (a stable hash), so the calibrator and the test share no customer and no outcome.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from creditrisk.training.errors import TrainingError

TRAIN, CALIBRATION, TEST, GAP = "train", "calibration", "test", "gap"


class SplitError(TrainingError, ValueError):
    """The data cannot be split as configured (names the dates involved)."""


@dataclass(frozen=True)
class OutOfTimeSplit:
    """Dates that define the split; ``train_end + horizon <= holdout_start``."""

    train_start: pd.Timestamp
    train_end: pd.Timestamp
    holdout_start: pd.Timestamp
    holdout_end: pd.Timestamp
    horizon_days: int
    calibration_share: float = 0.5

    def __post_init__(self) -> None:
        if self.train_end + pd.Timedelta(days=self.horizon_days) > self.holdout_start:
            raise SplitError(
                f"label windows of training rows (to {self.train_end.date()} + "
                f"{self.horizon_days} days) overlap the holdout starting "
                f"{self.holdout_start.date()}"
            )

    def to_dict(self) -> dict[str, str | int | float]:
        return {
            "train_start": str(self.train_start.date()),
            "train_end": str(self.train_end.date()),
            "holdout_start": str(self.holdout_start.date()),
            "holdout_end": str(self.holdout_end.date()),
            "horizon_days": self.horizon_days,
            "calibration_share": self.calibration_share,
        }

    def assign(self, dates: pd.Series, customer_ids: pd.Series) -> np.ndarray:
        """Role of each row: train / calibration / test / gap (unused)."""
        d = pd.to_datetime(dates).to_numpy(dtype="datetime64[ns]")
        role = np.full(len(d), GAP, dtype=object)
        role[(d >= self.train_start.to_datetime64()) & (d <= self.train_end.to_datetime64())] = (
            TRAIN
        )
        holdout = (d >= self.holdout_start.to_datetime64()) & (
            d <= self.holdout_end.to_datetime64()
        )
        to_calibration = customer_bucket(customer_ids) < self.calibration_share
        role[holdout & to_calibration] = CALIBRATION
        role[holdout & ~to_calibration] = TEST
        return role


def customer_bucket(customer_ids: pd.Series, *, salt: str = "") -> np.ndarray:
    """A stable pseudo-random number in [0, 1) per customer id (sha256, not Python hash).

    A different ``salt`` gives an independent draw (e.g. the early-stopping customers are
    chosen independently of the calibration/test customers).
    """
    uniques, codes = np.unique(customer_ids.astype("string").to_numpy(dtype=str),
                               return_inverse=True)
    values = np.array(
        [
            int.from_bytes(hashlib.sha256((salt + u).encode()).digest()[:8], "big") / 2**64
            for u in uniques
        ]
    )
    return values[codes] if len(values) else np.zeros(0)


def plan_snapshot_split(
    labelled_dates: pd.Series | list[pd.Timestamp],
    *,
    horizon_days: int,
    holdout_periods: int,
    calibration_share: float = 0.5,
) -> OutOfTimeSplit:
    """Latest ``holdout_periods`` labelled dates are the holdout; training ends a label
    window earlier."""
    dates = sorted(pd.to_datetime(pd.Series(labelled_dates)).drop_duplicates())
    if len(dates) < holdout_periods + 1:
        raise SplitError(f"need more than {holdout_periods} labelled dates, have {len(dates)}")
    holdout = dates[-holdout_periods:]
    limit = holdout[0] - pd.Timedelta(days=horizon_days)
    train = [d for d in dates if d <= limit]
    if not train:
        raise SplitError(
            f"no labelled date on or before {limit.date()} (holdout starts "
            f"{holdout[0].date()}, horizon {horizon_days} days): the ledger is too short"
        )
    return OutOfTimeSplit(train[0], train[-1], holdout[0], holdout[-1], horizon_days,
                          calibration_share)


def plan_invoice_split(
    issue_dates: pd.Series,
    *,
    data_end: date | pd.Timestamp,
    holdout_share: float = 0.3,
    calibration_share: float = 0.5,
) -> OutOfTimeSplit:
    """Invoices issued in the latest ``holdout_share`` of the period form the holdout.

    Training invoices are labelled with their outcome as known at ``train_end`` (censoring),
    so their label windows close before the holdout starts; horizon is 0 days here.
    """
    dates = pd.to_datetime(issue_dates)
    if dates.empty:
        raise SplitError("no invoices to split")
    start, end = dates.min(), pd.Timestamp(data_end)
    cut = dates.quantile(1 - holdout_share).normalize()
    return OutOfTimeSplit(start, cut, cut + pd.Timedelta(days=1), end, 0, calibration_share)
