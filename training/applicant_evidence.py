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
    """The applicant segment's evidence: ``n``, ``events``; with ``min_events`` or more, the
    model's ``roc_auc`` and its bootstrap 95 % interval (``roc_auc_low`` / ``_high``); given
    ``truth`` (from :func:`truth_on_rows`), on the rows where both yardsticks are known, the
    model's, the oracle's and the yardstick's AUC (``compared_model_roc_auc``,
    ``oracle_roc_auc``, ``yardstick_roc_auc``), the gaps ``oracle_gap`` and
    ``yardstick_gap`` (positive = model worse) and ``compared_n`` / ``compared_events``.
    Fewer events than ``min_events``: only the counts (shown as "not enough events (n)")."""
    y = outcome_array(y_true)
    p = probability_array(p_model, name="p_model", length=len(y))
    events = float(y.sum())
    out = {"n": float(len(y)), "events": events}
    if events < min_events or events == len(y):
        return out
    low, high = bootstrap_auc_interval(y, p, resamples=resamples, seed=seed)
    out |= {"roc_auc": binary_metrics(y, p)["roc_auc"], "roc_auc_low": low, "roc_auc_high": high}
    if truth is None:
        return out
    if len(truth) != len(y):
        raise ValueError(f"truth has {len(truth)} rows but y_true has {len(y)}")
    both = truth[list(TRUTH_COLUMNS)].notna().all(axis=1).to_numpy()
    y_both = y[both]
    out |= {"compared_n": float(both.sum()), "compared_events": float(y_both.sum())}
    if y_both.sum() < min_events or y_both.sum() == len(y_both):
        return out
    model = binary_metrics(y_both, p[both])["roc_auc"]
    oracle = binary_metrics(y_both, truth["oracle"].to_numpy()[both])["roc_auc"]
    yardstick = binary_metrics(y_both, truth["yardstick"].to_numpy()[both])["roc_auc"]
    return out | {
        "compared_model_roc_auc": model,
        "oracle_roc_auc": oracle,
        "yardstick_roc_auc": yardstick,
        "oracle_gap": oracle - model,
        "yardstick_gap": yardstick - model,
    }
