"""Reason codes: why a score is what it is, and why a policy decided what it did.

Two kinds of reason travel with every answer:

* :class:`Reason` - a model factor from the model's own additive log-odds contributions
  (LightGBM's SHAP values, ``Booster.predict(X, pred_contrib=True)``; the WoE scorecard's
  coefficient x WoE, :mod:`models.scorecard`), told in the feature catalog's analyst language
  with its direction ("increases risk" / "decreases risk"); for an applicant only the features
  an applicant has are eligible (:meth:`models.bundle.CreditRiskBundle.applicant_contributions`);
* :class:`DecisionReason` - a policy rule that fired (a code and a sentence), see
  :mod:`models.policy`.

Ordering of model factors (:func:`rank_contributions`): first every factor that *increases*
risk, largest contribution first; then the factors that *decrease* risk, largest magnitude
first; factors with a zero contribution are never reasons. A credit analyst reading a
decline wants what pushed the score up before what held it down; for a very safe customer
with no risk-increasing factor the list is the strongest risk-decreasing ones. Ties keep the
feature order of the model (stable sort), so the answer is deterministic.

Contributions are in the model's raw score space (log-odds for the default model), before
calibration; calibration is monotone, so the sign and order of the factors still hold.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

INCREASES_RISK = "increases risk"
DECREASES_RISK = "decreases risk"


@dataclass(frozen=True, slots=True)
class Reason:
    """One factor behind a score: the feature, what it means, its value and its push on risk."""

    feature: str
    description: str
    value: float
    contribution: float
    direction: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (a missing value becomes ``None``)."""
        return {
            "feature": self.feature,
            "description": self.description,
            "value": None if math.isnan(self.value) else self.value,
            "contribution": self.contribution,
            "direction": self.direction,
        }


@dataclass(frozen=True, slots=True)
class DecisionReason:
    """One policy rule behind a decision: a stable code for systems, a sentence for people."""

    code: str
    text: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "text": self.text}


