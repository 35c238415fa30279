"""Early stopping of the default model validates on customers it never fits on.

A customer's monthly snapshots share one future, so validating on the latest months of the
same customers rewards memorising them and early stopping never fires.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from creditrisk.training.fitting import early_stopping_rows
from creditrisk.training.split import TRAIN, customer_bucket, plan_snapshot_split


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
