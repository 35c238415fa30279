"""Open invoices predicted as of the date asked: conditional on still being open at ``T``.

The late-payment model of :mod:`models.bundle` predicts an invoice at its issue date. An
invoice still open at ``T`` is a different question: time has passed, part of it may be
paid, reminders may have gone out, and it is known not to have been paid by ``T``. This
model answers it, trained on invoice x month-end snapshots (:mod:`training.open_invoices`):

* ``p_late``: 1 once ``T`` is past the due date + grace (what is known is not predicted);
  otherwise a calibrated classifier of "settled after due + grace" fitted on open,
  not-yet-due rows only, so the probability is conditional on being open at ``T``.
* payment date quantiles p10/p50/p90: ``T`` + days from ``T`` to settlement, from quantile
  regressors of that delay (always >= 1 day, so never on or before ``T``). The target is
  censored at ``horizon_days``: an invoice not settled within it counts as "``horizon_days``
  or later", so a quantile equal to the horizon reads "not before ``T`` + horizon". The
  interval is widened (or narrowed) on a log scale by a factor fitted on a calibration
  window so that p10-p90 covers the actual payment date about 80 % of the time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from creditrisk.features.one_customer import datetime64_days
from creditrisk.models import small_batch
from creditrisk.models.estimators import BoostedClassifier, QuantileRegressors
from creditrisk.models.spec import FeatureSpec

QUANTILE_NAMES: tuple[str, str, str] = ("p10", "p50", "p90")

OPEN_INVOICE_COLUMNS: tuple[str, ...] = (
    "p_late",
    "days_late_p10",
    "days_late_p50",
    "days_late_p90",
    "expected_payment_p10",
    "expected_payment_p50",
    "expected_payment_p90",
)
"""The prediction columns (same as the at-issue prediction of the bundle)."""


def days_until_payment(
    raw_quantiles: np.ndarray, *, horizon_days: int, log_widening: float
) -> np.ndarray:
    """Whole days from ``T`` to payment, shape (n, 3): each in ``[1, horizon_days]``, ordered.

    ``raw_quantiles`` are the regressors' p10/p50/p90; p10 and p90 move apart by
    ``exp(log_widening)`` (together when negative) around their own values.
    """
    q = np.sort(np.clip(np.asarray(raw_quantiles, dtype=np.float64), 1.0, None), axis=1)
    q = np.log(q)
    q[:, 0] -= log_widening
    q[:, 2] += log_widening
    days = np.clip(np.rint(np.exp(q)), 1, horizon_days)
    return np.maximum.accumulate(days, axis=1).astype(np.int64)


def due_days(values: Sequence[date | None], n_rows: int) -> np.ndarray:
    """Due dates given as dates (None for unknown) as ``datetime64[D]`` (NaT for None)."""
    if not n_rows:
        return np.empty(0, dtype="datetime64[D]")
    return datetime64_days(values)


def past_due_after_grace(
    due: np.ndarray, as_of: np.datetime64, grace_days: int
) -> np.ndarray:
    """``as_of`` later than due date + grace (``due`` as ``datetime64[D]``)."""
    return np.asarray(as_of > due + np.timedelta64(grace_days, "D"), dtype=bool)


@dataclass
class OpenInvoiceModel:
    """The models and rules for invoices open at ``T`` (see the module docstring)."""

    spec: FeatureSpec
    late_model: BoostedClassifier
    """P(settled after due + grace | open and not yet past due + grace at T)."""
    days_model: QuantileRegressors
    """Quantiles of days from T to settlement (target capped at ``horizon_days``)."""
    horizon_days: int
    grace_days: int
    log_widening: float = 0.0
    """Conformal adjustment of the p10-p90 interval, fitted on the calibration window."""

    def predict(
        self, invoice_features: pd.DataFrame, *, as_of: date | pd.Timestamp
    ) -> pd.DataFrame:
        """Open-invoice features at ``as_of`` -> :data:`OPEN_INVOICE_COLUMNS`, same index."""
        due = pd.to_datetime(invoice_features["due_date"]).to_numpy(dtype="datetime64[D]")
        out = self.predict_encoded(self.spec.encode(invoice_features), due, as_of=as_of)
        return pd.DataFrame(out, columns=list(OPEN_INVOICE_COLUMNS), index=invoice_features.index)

    def predict_late_encoded(
        self, X: np.ndarray, due: np.ndarray, *, as_of: date | pd.Timestamp
    ) -> np.ndarray:
        """``p_late`` alone (what a customer's late-payment summary reads): 1 once past due
        + grace at ``as_of``, else the classifier's probability."""
        stamp = np.datetime64(pd.Timestamp(as_of).normalize().date(), "D")
        past_due = past_due_after_grace(due, stamp, self.grace_days)
        p_late = np.ones(len(X))
        if (~past_due).any():
            p_late[~past_due] = small_batch.predict_proba(self.late_model, X[~past_due])
        return p_late

    def predict_late_columns(
        self, columns: Mapping[str, Any], n_rows: int, *, as_of: date | pd.Timestamp
    ) -> np.ndarray:
        """:meth:`predict_late_encoded` of a few invoices given as columns (name -> list or
        array, ``due_date`` as dates or None), without frames."""
        X = self.spec.encode_columns(columns, n_rows)
        return self.predict_late_encoded(X, due_days(columns["due_date"], n_rows), as_of=as_of)

    def predict_columns(
        self, columns: Mapping[str, Any], n_rows: int, *, as_of: date | pd.Timestamp
    ) -> dict[str, np.ndarray]:
        """:meth:`predict_encoded` of a few invoices given as columns (as
        :meth:`predict_late_columns` takes them): every prediction column, without frames."""
        X = self.spec.encode_columns(columns, n_rows)
        return self.predict_encoded(X, due_days(columns["due_date"], n_rows), as_of=as_of)

    def predict_encoded(
        self, X: np.ndarray, due: np.ndarray, *, as_of: date | pd.Timestamp
    ) -> dict[str, np.ndarray]:
        """Encoded features ``X`` (this model's spec) and due dates (``datetime64[D]``) ->
        :data:`OPEN_INVOICE_COLUMNS` as arrays (the form one customer's request uses)."""
        stamp = np.datetime64(pd.Timestamp(as_of).normalize().date(), "D")
        p_late = self.predict_late_encoded(X, due, as_of=as_of)
        raw = small_batch.predict_quantiles(self.days_model, X) if len(X) else np.zeros((0, 3))
        days = days_until_payment(raw, horizon_days=self.horizon_days,
                                  log_widening=self.log_widening)
        out: dict[str, np.ndarray] = {"p_late": p_late}
        dates = stamp + days.astype("timedelta64[D]")
        for i, name in enumerate(QUANTILE_NAMES):
            out[f"days_late_{name}"] = (dates[:, i] - due).astype(np.int64).astype(np.float64)
        for i, name in enumerate(QUANTILE_NAMES):
            out[f"expected_payment_{name}"] = dates[:, i].astype("datetime64[ns]")
        return out
