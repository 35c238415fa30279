"""LightGBM on a handful of rows: the same predictions on one thread.

LightGBM runs every ``predict`` call on all cores (OpenMP) unless told otherwise. For one
customer or a few open invoices the parallel region costs far more than the trees: about
3 ms a call against 0.2 ms on one thread on a loaded 2-core machine (the thread wake-up and
spin, measured with ``/tmp/lat_predict.py``-style loops). Each row is scored by one thread
in either case, so the numbers are identical; only the thread count differs.

The functions below take the estimators of :mod:`models.estimators` (and any other
:class:`~models.bundle.Classifier`, which they leave to its own method) and score up to
:data:`SMALL_BATCH_ROWS` rows on one thread; larger inputs (batch rescoring, training) go
through the estimator's own method unchanged.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

from creditrisk.models.estimators import BoostedClassifier, QuantileRegressors

SMALL_BATCH_ROWS: Final = 64
"""Up to this many rows LightGBM predicts on one thread (the online answers)."""


def _small(X: np.ndarray) -> bool:
    return len(X) <= SMALL_BATCH_ROWS


def predict_proba(model: Any, X: np.ndarray) -> np.ndarray:
    """``model.predict_proba(X)``: the booster's raw score calibrated, one thread when small."""
    if isinstance(model, BoostedClassifier) and model.booster is not None and _small(X):
        booster = model.booster
        raw = booster.predict(X, num_iteration=booster.best_iteration or None, num_threads=1)
        return model.calibrator.apply(np.asarray(raw))
    return np.asarray(model.predict_proba(X))


def contributions(model: Any, X: np.ndarray) -> np.ndarray:
    """``model.contributions(X)`` (log-odds SHAP values, bias last), one thread when small."""
    if isinstance(model, BoostedClassifier) and model.booster is not None and _small(X):
        booster = model.booster
        return np.asarray(
            booster.predict(X, pred_contrib=True, num_iteration=booster.best_iteration or None,
                            num_threads=1)
        )
    return np.asarray(model.contributions(X))


def predict_quantiles(model: QuantileRegressors, X: np.ndarray) -> np.ndarray:
    """``model.predict(X)`` (quantiles sorted so they never cross), one thread when small."""
    if not model.boosters or not _small(X):
        return model.predict(X)
    out = np.column_stack([np.asarray(b.predict(X, num_threads=1)) for b in model.boosters])
    return np.sort(out, axis=1)
