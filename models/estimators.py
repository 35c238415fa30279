"""The estimators: monotone LightGBM and quantile regressors (the WoE scorecard baseline is
:mod:`models.scorecard`).

Defined here, fitted by ``training``. Each works on the float matrix produced by
:class:`models.spec.FeatureSpec` and is seeded, so the same data and config give the same
model. Calibration is fitted separately on its own window (:mod:`models.calibration`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np

from creditrisk.models.calibration import CalibrationMethod, Calibrator, fit_calibrator
from creditrisk.models.spec import FeatureSpec

DEFAULT_LGBM_PARAMS: dict[str, Any] = {
    "learning_rate": 0.08,
    "num_leaves": 15,
    "min_data_in_leaf": 200,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "max_bin": 255,
}

def lightgbm_params(base: Mapping[str, Any], *, objective: str, seed: int) -> dict[str, Any]:
    """LightGBM parameters: the defaults, then ``base``, then the fixed objective, seed and
    determinism settings every booster of the project uses."""
    params = {**DEFAULT_LGBM_PARAMS, **dict(base)}
    params.update(
        {
            "objective": objective,
            "seed": seed,
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": int(params.get("num_threads", 2)),
            "verbosity": -1,
        }
    )
    return params


@dataclass
class BoostedClassifier:
    """LightGBM binary classifier with monotone constraints from the feature catalog."""

    spec: FeatureSpec
    params: dict[str, Any] = field(default_factory=dict)
    num_boost_round: int = 1000
    early_stopping_rounds: int = 30
    seed: int = 7
    booster: lgb.Booster | None = None
    calibrator: Calibrator = field(default_factory=lambda: Calibrator("none"))
    kind: str = "lightgbm"

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        X_valid: np.ndarray | None = None,
        y_valid: np.ndarray | None = None,
        use_monotone: bool = True,
        callbacks: Sequence[Callable[[Any], None]] = (),
    ) -> BoostedClassifier:
        """``callbacks``: extra LightGBM callbacks (e.g. a progress report per round)."""
        params = self._train_params(use_monotone=use_monotone)
        train = self._dataset(X, y)
        all_callbacks: list[Any] = list(callbacks)
        valid_sets: list[lgb.Dataset] = []
        if X_valid is not None and y_valid is not None and len(np.unique(y_valid)) > 1:
            valid_sets = [lgb.Dataset(X_valid, label=y_valid, reference=train)]
            all_callbacks.append(lgb.early_stopping(self.early_stopping_rounds, verbose=False))
        self.booster = lgb.train(
            params, train, num_boost_round=self.num_boost_round,
            valid_sets=valid_sets, callbacks=all_callbacks,
        )
        return self

    def _train_params(self, *, use_monotone: bool = True) -> dict[str, Any]:
        params = lightgbm_params(self.params, objective="binary", seed=self.seed)
        if use_monotone:
            params["monotone_constraints"] = self.spec.lightgbm_monotone
            params["monotone_constraints_method"] = "advanced"
        return params

    def _dataset(self, X: np.ndarray, y: np.ndarray) -> lgb.Dataset:
        return lgb.Dataset(X, label=y, categorical_feature=self.spec.categorical_indices or "auto",
                           feature_name=list(self.spec.names), free_raw_data=True)

    def cross_validate_rounds(
        self,
        X: np.ndarray,
        y: np.ndarray,
        folds: Sequence[tuple[np.ndarray, np.ndarray]],
        *,
        callbacks: Sequence[Callable[[Any], None]] = (),
    ) -> int:
        """The round count (at most ``num_boost_round``) that minimises the validation log
        loss averaged over ``folds`` ((fit rows, validation rows) index arrays into ``X``),
        stopping when that mean has not improved for ``early_stopping_rounds`` rounds.

        Same parameters and monotone constraints as :meth:`fit`; the data are binned once,
        on every row of ``X``. Fits nothing into this estimator.
        """
        if len(folds) < 2:
            raise ValueError(f"cross-validation needs at least 2 folds, got {len(folds)}")
        params = self._train_params()
        params["metric"] = "binary_logloss"
        result = lgb.cv(
            params, self._dataset(X, y), num_boost_round=self.num_boost_round,
            folds=[(np.asarray(f), np.asarray(v)) for f, v in folds],
            stratified=False, shuffle=False, seed=self.seed,
            callbacks=[lgb.early_stopping(self.early_stopping_rounds, verbose=False),
                       *callbacks],
        )
        curve = result["valid binary_logloss-mean"]
        if not isinstance(curve, list) or not curve:
            raise RuntimeError("cross-validation returned no validation loss")
        return int(np.argmin(curve)) + 1

    def _require(self) -> lgb.Booster:
        if self.booster is None:
            raise RuntimeError("model is not fitted")
        return self.booster

    def predict_uncalibrated(self, X: np.ndarray) -> np.ndarray:
        booster = self._require()
        return np.asarray(booster.predict(X, num_iteration=booster.best_iteration or None))

    def calibrate(self, X: np.ndarray, y: np.ndarray, method: CalibrationMethod) -> None:
        self.calibrator = fit_calibrator(self.predict_uncalibrated(X), y, method)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.calibrator.apply(self.predict_uncalibrated(X))

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """SHAP contributions in log-odds (n, k+1); the last column is the bias."""
        booster = self._require()
        return np.asarray(
            booster.predict(X, pred_contrib=True, num_iteration=booster.best_iteration or None)
        )

    def importance_gain(self) -> dict[str, float]:
        booster = self._require()
        gains = booster.feature_importance(importance_type="gain")
        return {n: float(g) for n, g in zip(self.spec.names, gains, strict=True)}


@dataclass
class QuantileRegressors:
    """LightGBM quantile models of days beyond terms (p10, p50, p90)."""

    spec: FeatureSpec
    alphas: tuple[float, ...] = (0.1, 0.5, 0.9)
    params: dict[str, Any] = field(default_factory=dict)
    num_boost_round: int = 300
    seed: int = 7
    boosters: list[lgb.Booster] = field(default_factory=list)

    def fit(
        self, X: np.ndarray, days: np.ndarray,
        callbacks: Sequence[Callable[[Any], None]] = (),
    ) -> QuantileRegressors:
        """One booster per quantile; ``callbacks`` go to each (a progress report per round)."""
        self.boosters = []
        cat_idx = self.spec.categorical_indices
        for alpha in self.alphas:
            params = lightgbm_params(self.params, objective="quantile", seed=self.seed)
            params["alpha"] = alpha
            data = lgb.Dataset(X, label=days, categorical_feature=cat_idx or "auto",
                               feature_name=list(self.spec.names))
            self.boosters.append(lgb.train(params, data, num_boost_round=self.num_boost_round,
                                           callbacks=list(callbacks)))
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """(n, len(alphas)) days beyond terms, sorted so quantiles never cross."""
        if not self.boosters:
            raise RuntimeError("quantile models are not fitted")
        out = np.column_stack([np.asarray(b.predict(X)) for b in self.boosters])
        return np.sort(out, axis=1)
