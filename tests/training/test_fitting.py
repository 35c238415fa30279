"""The default model's boosting rounds are chosen on customers it does not fit on.

A customer's monthly snapshots share one future, so validating on the latest months of the
same customers rewards memorising them and early stopping never fires. Shipped: one fold of
customers the booster never fits on; opt-in (``round_folds``): customer folds, each fitting on
the other folds' customers and validating on its own customers' latest training months (never
a calibration or test month), the rounds minimising the mean loss over the folds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from creditrisk.models.estimators import BoostedClassifier
from creditrisk.models.spec import FeatureSpec
from creditrisk.training.boosting_rounds import customer_folds, min_rows_in_leaf
from creditrisk.training.fitting import early_stopping_rows
from creditrisk.training.split import TEST, TRAIN, customer_bucket, plan_snapshot_split


def _rows() -> pd.DataFrame:
    dates = pd.date_range("2021-01-31", "2024-12-31", freq="ME")
    customers = [f"c{i}" for i in range(500)]
    return pd.DataFrame(
        [(c, d) for d in dates for c in customers], columns=["customer_id", "as_of"]
    )


def test_early_stopping_customers_are_never_fitted_on() -> None:
    rows = _rows()
    split = plan_snapshot_split(rows["as_of"], horizon_days=365, holdout_periods=6)
    train = split.assign(rows["as_of"], rows["customer_id"]) == TRAIN
    valid, fit = early_stopping_rows(
        rows, train, train_end=split.train_end, valid_months=3, valid_customer_share=0.2
    )
    assert valid is not None
    fitted = set(rows.loc[fit, "customer_id"])
    validated = set(rows.loc[valid, "customer_id"])
    assert validated
    assert not (fitted & validated)
    assert not (valid & fit).any()
    assert not (valid & ~train).any()
    assert not (fit & ~train).any()
    # the latest three training months only, about a fifth of the customers
    assert rows.loc[valid, "as_of"].min() > split.train_end - pd.DateOffset(months=3)
    assert 0.12 < len(validated) / 500 < 0.28


def test_early_stopping_customers_are_drawn_independently_of_the_test_customers() -> None:
    ids = pd.Series([f"c{i}" for i in range(2000)])
    held_out = customer_bucket(ids, salt="early-stopping") < 0.2
    to_calibration = customer_bucket(ids) < 0.5
    # both halves of the holdout split contribute early-stopping customers
    assert 0.35 < to_calibration[held_out].mean() < 0.65


def test_no_early_stopping_fits_on_every_training_row() -> None:
    rows = _rows()
    train = np.ones(len(rows), dtype=bool)
    valid, fit = early_stopping_rows(
        rows, train, train_end=rows["as_of"].max(), valid_months=0, valid_customer_share=0.2
    )
    assert valid is None
    assert fit.all()


def test_round_folds_are_customer_disjoint_recent_training_rows_only() -> None:
    rows = _rows()
    split = plan_snapshot_split(rows["as_of"], horizon_days=365, holdout_periods=6)
    roles = split.assign(rows["as_of"], rows["customer_id"])
    train = roles == TRAIN
    folds = customer_folds(rows, train, train_end=split.train_end, valid_months=6, folds=3)
    assert len(folds) == 3
    validated: list[set[str]] = []
    for fit, valid in folds:
        assert valid.any()
        assert not (valid & ~train).any()
        assert not (fit & ~train).any()
        assert not (set(rows.loc[fit, "customer_id"]) & set(rows.loc[valid, "customer_id"]))
        # the latest six training months only: never a calibration or test month
        assert rows.loc[valid, "as_of"].min() > split.train_end - pd.DateOffset(months=6)
        assert rows.loc[valid, "as_of"].max() <= split.train_end
        validated.append(set(rows.loc[valid, "customer_id"]))
    # every training customer validates exactly once; the folds are about equal
    assert set().union(*validated) == set(rows.loc[train, "customer_id"])
    assert sum(len(v) for v in validated) == len(set().union(*validated))
    assert all(120 < len(v) < 215 for v in validated)
    assert set(rows.loc[roles == TEST, "customer_id"]) <= set().union(*validated)
    assert customer_folds(rows, train, train_end=split.train_end, valid_months=6, folds=1) == []


def test_cross_validated_rounds_stop_where_the_held_out_customers_stop_improving() -> None:
    """30 monthly rows per customer, each customer's label fixed by its own noise: trees
    that memorise customers help the training fit only, so the mean fold loss turns early;
    with a real signal and no memorisable noise the count runs further."""
    rng = np.random.default_rng(3)
    customers, months = 600, 30
    signal = np.repeat(rng.normal(size=customers), months)
    identity = np.repeat(rng.normal(size=customers), months)  # static, identifies a customer
    spec = FeatureSpec(names=("signal", "identity"), descriptions=("", ""), monotone=(1, 0))
    X = np.column_stack([signal + rng.normal(0, 0.3, len(signal)), identity])
    y = (rng.random(customers) < 1 / (1 + np.exp(2 - np.repeat(
        rng.normal(size=customers), 1)))).astype(np.int8).repeat(months)
    group = np.repeat(np.arange(customers) % 3, months)
    month = np.tile(np.arange(months), customers)
    folds = [(np.flatnonzero(group != k), np.flatnonzero((group == k) & (month >= 24)))
             for k in range(3)]
    model = BoostedClassifier(spec, params={"num_threads": 1, "min_data_in_leaf": 20},
                              num_boost_round=200, seed=1)
    noise_rounds = model.cross_validate_rounds(X, y, folds)
    y_signal = (rng.random(len(signal)) < 1 / (1 + np.exp(-2 * signal))).astype(np.int8)
    signal_rounds = model.cross_validate_rounds(X, y_signal, folds)
    assert 1 <= noise_rounds < 15
    assert noise_rounds < signal_rounds <= 200
    assert model.booster is None  # choosing the rounds fits nothing into the estimator


def test_leaves_hold_a_share_of_the_rows_at_least_the_floor() -> None:
    assert min_rows_in_leaf(220_000, share=0.01, floor=200) == 2_200
    assert min_rows_in_leaf(9_000, share=0.01, floor=200) == 200
