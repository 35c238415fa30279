"""Out-of-time split: no training label window overlaps the holdout; never random in time;
calibration and test share no customer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from creditrisk.training.split import (
    CALIBRATION,
    GAP,
    TEST,
    TRAIN,
    OutOfTimeSplit,
    SplitError,
    plan_invoice_split,
    plan_snapshot_split,
)


def _rows() -> pd.DataFrame:
    dates = pd.date_range("2021-01-31", "2024-12-31", freq="ME")
    customers = [f"c{i}" for i in range(200)]
    return pd.DataFrame(
        [(c, d) for d in dates for c in customers], columns=["customer_id", "as_of"]
    )


def test_no_training_label_window_overlaps_the_holdout() -> None:
    rows = _rows()
    horizon = 365
    split = plan_snapshot_split(rows["as_of"], horizon_days=horizon, holdout_periods=6)
    roles = split.assign(rows["as_of"], rows["customer_id"])
    train_dates = rows.loc[roles == TRAIN, "as_of"]
    holdout_dates = rows.loc[np.isin(roles, [CALIBRATION, TEST]), "as_of"]
    latest_label_day = train_dates.max() + pd.Timedelta(days=horizon)
    assert latest_label_day <= holdout_dates.min()
    # and the rows in between are unused rather than silently trained on
    between = rows.loc[roles == GAP, "as_of"]
    assert between.min() > train_dates.max()
    assert between.max() < holdout_dates.min()


def test_holdout_is_the_latest_periods_and_training_is_older() -> None:
    rows = _rows()
    split = plan_snapshot_split(rows["as_of"], horizon_days=365, holdout_periods=3)
    roles = split.assign(rows["as_of"], rows["customer_id"])
    assert rows.loc[roles == TEST, "as_of"].min() == pd.Timestamp("2024-10-31")
    assert rows.loc[roles == TRAIN, "as_of"].max() < rows.loc[roles == TEST, "as_of"].min()


def test_calibration_and_test_share_no_customer() -> None:
    rows = _rows()
    split = plan_snapshot_split(rows["as_of"], horizon_days=365, holdout_periods=6)
    roles = split.assign(rows["as_of"], rows["customer_id"])
    cal = set(rows.loc[roles == CALIBRATION, "customer_id"])
    test = set(rows.loc[roles == TEST, "customer_id"])
    assert cal
    assert test
    assert not (cal & test)


def test_a_split_whose_label_windows_overlap_is_refused() -> None:
    with pytest.raises(SplitError, match="overlap the holdout"):
        OutOfTimeSplit(
            pd.Timestamp("2021-01-31"), pd.Timestamp("2023-06-30"),
            pd.Timestamp("2024-01-31"), pd.Timestamp("2024-06-30"), 365,
        )


def test_too_short_a_ledger_says_why() -> None:
    dates = pd.Series(pd.date_range("2024-01-31", "2024-12-31", freq="ME"))
    with pytest.raises(SplitError, match="too short"):
        plan_snapshot_split(dates, horizon_days=365, holdout_periods=3)


def test_invoice_split_holds_out_the_latest_issues() -> None:
    issue = pd.Series(pd.date_range("2022-01-01", "2023-12-31", freq="D"))
    split = plan_invoice_split(issue, data_end="2023-12-31", holdout_share=0.25)
    roles = split.assign(issue, pd.Series([f"c{i % 7}" for i in range(len(issue))]))
    assert issue[roles == TRAIN].max() < issue[np.isin(roles, [CALIBRATION, TEST])].min()
