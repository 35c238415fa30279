"""LightGBM on a handful of rows: the same predictions, without the batch machinery.

LightGBM runs every ``predict`` call on all cores (OpenMP) unless told otherwise. For one
customer or a few open invoices the parallel region costs far more than the trees: about
3 ms a call against 0.2 ms on one thread on a loaded 2-core machine (the thread wake-up and
spin, measured with ``/tmp/lat_predict.py``-style loops). Each row is scored by one thread
in either case, so the numbers are identical; only the thread count differs.

Even on one thread, ``Booster.predict`` spends most of a one-row call in Python (a new
``_InnerPredictor`` with its parameter string per call, input checks, output reshaping):
about 140 us per call for the demo's 18-tree default model, whose trees take a few
microseconds. Up to :data:`SMALL_BATCH_ROWS` rows therefore go through LightGBM's own
single-row C API (``LGBM_BoosterPredictForMatSingleRowFast``, :class:`SingleRowPredictor`):
its configuration (predict type, iterations, ``num_threads=1``) is parsed once per booster
and then each row costs one C call into the same tree evaluation (and the same TreeSHAP for
contributions) that ``Booster.predict`` runs row by row, so the numbers are bit for bit the
same (``tests/models/test_small_batch.py``).

The functions below take the estimators of :mod:`models.estimators` (and any other
:class:`~models.bundle.Classifier`, which they leave to its own method) and score up to
:data:`SMALL_BATCH_ROWS` rows this way; larger inputs (batch rescoring, training) go
through the estimator's own method unchanged.
"""

from __future__ import annotations

import ctypes
import threading
import weakref
from typing import Any, Final

import lightgbm as lgb
import numpy as np
from lightgbm import basic as lightgbm_c_api

from creditrisk.models.estimators import BoostedClassifier, QuantileRegressors

SMALL_BATCH_ROWS: Final = 64
"""Up to this many rows LightGBM predicts row by row on one thread (the online answers)."""

PREDICT_NORMAL: Final = 0
"""``C_API_PREDICT_NORMAL``: the objective's transform applied (a probability for binary)."""
PREDICT_CONTRIB: Final = 3
"""``C_API_PREDICT_CONTRIB``: SHAP values, the expected value last (``pred_contrib=True``)."""
_DTYPE_FLOAT64: Final = 1  # C_API_DTYPE_FLOAT64
_PARAMETERS: Final = b"num_threads=1"
"""What ``Booster.predict(X, num_threads=1)`` hands LightGBM as its parameter string."""


def _small(X: np.ndarray) -> bool:
    return len(X) <= SMALL_BATCH_ROWS


class SingleRowPredictor:
    """One booster's single-row prediction of one kind (``PREDICT_NORMAL`` or
    ``PREDICT_CONTRIB``) through LightGBM's C API, configured once.

    The iterations are those ``Booster.predict`` uses by default (``best_iteration`` when
    set, else all). The booster must not be trained further while this exists (a bundle's
    boosters never are). Each row is copied into a buffer of this predictor and predicted
    into another (their addresses computed once); a lock makes that one call at a time, so
    threads may share a predictor (the C call itself releases the GIL)."""

    def __init__(self, booster: lgb.Booster, predict_type: int, n_features: int) -> None:
        self.n_features = n_features
        self.predict_type = predict_type
        handle = ctypes.c_void_p()
        lightgbm_c_api._safe_call(
            _lib().LGBM_BoosterPredictForMatSingleRowFastInit(
                booster._handle,
                ctypes.c_int(predict_type),
                ctypes.c_int(0),  # start_iteration
                ctypes.c_int(booster.best_iteration or -1),  # <= 0: every iteration
                ctypes.c_int(_DTYPE_FLOAT64),
                ctypes.c_int32(n_features),
                ctypes.c_char_p(_PARAMETERS),
                ctypes.byref(handle),
            )
        )
        self._free = weakref.finalize(self, _free_fast_config, handle)
        self._lock = threading.Lock()
        self._input = np.empty(n_features, dtype=np.float64)
        self._output = np.empty(_max_width(booster, predict_type, n_features), np.float64)
        self._length = ctypes.c_int64(0)
        self._arguments = (
            handle.value, self._input.ctypes.data, ctypes.byref(self._length),
            self._output.ctypes.data,
        )
        # output length per row: 1 for a binary or regression prediction, k + 1 for binary
        # contributions; asked of LightGBM once, on a row of NaN
        self.width = len(self._predict_row(np.full(n_features, np.nan)))

    def _predict_row(self, row: np.ndarray) -> np.ndarray:
        with self._lock:
            self._input[:] = row
            lightgbm_c_api._safe_call(_single_row_fast(*self._arguments))
            return self._output[: self._length.value].copy()

    def predict(self, X: np.ndarray) -> np.ndarray:
        """``(n, width)`` predictions of the rows of ``X`` (``n_features`` columns)."""
        rows = np.asarray(X, dtype=np.float64)
        if rows.ndim != 2 or rows.shape[1] != self.n_features:
            raise ValueError(
                f"expected rows of {self.n_features} features, got shape {rows.shape}"
            )
        if len(rows) == 1:
            return self._predict_row(rows[0]).reshape(1, -1)
        out = np.empty((len(rows), self.width), dtype=np.float64)
        for i, row in enumerate(rows):
            out[i] = self._predict_row(row)
        return out


