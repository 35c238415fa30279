"""The default model's boosting rounds, chosen by cross-validation over customer folds.

A customer has one snapshot a month and its snapshots share one future, so the booster
overfits the training months after a few dozen rounds and the right round count is a
statement about *customers* the booster has not seen. One small early-stopping fold (a fifth
of the customers) made that count, and with it the model's quality, hang on which customers
fell in it. Here every training customer validates once: the training customers are split
into ``folds`` groups by an independent hash; fold k fits on the training rows of the other
groups and validates on the latest ``valid_months`` training months of group k. The round
count minimises the mean validation loss over the folds (:meth:`BoostedClassifier.
cross_validate_rounds`); the final model is then fitted on every training row.

Opt-in (``default.round_folds`` >= 2): measured at 10,000 customers, seeds 42-46, it gave the
same gaps to the oracle as the single fold at about 1.5 times the CPU (docs/synthetic.md,
"Where the default gap comes from"), so the shipped default is still the single fold
(:func:`early_stopping_rows`, then :func:`refit_rounds`).

Only training rows take part: the calibration and test months (a label window later) never
steer the choice.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from creditrisk.models.estimators import DEFAULT_LGBM_PARAMS, BoostedClassifier
from creditrisk.training.config import DefaultModelConfig
from creditrisk.training.split import customer_bucket

FOLD_SALT = "round-folds"
"""Salt of the fold hash: independent of the calibration/test and early-stopping draws."""


def customer_folds(
    frame: pd.DataFrame,
    train: np.ndarray,
    *,
    train_end: pd.Timestamp,
    valid_months: int,
    folds: int,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(fit rows, validation rows) boolean masks per fold, from the training rows ``train``.

    Customer-disjoint: a customer's rows are all in one group; fold k never fits on group k.
    The validation rows are group k's training rows dated after ``train_end`` minus
    ``valid_months``. Empty when ``folds`` < 2 or ``valid_months`` is 0.
    """
    if folds < 2 or valid_months <= 0:
        return []
    bucket = customer_bucket(frame["customer_id"], salt=FOLD_SALT)
    group = np.minimum((bucket * folds).astype(int), folds - 1)
    recent = (frame["as_of"] > train_end - pd.DateOffset(months=valid_months)).to_numpy()
    return [(train & (group != k), train & (group == k) & recent) for k in range(folds)]


def scaled_rounds(best_rounds: int, *, fitted_rows: float, all_rows: int) -> int:
    """Rounds for the fit on every training row: ``best_rounds`` (chosen on fits of
    ``fitted_rows`` rows on average) scaled by how many more rows the final fit has."""
    return max(1, round(best_rounds * all_rows / max(fitted_rows, 1.0)))


def min_rows_in_leaf(fit_rows: int, *, share: float, floor: int) -> int:
    """Fewest rows a leaf may hold: ``share`` of the fitted rows, at least ``floor``.

    A leaf of a few hundred monthly rows is a handful of customers (about 30 rows each), so
    a fixed minimum lets the booster isolate single defaulting customers on a large ledger;
    a share keeps a leaf a group of customers at every size.
    """
    return max(floor, round(share * fit_rows))


def default_model_params(config: DefaultModelConfig, *, fit_rows: float) -> dict[str, Any]:
    """LightGBM parameters of the default model fitted on ``fit_rows`` rows: leaves of
    ``min_leaf_share`` of the rows (at least the project's ``min_data_in_leaf``; a share of 0,
    the default, keeps that), the config's ``num_leaves``, then its ``lgbm_params``."""
    floor = int(DEFAULT_LGBM_PARAMS["min_data_in_leaf"])
    leaf = min_rows_in_leaf(int(fit_rows), share=config.min_leaf_share, floor=floor)
    return {"min_data_in_leaf": leaf, "num_leaves": config.num_leaves, **config.lgbm_params}


def early_stopping_rows(
    frame: pd.DataFrame,
    train: np.ndarray,
    *,
    train_end: pd.Timestamp,
    valid_months: int,
    valid_customer_share: float,
) -> tuple[np.ndarray | None, np.ndarray]:
    """Rows for early stopping and rows to fit on, from the training rows.

    A customer has one snapshot a month and its snapshots share the same future, so rows of
    one customer must never be on both sides: validating on the latest months of the same
    customers rewards memorising customers (static attributes identify them) and early
    stopping never fires. The validation rows are the latest ``valid_months`` of a
    ``valid_customer_share`` of the customers (an independent hash); the early-stopped model
    fits none of those customers' rows (the final model then refits on every training
    customer with the rounds it chose, see :func:`refit_rounds`).
    """
    if not valid_months or valid_customer_share <= 0:
        return None, train
    held_out = customer_bucket(frame["customer_id"], salt="early-stopping") < valid_customer_share
    valid_from = train_end - pd.DateOffset(months=valid_months)
    in_valid = train & held_out & (frame["as_of"] > valid_from).to_numpy()
    return in_valid, train & ~held_out


def refit_rounds(early_stopped: BoostedClassifier, *, fitted_rows: int, all_rows: int) -> int:
    """Rounds for the final fit on every training customer: the early-stopped model's best
    round count, scaled by how many more rows the final fit has.

    Early stopping needs customers the booster never sees; once it has chosen the number of
    rounds, leaving those customers (a fifth of the defaulting customers) out of the final
    model would only waste evidence, so the final model is fitted on all of them.
    """
    booster = early_stopped.booster
    if booster is None:
        raise ValueError("the early-stopped model is not fitted")
    best = booster.best_iteration or booster.current_iteration()
    return scaled_rounds(best, fitted_rows=fitted_rows, all_rows=all_rows)
