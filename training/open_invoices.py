"""Invoices open at month-ends: the dataset, the fit and the out-of-time evaluation.

Rows: for every month-end ``T`` and every invoice open at the end of ``T`` (issued by ``T``,
not settled by ``T``, positive amount), the invoice features as known at ``T``
(``build_invoice_features(ledger, as_of=T)``: customer history up to ``T``, days open, days
to due, share already paid, reminders and disputes on it by ``T``).

Labels look at most ``horizon_days`` past ``T`` (so a row's label uses only records dated up
to ``T + horizon``, and the out-of-time split keeps a gap of one horizon between the last
training month-end and the holdout):

* ``late``: settled after due + grace, or not settled by ``T + horizon`` (only rows not yet
  past due + grace at ``T``; past-due rows have ``p_late`` 1 by rule and are not predicted).
* ``days_to_settlement``: days from ``T`` to the settlement date (>= 1, since the invoice is
  open at the end of ``T``), **censored at the horizon**: an invoice not settled within
  ``horizon_days`` (typically a customer that stopped paying) gets the value
  ``horizon_days``, read as "that many days or later". Quantile regression is exact under
  this censoring for every quantile below the horizon (the pinball loss only needs to know
  on which side of the quantile a value lies), so never-settled invoices do not drag the
  quantiles down as dropping them would, and no survival machinery is needed; a quantile at
  the horizon means "not before ``T`` + horizon". A survival model (e.g. discrete-time
  hazards) would also extrapolate beyond the horizon, which no consumer needs.

Subsampling (training rows only): at most ``rows_per_month_end`` rows per month-end, drawn
with a generator seeded by the run seed and the month-end, so training time is bounded
while every month keeps its weight; calibration and test rows are never subsampled.

Split: the latest ``holdout_months`` month-ends whose labels are known by ``data_end`` are
the holdout, split by customer (the same stable hash as the other models) into calibration
and test; training month-ends end one horizon before the holdout. On the calibration
customers, the classifier is calibrated and the p10-p90 interval is widened or narrowed on
a log scale (split-conformal) to the target coverage. The test reports, for not-yet-due
rows, the classifier's metrics (``open_invoice_test_roc_auc``, ``..._ece``) and, for all
rows, the share whose actual payment date lies within the predicted p10-p90 dates
(``open_invoice_test_coverage_p10_p90``; a censored row counts as covered when p90 is at
the horizon). The synthetic generator's truth is P(late) at issue, not conditional on
being open at ``T``, so there is no oracle for these rows: they are scored against the
payments that actually happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from creditrisk.features.invoice import build_open_invoice_features
from creditrisk.ledger.frame import Ledger
from creditrisk.models.estimators import BoostedClassifier, QuantileRegressors
from creditrisk.models.open_invoice_model import (
    OpenInvoiceModel,
    days_until_payment,
)
from creditrisk.models.spec import FeatureSpec
from creditrisk.training import plots
from creditrisk.training.config import OpenInvoiceModelConfig
from creditrisk.training.datasets import DatasetError, ledger_start, month_ends
from creditrisk.training.evaluation import binary_metrics, with_prefix
from creditrisk.training.fitting import TrainingDataError, early_stopping_rows
from creditrisk.training.split import (
    CALIBRATION,
    TEST,
    TRAIN,
    OutOfTimeSplit,
    SplitError,
    plan_snapshot_split,
)

PREFIX = "open_invoice"
WIDENING_GRID = np.round(np.arange(-1.0, 2.0001, 0.01), 2)
"""Candidate log-scale widenings of the p10-p90 interval (factor exp(w))."""


def open_invoice_rows(
    ledger: Ledger,
    *,
    as_of_dates: list[pd.Timestamp],
    horizon_days: int,
    grace_days: int,
) -> pd.DataFrame:
    """Invoice features of the invoices open at each date, with ``as_of`` and the labels.

    Added columns: ``as_of``, ``past_due`` (after due + grace at ``as_of``), ``late``
    (0/1, NaN where not defined: past-due rows, or due + grace beyond the horizon),
    ``days_to_settlement`` (1..horizon, the horizon meaning "that or later") and
    ``censored`` (not settled within the horizon).
    """
    settled = ledger.invoices.set_index(ledger.invoices["invoice_id"].astype("string"))
    settled_on = settled["settled_date"]
    settled_on = settled_on[~settled_on.index.duplicated(keep="first")]
    rows = build_open_invoice_features(ledger, as_of_dates=as_of_dates)
    if rows.empty:
        raise DatasetError(f"no invoice open at any of {len(as_of_dates)} month-ends")
    day = np.timedelta64(1, "D")
    as_of_day = rows["as_of"].to_numpy(dtype="datetime64[D]")
    due = pd.to_datetime(rows["due_date"]).to_numpy(dtype="datetime64[D]")
    settle = settled_on.reindex(rows["invoice_id"].astype("string")).to_numpy(
        dtype="datetime64[D]"
    )
    days = ((settle - as_of_day) / day).astype(np.float64)  # NaN where never settled
    censored = ~(days <= horizon_days)
    limit = due + np.timedelta64(grace_days, "D")
    past_due = as_of_day > limit
    decided = ~past_due & (limit < as_of_day + np.timedelta64(horizon_days, "D"))
    late = np.where(censored, 1.0, ((settle - limit) / day > 0).astype(np.float64))
    rows["past_due"] = past_due
    rows["late"] = np.where(decided, late, np.nan)
    rows["days_to_settlement"] = np.where(censored, horizon_days, days)
    rows["censored"] = censored
    return rows


def labelled_month_ends(
    ledger: Ledger, *, data_end: pd.Timestamp, horizon_days: int
) -> list[pd.Timestamp]:
    """Month-ends from the ledger's first record whose horizon closes by ``data_end``."""
    last = pd.Timestamp(data_end).normalize() - pd.Timedelta(days=horizon_days)
    first = ledger_start(ledger)
    if first > last:
        raise DatasetError(
            f"no month-end between {first.date()} and {last.date()} (data end minus the "
            f"{horizon_days}-day horizon of open-invoice labels)"
        )
    return month_ends(first, last)