def _lib() -> Any:
    return getattr(lightgbm_c_api, "_LIB")  # noqa: B009 - private, not exported for mypy


def _own_function(name: str, argtypes: list[Any]) -> Any:
    """A function of LightGBM's library as a new ctypes object with its own argument types
    (the library's shared attribute, which lightgbm itself calls, stays untouched)."""
    library = _lib()
    function = library._FuncPtr((name, library))
    function.argtypes = argtypes
    function.restype = ctypes.c_int
    return function


_single_row_fast = _own_function(
    "LGBM_BoosterPredictForMatSingleRowFast",
    [ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_int64), ctypes.c_void_p],
)


def _free_fast_config(handle: ctypes.c_void_p) -> None:
    _lib().LGBM_FastConfigFree(handle)


def _max_width(booster: lgb.Booster, predict_type: int, n_features: int) -> int:
    classes = max(1, int(booster.num_model_per_iteration()))
    return classes * (n_features + 1) if predict_type == PREDICT_CONTRIB else classes


_PREDICTORS: weakref.WeakKeyDictionary[lgb.Booster, dict[tuple[int, int], SingleRowPredictor]]
_PREDICTORS = weakref.WeakKeyDictionary()
_PREDICTORS_LOCK = threading.Lock()


def single_row_predictor(
    booster: lgb.Booster, predict_type: int, n_features: int
) -> SingleRowPredictor:
    """The :class:`SingleRowPredictor` of ``booster`` for this kind and width, made on first
    use and kept as long as the booster lives."""
    key = (predict_type, n_features)
    found = _PREDICTORS.get(booster)
    if found is not None and key in found:
        return found[key]
    with _PREDICTORS_LOCK:
        per_booster = _PREDICTORS.setdefault(booster, {})
        if key not in per_booster:
            per_booster[key] = SingleRowPredictor(booster, predict_type, n_features)
        return per_booster[key]


def _predict_rows(booster: lgb.Booster, X: np.ndarray, predict_type: int) -> np.ndarray:
    predictor = single_row_predictor(booster, predict_type, X.shape[1])
    return predictor.predict(X)


def predict_proba(model: Any, X: np.ndarray) -> np.ndarray:
    """``model.predict_proba(X)``: the booster's probability calibrated, row by row when few."""
    if isinstance(model, BoostedClassifier) and model.booster is not None and _small(X):
        raw = _predict_rows(model.booster, X, PREDICT_NORMAL)[:, 0]
        return model.calibrator.apply(raw)
    return np.asarray(model.predict_proba(X))


def contributions(model: Any, X: np.ndarray) -> np.ndarray:
    """``model.contributions(X)`` (log-odds SHAP values, bias last), row by row when few."""
    if isinstance(model, BoostedClassifier) and model.booster is not None and _small(X):
        return _predict_rows(model.booster, X, PREDICT_CONTRIB)
    return np.asarray(model.contributions(X))


def predict_quantiles(model: QuantileRegressors, X: np.ndarray) -> np.ndarray:
    """``model.predict(X)`` (quantiles sorted so they never cross), row by row when few."""
    if not model.boosters or not _small(X):
        return model.predict(X)
    out = np.column_stack([_predict_rows(b, X, PREDICT_NORMAL)[:, 0] for b in model.boosters])
    return np.sort(out, axis=1)
