"""Reason codes from LightGBM contributions: risk-increasing factors first (largest first),
then risk-decreasing by magnitude, zeros never, the bias column never; the vectorised ranking
equals a plain per-row sort."""

from __future__ import annotations

import math

import lightgbm as lgb
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from creditrisk.models.reasons import (
    DECREASES_RISK,
    INCREASES_RISK,
    Reason,
    join_reason_codes,
    rank_contributions,
    top_reasons,
    top_reasons_row,
)

NAMES = ["share_late", "dso_days", "tenure_days", "disputes", "overdue_amount"]
DESCRIPTIONS = [f"analyst text for {name}" for name in NAMES]


def reference_order(row: np.ndarray, top_n: int) -> list[int]:
    """Plain-Python statement of the documented ordering, to check the vectorised one."""
    positives = sorted((i for i, c in enumerate(row) if c > 0), key=lambda i: (-row[i], i))
    negatives = sorted((i for i, c in enumerate(row) if c < 0), key=lambda i: (-abs(row[i]), i))
    return (positives + negatives)[:top_n]


def test_risk_increasing_factors_come_first_and_bias_is_skipped() -> None:
    contributions = np.array([[-0.9, 0.2, 0.0, 0.5, -0.1, 7.0]])  # last column: bias
    values = np.array([[0.4, 55.0, 900.0, 2.0, 1_000.0]])
    reasons = top_reasons(contributions, values, names=NAMES, descriptions=DESCRIPTIONS, top_n=4)[0]
    assert [r.feature for r in reasons] == ["disputes", "dso_days", "share_late", "overdue_amount"]
    assert [r.direction for r in reasons] == [
        INCREASES_RISK,
        INCREASES_RISK,
        DECREASES_RISK,
        DECREASES_RISK,
    ]
    assert reasons[0] == Reason("disputes", "analyst text for disputes", 2.0, 0.5, INCREASES_RISK)
    assert all(r.feature != "tenure_days" for r in reasons)  # zero contribution: not a reason


def test_zero_contributions_leave_fewer_reasons() -> None:
    contributions = np.array([[0.0, 0.0, -0.3, 0.0, 0.0, 1.0], [0.0] * 5 + [2.0]])
    values = np.zeros((2, 5))
    reasons = top_reasons(contributions, values, names=NAMES, descriptions=DESCRIPTIONS)
    assert [[r.feature for r in row] for row in reasons] == [["tenure_days"], []]


def test_vectorised_ranking_equals_per_row_sort() -> None:
    rng = np.random.default_rng(5)
    contributions = rng.normal(size=(400, 9))
    contributions[rng.random(contributions.shape) < 0.2] = 0.0
    contributions[:5, 1] = contributions[:5, 2] = 0.25  # ties keep feature order
    order, is_reason = rank_contributions(contributions, top_n=5)
    for row in range(contributions.shape[0]):
        expected = reference_order(contributions[row, :-1], 5)
        assert order[row][is_reason[row]].tolist() == expected


def test_top_reasons_row_equals_batch_row() -> None:
    rng = np.random.default_rng(6)
    contributions = rng.normal(size=(20, 6))
    values = rng.normal(size=(20, 5))
    batch = top_reasons(contributions, values, names=NAMES, descriptions=DESCRIPTIONS, top_n=3)
    for row in range(20):
        single = top_reasons_row(
            contributions[row], values[row], names=NAMES, descriptions=DESCRIPTIONS, top_n=3
        )
        assert single == batch[row]


CONTRIBUTION_VALUES = st.one_of(
    st.sampled_from([0.0, -0.0, 0.25, -0.25, 1.0, -1.0, math.inf, -math.inf, math.nan]),
    st.floats(allow_nan=True, allow_infinity=True),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(CONTRIBUTION_VALUES, min_size=1, max_size=12), st.integers(1, 14))
def test_one_row_reasons_equal_the_vectorised_ranking(row: list[float], top_n: int) -> None:
    """Rule: one scored row (plain-Python path of top_reasons) gets exactly the reasons the
    vectorised ranking gives that row inside a batch - ties, zeros, -0.0, infinities and NaN
    (never a reason) included."""
    k = len(row)
    names = [f"f{j}" for j in range(k)]
    contributions = np.array([[*row, 0.5], [*row, 0.5]])  # bias last
    values = np.arange(2 * k, dtype=np.float64).reshape(2, k)
    single = top_reasons(contributions[:1], values[:1], names=names, descriptions=names,
                         top_n=top_n)
    batch = top_reasons(contributions, values, names=names, descriptions=names, top_n=top_n)
    assert repr(single[0]) == repr(batch[0])  # repr: NaN equals NaN


def test_reasons_from_a_real_lightgbm_model() -> None:
    """pred_contrib has k + 1 columns summing to the raw score; reasons name real features and
    the feature the label depends on most is the top reason for the riskiest rows."""
    rng = np.random.default_rng(0)
    features = rng.normal(size=(2_000, 5))
    risk = 2.0 * features[:, 0] - 1.0 * features[:, 2]
    label = (rng.random(2_000) < 1.0 / (1.0 + np.exp(-risk))).astype(int)
    booster = lgb.train(
        {"objective": "binary", "verbose": -1, "num_leaves": 7, "seed": 1, "deterministic": True},
        lgb.Dataset(features, label),
        num_boost_round=30,
    )
    contributions = booster.predict(features[:50], pred_contrib=True)
    assert contributions.shape == (50, 6)
    np.testing.assert_allclose(
        contributions.sum(axis=1), booster.predict(features[:50], raw_score=True)
    )
    reasons = top_reasons(contributions, features[:50], names=NAMES, descriptions=DESCRIPTIONS)
    riskiest = int(np.argmax(risk[:50]))
    assert reasons[riskiest][0].feature == "share_late"
    assert reasons[riskiest][0].direction == INCREASES_RISK
    assert all(0 < len(row) <= 4 for row in reasons)


def test_shape_mismatches_are_rejected() -> None:
    with pytest.raises(ValueError, match="expected 5 features"):
        top_reasons(np.zeros((3, 5)), np.zeros((3, 5)), names=NAMES, descriptions=DESCRIPTIONS)
    with pytest.raises(ValueError, match="must match the 5 feature columns"):
        top_reasons(np.zeros((3, 6)), np.zeros((3, 5)), names=NAMES[:4], descriptions=DESCRIPTIONS)
    with pytest.raises(ValueError, match="3 rows but feature_values have 2"):
        top_reasons(np.zeros((3, 6)), np.zeros((2, 5)), names=NAMES, descriptions=DESCRIPTIONS)
    with pytest.raises(ValueError, match="top_n must be at least 1"):
        rank_contributions(np.zeros((1, 6)), top_n=0)


def test_reason_to_dict_turns_missing_value_into_none() -> None:
    reason = Reason("dso_days", "Days sales outstanding", math.nan, 0.3, INCREASES_RISK)
    assert reason.to_dict()["value"] is None


def test_join_reason_codes_matches_per_row_join() -> None:
    rng = np.random.default_rng(9)
    codes = ["A", "B", "C", "D"]
    flags = rng.random((500, 4)) < 0.3
    joined = join_reason_codes(flags, codes)
    for row in range(500):
        assert joined[row] == ",".join(
            code for code, hit in zip(codes, flags[row], strict=True) if hit
        )