def subsample_per_month_end(frame: pd.DataFrame, *, max_rows: int, seed: int) -> np.ndarray:
    """Boolean mask keeping at most ``max_rows`` random rows of each ``as_of`` (seeded)."""
    keep = np.zeros(len(frame), dtype=bool)
    for as_of, index in frame.groupby("as_of", sort=True).indices.items():
        if len(index) <= max_rows:
            keep[index] = True
            continue
        stamp = int(pd.Timestamp(as_of).strftime("%Y%m%d"))
        rng = np.random.default_rng([seed, stamp])
        keep[rng.choice(index, size=max_rows, replace=False)] = True
    return keep


def fit_interval_widening(
    raw_quantiles: np.ndarray, days_true: np.ndarray, *, horizon_days: int, target: float
) -> float:
    """The smallest log widening whose p10-p90 days cover ``days_true`` at ``target``."""
    for widening in WIDENING_GRID:
        days = days_until_payment(raw_quantiles, horizon_days=horizon_days,
                                  log_widening=float(widening))
        if interval_coverage(days, days_true) >= target:
            return float(widening)
    return float(WIDENING_GRID[-1])


def interval_coverage(days: np.ndarray, days_true: np.ndarray) -> float:
    """Share of rows with p10 <= actual days <= p90 (NaN without rows)."""
    if len(days_true) == 0:
        return float("nan")
    return float(np.mean((days[:, 0] <= days_true) & (days_true <= days[:, 2])))


@dataclass
class OpenInvoiceFit:
    model: OpenInvoiceModel
    split: OutOfTimeSplit
    metrics: dict[str, float]
    test: pd.DataFrame
    """Test rows: invoice_id, customer_id, as_of, past_due, y_true, score, days true/p10/p50/p90."""
    row_counts: dict[str, int] = field(default_factory=dict)


def _require_two_classes(y: np.ndarray, split: str) -> None:
    if len(y) == 0 or len(np.unique(y)) < 2:
        raise TrainingDataError(
            f"open-invoice {split} split has {len(y)} not-yet-due rows and {int(np.sum(y))} "
            "late ones: need both outcomes"
        )


def fit_open_invoice_model(
    ledger: Ledger,
    *,
    data_end: pd.Timestamp,
    grace_days: int,
    config: OpenInvoiceModelConfig,
    seed: int,
) -> OpenInvoiceFit:
    """Build the month-end rows, fit on old months, calibrate and test on the holdout."""
    horizon = config.horizon_days
    months = labelled_month_ends(ledger, data_end=data_end, horizon_days=horizon)
    split = plan_snapshot_split(months, horizon_days=horizon,
                                holdout_periods=config.holdout_months)
    used = [m for m in months if m <= split.train_end or m >= split.holdout_start]
    rows = open_invoice_rows(ledger, as_of_dates=used, horizon_days=horizon,
                             grace_days=grace_days)
    roles = split.assign(rows["as_of"], rows["customer_id"])
    train = rows[(roles == TRAIN)].reset_index(drop=True)
    train = train[subsample_per_month_end(train, max_rows=config.rows_per_month_end, seed=seed)]
    train = train.reset_index(drop=True)
    calib = rows[roles == CALIBRATION].reset_index(drop=True)
    test = rows[roles == TEST].reset_index(drop=True)

    spec = FeatureSpec.from_catalog("invoice").with_levels_from(train)
    X_train = spec.encode(train)
    classify = train["late"].notna().to_numpy()
    y_train = train["late"].to_numpy()
    in_valid, fit_rows = early_stopping_rows(
        train, classify, train_end=split.train_end, valid_months=3, valid_customer_share=0.2
    )
    calib_rows = calib["late"].notna().to_numpy()
    for name, y in ((TRAIN, y_train[fit_rows]), (CALIBRATION, calib["late"][calib_rows]),
                    (TEST, test["late"].dropna())):
        _require_two_classes(np.asarray(y, dtype=np.float64), name)
    late_model = BoostedClassifier(spec, params=dict(config.lgbm_params),
                                   num_boost_round=config.num_boost_round, seed=seed)
    late_model.fit(
        X_train[fit_rows], y_train[fit_rows],
        X_valid=X_train[in_valid] if in_valid is not None else None,
        y_valid=y_train[in_valid] if in_valid is not None else None,
    )
    X_calib = spec.encode(calib)
    late_model.calibrate(X_calib[calib_rows], calib["late"].to_numpy()[calib_rows],
                         config.calibration)

    days_model = QuantileRegressors(
        spec, params={**config.lgbm_params, "learning_rate": config.quantile_learning_rate},
        num_boost_round=config.quantile_rounds, seed=seed)
    days_model.fit(X_train, train["days_to_settlement"].to_numpy(dtype=np.float64))
    widening = fit_interval_widening(
        days_model.predict(X_calib), calib["days_to_settlement"].to_numpy(dtype=np.float64),
        horizon_days=horizon, target=config.target_coverage,
    )
    model = OpenInvoiceModel(spec, late_model, days_model, horizon_days=horizon,
                             grace_days=grace_days, log_widening=widening)
    evaluation, metrics = evaluate_open_invoices(model, test)
    metrics[f"{PREFIX}_calibration_log_widening"] = widening
    counts = {TRAIN: len(train), CALIBRATION: len(calib), TEST: len(test)}
    metrics |= {f"{PREFIX}_{role}_rows": float(n) for role, n in counts.items()}
    return OpenInvoiceFit(model, split, metrics, evaluation, counts)