def _split_contributions(
    contributions: ArrayLike, n_features: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Validate a ``pred_contrib`` matrix and return (feature contributions, bias column)."""
    matrix = np.asarray(contributions, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[1] < 2:
        raise ValueError(
            "contributions must be a 2-D array (rows, features + 1) with the bias in the last "
            f"column, as returned by Booster.predict(pred_contrib=True); got shape {matrix.shape}"
        )
    if n_features is not None and matrix.shape[1] != n_features + 1:
        raise ValueError(
            f"contributions have {matrix.shape[1]} columns, expected {n_features} features "
            "+ 1 bias column"
        )
    return matrix[:, :-1], matrix[:, -1]


def rank_contributions(
    contributions: ArrayLike, *, top_n: int = 4
) -> tuple[np.ndarray, np.ndarray]:
    """Top factor columns per row, vectorised: ``(feature_index, is_reason)``, both ``(n, top_n)``.

    ``contributions`` is LightGBM's ``pred_contrib`` output ``(n, k + 1)``; the last (bias)
    column is skipped. ``feature_index[i, j]`` is the column of row *i*'s *j*-th reason,
    ordered as described in the module docstring; ``is_reason[i, j]`` is False where the row
    has fewer than ``top_n`` non-zero contributions (the index there is meaningless).
    """
    if top_n < 1:
        raise ValueError(f"top_n must be at least 1, got {top_n}")
    features, _ = _split_contributions(contributions)
    n_features = features.shape[1]
    top = min(top_n, n_features)
    # group 0: increases risk, 1: decreases risk, 2: zero (never a reason)
    group = np.where(features > 0, 0, np.where(features < 0, 1, 2)).astype(np.int8)
    order = np.lexsort((-np.abs(features), group), axis=-1)[:, :top]
    is_reason = np.take_along_axis(group, order, axis=1) < 2
    return order.astype(np.int64), is_reason


def top_reasons(
    contributions: ArrayLike,
    feature_values: ArrayLike,
    *,
    names: Sequence[str],
    descriptions: Sequence[str],
    top_n: int = 4,
) -> list[list[Reason]]:
    """The ``top_n`` factors behind each row's score, in analyst language.

    ``contributions`` is ``Booster.predict(X, pred_contrib=True)`` for a binary model, shape
    ``(n, k + 1)`` with the bias (expected value) in the last column, which is never a reason.
    ``feature_values`` is the ``(n, k)`` feature matrix that was scored; ``names`` and
    ``descriptions`` (from the feature catalog) are in the model's column order. The ranking
    is vectorised; Python only assembles the small :class:`Reason` objects at the end.
    """
    values = np.asarray(feature_values, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(f"feature_values must be a 2-D array (rows, features), got {values.shape}")
    n_rows, n_features = values.shape
    if len(names) != n_features or len(descriptions) != n_features:
        raise ValueError(
            f"names ({len(names)}) and descriptions ({len(descriptions)}) must match the "
            f"{n_features} feature columns"
        )
    matrix = np.asarray(contributions, dtype=np.float64)
    features, _ = _split_contributions(matrix, n_features)
    if features.shape[0] != n_rows:
        raise ValueError(
            f"contributions have {features.shape[0]} rows but feature_values have {n_rows}"
        )
    if n_rows == 1:  # one scored row (the online answers): the same ranking in plain Python
        return [_top_reasons_of_row(features[0].tolist(), values[0].tolist(), names=names,
                                    descriptions=descriptions, top_n=top_n)]
    order, is_reason = rank_contributions(matrix, top_n=top_n)
    picked_contribution = np.take_along_axis(features, order, axis=1).tolist()
    picked_value = np.take_along_axis(values, order, axis=1).tolist()
    order_list = order.tolist()
    keep_list = is_reason.tolist()
    name_list = list(names)
    description_list = list(descriptions)
    return [
        [
            Reason(
                feature=name_list[column],
                description=description_list[column],
                value=value,
                contribution=contribution,
                direction=INCREASES_RISK if contribution > 0 else DECREASES_RISK,
            )
            for column, value, contribution, keep in zip(
                columns, row_values, row_contributions, row_keep, strict=True
            )
            if keep
        ]
        for columns, row_values, row_contributions, row_keep in zip(
            order_list, picked_value, picked_contribution, keep_list, strict=True
        )
    ]


def _top_reasons_of_row(
    contributions: list[float],
    values: list[float],
    *,
    names: Sequence[str],
    descriptions: Sequence[str],
    top_n: int,
) -> list[Reason]:
    """:func:`top_reasons` of one row given as lists (the bias already dropped): the order
    of :func:`rank_contributions` by two stable sorts of a few dozen Python floats, which
    cost less than the dozen numpy calls of the vectorised ranking on one row. Equal to the
    vectorised path row for row (``tests/models/test_reasons.py``)."""
    if top_n < 1:
        raise ValueError(f"top_n must be at least 1, got {top_n}")
    # (sort key, column) pairs: equal keys keep the column order, as the stable lexsort does
    increasing = sorted([(-c, j) for j, c in enumerate(contributions) if c > 0])
    decreasing = sorted([(c, j) for j, c in enumerate(contributions) if c < 0])  # -|c| = c
    return [
        Reason(
            feature=names[j],
            description=descriptions[j],
            value=values[j],
            contribution=contributions[j],
            direction=INCREASES_RISK if contributions[j] > 0 else DECREASES_RISK,
        )
        for _, j in (increasing + decreasing)[:top_n]
    ]


def top_reasons_row(
    contribution: ArrayLike,
    feature_value: ArrayLike,
    *,
    names: Sequence[str],
    descriptions: Sequence[str],
    top_n: int = 4,
) -> list[Reason]:
    """:func:`top_reasons` for one scored row (1-D contribution incl. bias, 1-D values)."""
    return top_reasons(
        np.asarray(contribution, dtype=np.float64).reshape(1, -1),
        np.asarray(feature_value, dtype=np.float64).reshape(1, -1),
        names=names,
        descriptions=descriptions,
        top_n=top_n,
    )[0]


def join_reason_codes(
    flags: np.ndarray, codes: Sequence[str], *, separator: str = ","
) -> np.ndarray:
    """Vectorised ``"CODE_A,CODE_B"`` string per row from a boolean ``(n, len(codes))`` matrix.

    For batch output (one text column per customer) without a Python loop per row: rows are
    packed into a bit mask, each distinct combination (a few dozen in practice) is joined once,
    and the row entries point at those few string objects (an object array: a fixed-width
    numpy string array would copy the longest text into every row). Codes appear in the order
    of ``codes``; a row with no flag gets ``""``.
    """
    matrix = np.asarray(flags, dtype=bool)
    if matrix.ndim != 2 or matrix.shape[1] != len(codes):
        raise ValueError(f"flags must have shape (rows, {len(codes)}), got {matrix.shape}")
    if len(codes) > 62:
        raise ValueError(f"at most 62 reason codes can be packed, got {len(codes)}")
    masks = matrix.astype(np.int64) @ np.left_shift(1, np.arange(len(codes), dtype=np.int64))
    distinct, inverse = np.unique(masks, return_inverse=True)
    code_list = list(codes)
    joined = np.empty(distinct.shape[0], dtype=object)
    joined[:] = [
        separator.join(code for bit, code in enumerate(code_list) if (mask >> bit) & 1)
        for mask in distinct.tolist()
    ]
    return joined[inverse.reshape(-1)]
