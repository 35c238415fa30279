"""Expected ROC AUC against known true probabilities (training/expected_auc.py): the gap to
the oracle without the outcome noise."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from creditrisk.training.evaluation import EvaluationError
from creditrisk.training.expected_auc import expected_auc_gap, expected_roc_auc


def brute_force(score: np.ndarray, p: np.ndarray) -> float:
    """Every ordered pair of distinct rows weighted p_i (1 - p_j); ties count half."""
    wins = weight = 0.0
    for i, j in itertools.permutations(range(len(p)), 2):
        w = p[i] * (1.0 - p[j])
        weight += w
        wins += w * (1.0 if score[i] > score[j] else 0.5 if score[i] == score[j] else 0.0)
    return wins / weight


def test_equals_the_pair_sum_with_ties() -> None:
    """The sorted computation is the definition: the weighted pair count, ties half."""
    rng = np.random.default_rng(3)
    p = rng.uniform(0.0, 0.6, 40)
    score = np.round(rng.uniform(0.0, 1.0, 40), 1)  # many ties
    assert expected_roc_auc(score, p) == pytest.approx(brute_force(score, p), abs=1e-12)


def test_certain_outcomes_give_the_observed_auc() -> None:
    """With p in {0, 1} there is one possible draw: the expected AUC is its ROC AUC."""
    rng = np.random.default_rng(4)
    y = (rng.random(200) < 0.2).astype(float)
    score = rng.normal(size=200) + y
    assert expected_roc_auc(score, y) == pytest.approx(roc_auc_score(y, score), abs=1e-12)


def test_the_truth_ranks_best_and_the_gap_is_signed() -> None:
    """No score ranks better than the true probabilities; a noisier score has a positive gap,
    the truth itself a gap of zero."""
    rng = np.random.default_rng(5)
    p = 1.0 / (1.0 + np.exp(-rng.normal(-3.0, 1.2, 5_000)))
    noisy = np.log(p) + rng.normal(0.0, 1.0, len(p))
    out = expected_auc_gap(noisy, p)
    assert out["expected_roc_auc_gap"] > 0.01
    assert out["oracle_expected_roc_auc"] == pytest.approx(expected_roc_auc(p, p))
    assert expected_auc_gap(p, p)["expected_roc_auc_gap"] == 0.0


def test_is_the_mean_of_many_outcome_draws() -> None:
    """What it estimates: the AUC averaged over outcome draws from the truth (close for many
    rows, where the ratio of expectations and the expected ratio agree)."""
    rng = np.random.default_rng(6)
    p = rng.uniform(0.02, 0.4, 3_000)
    score = p + rng.normal(0.0, 0.1, len(p))
    draws = [roc_auc_score(rng.random(len(p)) < p, score) for _ in range(300)]
    assert expected_roc_auc(score, p) == pytest.approx(np.mean(draws), abs=0.002)


def test_refuses_mismatched_or_invalid_inputs() -> None:
    """A length mismatch or a probability outside [0, 1] is an error, not a number."""
    with pytest.raises(EvaluationError, match="rows"):
        expected_roc_auc([0.1, 0.2], [0.5])
    with pytest.raises(EvaluationError, match="p_true"):
        expected_roc_auc([0.1, 0.2], [0.5, 1.5])


def test_no_weighted_pair_is_nan() -> None:
    """All outcomes certain and equal: no pair can be ordered, the AUC is undefined."""
    assert np.isnan(expected_roc_auc([0.1, 0.2, 0.3], [0.0, 0.0, 0.0]))
