"""Applicants judged on enough evidence: every onboarding snapshot dated after the training
cut whose 12-month window has matured, against the generator's oracle and its applicant
yardstick on the same rows.

The holdout's onboarding snapshots alone (``training.fitting.oot_applicant_rows``, six
months) hold a handful of defaults at a few thousand customers. Every onboarding snapshot
after the training cut is as honest a test of an applicant model: it belongs to a customer
onboarded after the last training date, so the model has seen no row of it, and an
applicant row carries only the application's attributes, which do not age. (It is dated
after the cut but, in the year after it, inside the calendar span of the last training
labels; a world with a common shock by calendar month would need the stricter holdout.)

Two yardsticks: the oracle (``pd_12m``, which knows the hidden creditworthiness and the
onboarding state no application shows) and the applicant yardstick (``pd_12m_application``,
the oracle averaged over what an application cannot show, the best any applicant model can
do). Ranking only: the calibrator is an increasing map and leaves the AUC as the trained
model made it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from creditrisk.training.evaluation import (
    BOOTSTRAP_RESAMPLES,
    MIN_EVENTS,
    binary_metrics,
    bootstrap_auc_interval,
    outcome_array,
    probability_array,
)

TRUTH_COLUMNS = {"oracle": "pd_12m", "yardstick": "pd_12m_application"}
"""Yardstick name -> its column in the generator's customer-month truth."""


def applicant_rows_after_cut(frame: pd.DataFrame, train_end: pd.Timestamp) -> np.ndarray:
    """Onboarding snapshots (``is_applicant``) dated after ``train_end``: every labelled one,
    since a snapshot frame holds only rows whose label window has matured."""
    after = pd.to_datetime(frame["as_of"]).to_numpy() > np.datetime64(pd.Timestamp(train_end))
    return np.asarray(after & frame["is_applicant"].to_numpy(dtype=bool))


def truth_on_rows(rows: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """The truth's ``oracle`` and ``yardstick`` columns for ``rows`` (customer_id, as_of), in
    row order; NaN where the generator does not know it (the yardstick exists only at a new
    customer's onboarding month-end)."""
    present = {name: column for name, column in TRUTH_COLUMNS.items() if column in truth}
    known = truth[["customer_id", "month_end", *present.values()]].rename(
        columns={"month_end": "as_of", **{c: n for n, c in present.items()}}
    )
    known = known.assign(customer_id=known["customer_id"].astype("string"),
                         as_of=pd.to_datetime(known["as_of"]).astype("datetime64[ns]"))
    keys = pd.DataFrame({"customer_id": rows["customer_id"].astype("string").to_numpy(),
                         "as_of": pd.to_datetime(rows["as_of"]).astype("datetime64[ns]")})
    out = keys.merge(known, on=["customer_id", "as_of"], how="left")
    for name in TRUTH_COLUMNS:
        if name not in out:
            out[name] = np.nan
    return out[list(TRUTH_COLUMNS)].reset_index(drop=True)


def applicant_evidence(
    y_true: Any,
    p_model: Any,
    truth: pd.DataFrame | None = None,
    *,
    min_events: int = MIN_EVENTS,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
) -> dict[str, float]:
    """The applicant segment's evidence. Keys: ``n``, ``events``; with ``min_events`` or
    more, the model's ``roc_auc`` and its bootstrap 95 % interval (``roc_auc_low`` /
    ``_high``). Given ``truth`` (from :func:`truth_on_rows`):

    * on the rows where the oracle is known (``oracle_n``, ``oracle_events``): the model's
      ``oracle_rows_model_roc_auc``, ``oracle_roc_auc`` and ``oracle_gap`` (oracle - model);
    * on the onboarding snapshots, where the applicant yardstick is known
      (``onboarding_n``, ``onboarding_events``): ``onboarding_model_roc_auc``,
      ``onboarding_oracle_roc_auc``, ``yardstick_roc_auc`` and ``yardstick_gap``.

    The counts come always; each AUC needs ``min_events`` on its rows (and the model's AUC
    on all rows for any), else it is left out (shown as "not enough events (n)")."""
    y = outcome_array(y_true)
    p = probability_array(p_model, name="p_model", length=len(y))
    out = {"n": float(len(y)), "events": float(y.sum())}
    if truth is not None and len(truth) != len(y):
        raise ValueError(f"truth has {len(truth)} rows but y_true has {len(y)}")
    nan_rows = np.full(len(y), np.nan)
    oracle = nan_rows if truth is None else truth["oracle"].to_numpy(dtype=np.float64)
    yardstick = nan_rows if truth is None else truth["yardstick"].to_numpy(dtype=np.float64)
    known = ~np.isnan(oracle)
    both = known & ~np.isnan(yardstick)
    if truth is not None:
        out |= {"oracle_n": float(known.sum()), "oracle_events": float(y[known].sum()),
                "onboarding_n": float(both.sum()), "onboarding_events": float(y[both].sum())}
    if not _enough(y, min_events):
        return out
    low, high = bootstrap_auc_interval(y, p, resamples=resamples, seed=seed)
    out |= {"roc_auc": _auc(y, p), "roc_auc_low": low, "roc_auc_high": high}
    if _enough(y[known], min_events):
        model_auc, oracle_auc = _auc(y[known], p[known]), _auc(y[known], oracle[known])
        out |= {"oracle_rows_model_roc_auc": model_auc, "oracle_roc_auc": oracle_auc,
                "oracle_gap": oracle_auc - model_auc}
    if _enough(y[both], min_events):
        model_auc = _auc(y[both], p[both])
        yardstick_auc = _auc(y[both], yardstick[both])
        out |= {"onboarding_model_roc_auc": model_auc,
                "onboarding_oracle_roc_auc": _auc(y[both], oracle[both]),
                "yardstick_roc_auc": yardstick_auc, "yardstick_gap": yardstick_auc - model_auc}
    return out


def _enough(y: np.ndarray, min_events: int) -> bool:
    """At least ``min_events`` events and at least one non-event (an AUC is defined)."""
    return bool(y.sum() >= min_events and y.sum() < len(y))


def _auc(y: np.ndarray, p: np.ndarray) -> float:
    return binary_metrics(y, p)["roc_auc"]
