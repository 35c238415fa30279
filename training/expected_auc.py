"""Ranking measured against known true probabilities, without the outcome noise.

On a synthetic ledger the generator's truth gives every row its true probability ``p``. The
observed ROC AUC of a model (and its gap to the oracle) then depends on which rows happened
to default: on 24,000 test rows with about 900 defaults the gap to the oracle moves by about
0.0035 (one standard deviation) from one draw of the outcomes to the next, with the model and
the rows unchanged (docs/synthetic.md, "What the default model misses"). The *expected* ROC
AUC weights every (event, non-event) pair by the probability that its first row defaults and
its second does not, ``p_i (1 - p_j)``, so it is the same for every draw: it tells how well a
score ranks the rows the truth says apart, and the oracle's own expected AUC is the best any
score can reach on those rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from creditrisk.training.evaluation import EvaluationError, probability_array


def expected_roc_auc(score: Any, p_true: Any) -> float:
    """ROC AUC expected when each row's outcome is drawn from ``p_true``: every ordered pair
    of distinct rows (i, j) weighted by ``p_i (1 - p_j)``, counted 1 when ``score`` ranks i
    above j, 1/2 on a tie. NaN when no pair has weight (all ``p_true`` 0, or all 1)."""
    p = probability_array(p_true, name="p_true")
    s = np.asarray(score, dtype=np.float64).ravel()
    if len(s) != len(p):
        raise EvaluationError(f"score has {len(s)} rows but p_true has {len(p)}")
    order = np.argsort(s, kind="stable")
    s, p = s[order], p[order]
    _, first, counts = np.unique(s, return_index=True, return_counts=True)
    negatives_to = np.concatenate([[0.0], np.cumsum(1.0 - p)])
    group = np.repeat(np.arange(len(first)), counts)
    below = negatives_to[first][group]
    tied = (negatives_to[first + counts] - negatives_to[first])[group] - (1.0 - p)
    weight = p.sum() * (1.0 - p).sum() - np.sum(p * (1.0 - p))
    if weight <= 0:
        return float("nan")
    return float(np.sum(p * (below + 0.5 * tied)) / weight)


def expected_auc_gap(score: Any, p_true: Any) -> dict[str, float]:
    """The model's and the oracle's expected ROC AUC on the same rows and the gap (oracle
    minus model, positive = the model ranks worse): ``model_expected_roc_auc``,
    ``oracle_expected_roc_auc``, ``expected_roc_auc_gap``."""
    model = expected_roc_auc(score, p_true)
    oracle = expected_roc_auc(p_true, p_true)
    return {"model_expected_roc_auc": model, "oracle_expected_roc_auc": oracle,
            "expected_roc_auc_gap": oracle - model}
