"""The baseline challenger: a monotone weight-of-evidence scorecard.

The credit industry's standard model, fitted in two steps:

1. **Binning** with ``optbinning.OptimalBinning``, one feature at a time, with the event-rate
   trend forced by the feature catalog's declared risk direction (``+1`` -> "ascending",
   ``-1`` -> "descending", ``0`` -> "auto"; categorical features are grouped by event
   rate). Each bin gets its weight of evidence ``WoE = ln(share of non-events / share of
   events)`` (optbinning's convention: a higher WoE is safer). Missing values (an applicant
   has no payment history) get their own bin with its empirical WoE; a category not seen in
   training is encoded as missing by :class:`models.spec.FeatureSpec`, so it gets that WoE too.
2. **Logistic regression** on the WoE values of the features with information value at least
   ``min_iv``. A WoE is safer-is-higher, so every coefficient must be <= 0; a feature whose
   coefficient comes out positive (collinearity flipping a sign) is dropped and the model
   refitted, so the declared direction of every binned feature holds in the final score.

After fitting, the bins are kept as plain arrays (split points, WoE per bin, WoE of the
missing bin) and applied with ``numpy.searchsorted``: scoring one applicant costs
microseconds and the pickled bundle does not hold solver objects. A test holds the arrays
equal to ``OptimalBinning.transform``.

Contributions (for reason codes) are exact and additive in log-odds: feature *j* contributes
``coef_j x (WoE_j(x) - mean training WoE_j)``; the bias column holds the rest, so the row sums
to the uncalibrated log-odds. Calibration is fitted on its own window like the other models.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from optbinning import OptimalBinning
from sklearn.linear_model import LogisticRegression

from creditrisk.models.calibration import CalibrationMethod, Calibrator, fit_calibrator
from creditrisk.models.spec import FeatureSpec

FloatArray = npt.NDArray[np.float64]

TREND_BY_DIRECTION = {1: "ascending", -1: "descending", 0: "auto"}
"""optbinning ``monotonic_trend`` (of the event rate) for a catalog risk direction."""


@dataclass(frozen=True)
class WoeBins:
    """One feature's fitted bins as plain arrays.

    Numeric: bin ``i`` holds ``splits[i-1] <= x < splits[i]`` (optbinning's convention);
    categorical: ``levels`` are the level codes seen in training, ``woe`` their WoE.
    ``missing_woe`` applies to NaN (missing, or an unseen category).
    """

    name: str
    categorical: bool
    splits: tuple[float, ...]
    woe: tuple[float, ...]
    missing_woe: float
    iv: float
    levels: tuple[float, ...] = ()

    def transform(self, x: FloatArray) -> FloatArray:
        values = np.asarray(x, dtype=np.float64)
        woe = np.asarray(self.woe, dtype=np.float64)
        missing = np.isnan(values)
        if self.categorical:
            levels = np.asarray(self.levels, dtype=np.float64)
            position = np.searchsorted(levels, np.where(missing, -1.0, values))
            position = np.clip(position, 0, max(len(levels) - 1, 0))
            known = ~missing & (len(levels) > 0)
            if len(levels):
                known &= levels[position] == values
            out = np.where(known, woe[position] if len(woe) else 0.0, self.missing_woe)
        else:
            index = np.searchsorted(np.asarray(self.splits), np.where(missing, 0.0, values),
                                    side="right")
            out = np.where(missing, self.missing_woe, woe[index])
        return np.asarray(out, dtype=np.float64)


def fit_bins(
    name: str, x: FloatArray, y: npt.NDArray[np.int8], *, direction: int, categorical: bool,
    max_n_bins: int = 8,
) -> WoeBins:
    """Optimal monotone binning of one feature; the bins read back as plain arrays.

    A feature with no value in training (every row missing, e.g. a customer rating that a
    ledger does not carry) has no bins: WoE 0 everywhere and IV 0, so the IV filter drops it
    (optbinning itself cannot fit zero samples).
    """
    if not np.any(~np.isnan(x)):
        return WoeBins(name, categorical, (), () if categorical else (0.0,), 0.0, 0.0)
    binning = OptimalBinning(
        name=name,
        dtype="categorical" if categorical else "numerical",
        monotonic_trend=None if categorical else TREND_BY_DIRECTION[int(np.sign(direction))],
        max_n_bins=max_n_bins,
        min_bin_size=0.02,
        solver="cp",
        time_limit=10,
    )
    binning.fit(x, y)
    missing_woe = float(binning.transform(np.array([np.nan]), metric="woe",
                                          metric_missing="empirical")[0])
    with warnings.catch_warnings():
        # optbinning 1.0 writes the totals row into a float frame (a pandas FutureWarning
        # inside the library, harmless: only the IV total is read here)
        warnings.simplefilter("ignore")
        table = binning.binning_table.build()
    iv = float(table.loc["Totals", "IV"])
    if categorical:
        present = x[~np.isnan(x)]
        levels = np.unique(present)
        woe = binning.transform(levels, metric="woe") if len(levels) else np.zeros(0)
        return WoeBins(name, True, (), tuple(float(w) for w in woe), missing_woe, iv,
                       tuple(float(v) for v in levels))
    splits = np.asarray(binning.splits, dtype=np.float64)
    # one point inside each bin: below the first split, then each split (left-closed bins)
    inside = np.concatenate([[splits[0] - 1.0] if len(splits) else [0.0], splits])
    woe = binning.transform(inside, metric="woe")
    return WoeBins(name, False, tuple(float(s) for s in splits),
                   tuple(float(w) for w in woe), missing_woe, iv)


@dataclass
class WoeScorecard:
    """Monotone WoE binning + logistic regression; implements the bundle's Classifier."""

    spec: FeatureSpec
    C: float = 1.0
    min_iv: float = 0.02
    seed: int = 7
    bins: list[WoeBins] = field(default_factory=list)
    selected: tuple[int, ...] = ()
    coef: tuple[float, ...] = ()
    intercept: float = 0.0
    reference_woe: tuple[float, ...] = ()
    calibrator: Calibrator = field(default_factory=lambda: Calibrator("none"))
    kind: str = "scorecard"

    def woe_matrix(self, X: FloatArray) -> FloatArray:
        """(n, k) WoE of every feature of the spec (features are binned even if unused)."""
        if not self.bins:
            raise RuntimeError("the scorecard is not fitted")
        return np.column_stack([b.transform(X[:, j]) for j, b in enumerate(self.bins)])

    def fit(self, X: FloatArray, y: Any, **_: Any) -> WoeScorecard:
        labels = np.asarray(y, dtype=np.int8)
        categorical = set(self.spec.categorical_indices)
        self.bins = [
            fit_bins(name, X[:, j], labels, direction=self.spec.monotone[j],
                     categorical=j in categorical)
            for j, name in enumerate(self.spec.names)
        ]
        woe = self.woe_matrix(X)
        candidates = [j for j, b in enumerate(self.bins) if b.iv >= self.min_iv]
        # each refit (one feature fewer) starts from the previous solution (warm start):
        # a few L-BFGS iterations instead of a cold fit, the same penalised optimum
        model = LogisticRegression(C=self.C, max_iter=2000, random_state=self.seed,
                                   warm_start=True)
        while True:
            model.fit(woe[:, candidates], labels)
            coef = model.coef_[0]
            wrong_sign = [c for c, value in zip(candidates, coef, strict=True) if value > 0]
            if not wrong_sign or len(candidates) == 1:
                break
            worst = int(np.argmax(coef))
            candidates = candidates[:worst] + candidates[worst + 1:]
            model.coef_ = np.delete(model.coef_, worst, axis=1)
        self.selected = tuple(candidates)
        self.coef = tuple(float(min(c, 0.0)) for c in coef)
        self.intercept = float(model.intercept_[0])
        self.reference_woe = tuple(float(v) for v in woe.mean(axis=0))
        return self

    def _coef_all(self) -> FloatArray:
        full = np.zeros(len(self.spec.names))
        full[list(self.selected)] = self.coef
        return full

    def contributions(self, X: FloatArray) -> FloatArray:
        """Exact log-odds contributions (n, k+1): coef x (WoE - mean training WoE) per
        feature, the intercept plus coef x mean WoE in the last (bias) column."""
        coef = self._coef_all()
        reference = np.asarray(self.reference_woe)
        out = np.empty((X.shape[0], len(self.spec.names) + 1))
        out[:, :-1] = (self.woe_matrix(X) - reference) * coef
        out[:, -1] = self.intercept + float(coef @ reference)
        return out

    def predict_uncalibrated(self, X: FloatArray) -> FloatArray:
        logit = self.contributions(X).sum(axis=1)
        return np.asarray(1.0 / (1.0 + np.exp(-logit)), dtype=np.float64)

    def calibrate(self, X: FloatArray, y: Any, method: CalibrationMethod) -> None:
        self.calibrator = fit_calibrator(self.predict_uncalibrated(X), y, method)

    def predict_proba(self, X: FloatArray) -> FloatArray:
        return self.calibrator.apply(self.predict_uncalibrated(X))

    def importance_gain(self) -> dict[str, float]:
        """|coef| x (WoE range of the feature): how far a feature can move the log-odds."""
        coef = np.abs(self._coef_all())
        spread = np.array([float(np.ptp(np.append(b.woe, b.missing_woe))) if b.woe else 0.0
                           for b in self.bins])
        return {n: float(v) for n, v in zip(self.spec.names, coef * spread, strict=True)}