def evaluate_open_invoices(
    model: OpenInvoiceModel, rows: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Score labelled month-end rows with the model exactly as the bundle does, per as_of."""
    parts = [model.predict(group, as_of=pd.Timestamp(as_of))
             for as_of, group in rows.groupby("as_of", sort=True)]
    predicted = pd.concat(parts).reindex(rows.index) if parts else pd.DataFrame()
    day = np.timedelta64(1, "D")
    as_of_day = rows["as_of"].to_numpy(dtype="datetime64[D]")
    days = np.column_stack(
        [
            (predicted[f"expected_payment_{q}"].to_numpy(dtype="datetime64[D]") - as_of_day) / day
            for q in ("p10", "p50", "p90")
        ]
    ) if len(rows) else np.zeros((0, 3))
    days_true = rows["days_to_settlement"].to_numpy(dtype=np.float64)
    decided = rows["late"].notna().to_numpy()
    y = rows["late"].to_numpy()[decided]
    score = predicted["p_late"].to_numpy(dtype=np.float64)
    metrics = with_prefix(binary_metrics(y, score[decided]), f"{PREFIX}_test")
    metrics[f"{PREFIX}_test_coverage_p10_p90"] = interval_coverage(days, days_true)
    settled = ~rows["censored"].to_numpy(dtype=bool)
    metrics[f"{PREFIX}_test_days_p50_mae"] = (
        float(np.mean(np.abs(days[settled, 1] - days_true[settled]))) if settled.any()
        else float("nan")
    )
    metrics[f"{PREFIX}_test_rows"] = float(len(rows))
    metrics[f"{PREFIX}_test_censored_share"] = float(np.mean(~settled)) if len(rows) else 0.0
    evaluation = pd.DataFrame(
        {
            "row_id": np.arange(len(rows)),
            "invoice_id": rows["invoice_id"].astype("string").to_numpy(),
            "customer_id": rows["customer_id"].astype("string").to_numpy(),
            "as_of": rows["as_of"].to_numpy(),
            "past_due": rows["past_due"].to_numpy(dtype=bool),
            "y_true": rows["late"].to_numpy(dtype=np.float64),
            "score": score,
            "days_to_settlement": days_true,
            "days_p10": days[:, 0],
            "days_p50": days[:, 1],
            "days_p90": days[:, 2],
        }
    )
    return evaluation, metrics



def fit_open_invoices_if_possible(
    ledger: Ledger,
    *,
    data_end: pd.Timestamp,
    grace_days: int,
    config: OpenInvoiceModelConfig,
    seed: int,
) -> tuple[OpenInvoiceFit | None, str]:
    """:func:`fit_open_invoice_model`, or ``None`` and the reason when the ledger is too
    short or too small for it (the bundle then applies only the known-fact rules)."""
    try:
        fit = fit_open_invoice_model(ledger, data_end=data_end, grace_days=grace_days,
                                     config=config, seed=seed)
    except (DatasetError, SplitError, TrainingDataError) as error:
        return None, str(error)
    return fit, ""


def open_invoice_figures(fit: OpenInvoiceFit) -> dict[str, Figure]:
    """ROC and calibration of ``p_late`` on the test's not-yet-due rows."""
    decided = fit.test[fit.test["y_true"].notna()]
    series = {"open at month-end, not yet due": (decided["y_true"].to_numpy(),
                                                  decided["score"].to_numpy())}
    return {
        "open_invoice_roc": plots.roc_figure(
            series, title="Open invoices: P(late) ROC (out-of-time test)"),
        "open_invoice_calibration": plots.calibration_figure(
            series, title="Open invoices: P(late) calibration"),
    }
