"""Probability calibration fitted on its own out-of-time window.

A PD is used in money arithmetic (expected loss), so raw classifier scores are mapped to
calibrated probabilities. Platt scaling (logistic on the logit) keeps the ranking exactly;
isotonic is available when the shape needs it. Both are stored as plain arrays and applied
with numpy, so scoring one row costs microseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

CalibrationMethod = Literal["platt", "isotonic", "none"]
_EPS = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    clipped = np.clip(p, _EPS, 1 - _EPS)
    return np.asarray(np.log(clipped / (1 - clipped)), dtype=np.float64)


@dataclass(frozen=True)
class Calibrator:
    """Maps an uncalibrated probability to a calibrated one."""

    method: CalibrationMethod
    slope: float = 1.0
    intercept: float = 0.0
    x_thresholds: tuple[float, ...] = ()
    y_thresholds: tuple[float, ...] = ()

    def apply(self, p_raw: np.ndarray) -> np.ndarray:
        p_raw = np.asarray(p_raw, dtype=np.float64)
        if self.method == "none":
            return p_raw
        if self.method == "platt":
            z = self.slope * _logit(p_raw) + self.intercept
            return 1.0 / (1.0 + np.exp(-z))
        out = np.interp(p_raw, self.x_thresholds, self.y_thresholds)
        return np.asarray(np.clip(out, _EPS, 1 - _EPS), dtype=np.float64)


def fit_calibrator(p_raw: np.ndarray, y: np.ndarray, method: CalibrationMethod) -> Calibrator:
    """Fit on a calibration window (never the training rows)."""
    y = np.asarray(y, dtype=np.int8)
    if method == "none":
        return Calibrator("none")
    if len(np.unique(y)) < 2:
        raise ValueError("calibration window holds a single class; widen it")
    if method == "platt":
        lr = LogisticRegression(C=1e6, solver="lbfgs", max_iter=1000)
        lr.fit(_logit(np.asarray(p_raw)).reshape(-1, 1), y)
        return Calibrator("platt", slope=float(lr.coef_[0, 0]), intercept=float(lr.intercept_[0]))
    iso = IsotonicRegression(out_of_bounds="clip", y_min=_EPS, y_max=1 - _EPS)
    iso.fit(np.asarray(p_raw, dtype=np.float64), y)
    return Calibrator(
        "isotonic",
        x_thresholds=tuple(float(v) for v in iso.X_thresholds_),
        y_thresholds=tuple(float(v) for v in iso.y_thresholds_),
    )
