"""One training run end to end: ledger -> datasets -> fit -> evaluate -> MLflow -> registry.

Time is a parameter: ``data_end`` is the ledger's cut-off (what the run may know). The run
logs parameters, config, lineage, metrics (model and, on synthetic data, the oracle),
plots, the evaluation frames the promotion gate re-scores, and the bundle (pyfunc) with its
signature and input example; the new version gets the alias ``challenger``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from mlflow.models import infer_signature

from creditrisk.ledger.frame import Ledger
from creditrisk.models.bundle import APPLICATION_COLUMNS, CreditRiskBundle
from creditrisk.models.policy import Policy
from creditrisk.models.pyfunc import BUNDLE_ARTIFACT, CreditRiskPyfunc, save_bundle
from creditrisk.training import plots, tracking
from creditrisk.training.config import TrainingConfig
from creditrisk.training.datasets import build_invoice_set, build_snapshot_set
from creditrisk.training.fitting import DefaultFit, LateFit, fit_default_model, fit_late_model
from creditrisk.training.lineage import ledger_digest
from creditrisk.training.open_invoices import (
    OpenInvoiceFit,
    fit_open_invoices_if_possible,
    open_invoice_figures,
)

Progress = Callable[[str], None]


@dataclass
class TrainingResult:
    run_id: str
    model_name: str
    version: str | None
    metrics: dict[str, float] = field(default_factory=dict)


def _noop(_: str) -> None:
    return None


def example_applications(as_of: pd.Timestamp) -> pd.DataFrame:
    """Two applicant rows for the signature and input example."""
    return pd.DataFrame(
        {
            "country": ["DE", "FR"],
            "industry": ["manufacturing", "retail"],
            "founded_on": ["2009-04-01", "2021-09-15"],
            "annual_revenue": [12_000_000.0, 800_000.0],
            "external_score": [71.0, np.nan],
            "payment_terms_days": [30.0, 45.0],
            "requested_limit": [150_000.0, 40_000.0],
            "expected_monthly_sales": [60_000.0, np.nan],
            "as_of": [str(as_of.date())] * 2,
        },
        columns=list(APPLICATION_COLUMNS),
    )


def run_training(
    ledger: Ledger,
    *,
    config: TrainingConfig,
    data_end: pd.Timestamp,
    policy: Policy,
    truth: dict[str, pd.DataFrame] | None = None,
    run_name: str | None = None,
    progress: Progress = _noop,
) -> TrainingResult:
    """Train, evaluate and log one run; register its bundle when a default model is fitted.

    ``truth`` (synthetic ledgers only): ``customer_month`` and ``invoice`` frames from the
    generator, for the oracle metrics.
    """
    truth = truth or {}
    data_end = pd.Timestamp(data_end).normalize()
    progress("late-payment features")
    invoices = build_invoice_set(ledger)
    progress("late-payment model")
    late = fit_late_model(ledger, invoices.features, data_end=data_end, config=config.late,
                          seed=config.seed, oracle=truth.get("invoice"))
    progress("open-invoice model (invoices open at month-ends)")
    open_fit, skipped = fit_open_invoices_if_possible(
        ledger, data_end=data_end, grace_days=config.late.grace_days,
        config=config.open_invoices, seed=config.seed,
    )
    if open_fit is None:
        progress(f"open-invoice model skipped: {skipped}")
    default: DefaultFit | None = None
    if config.train_default:
        progress("customer snapshots")
        snapshots = build_snapshot_set(ledger, data_end=data_end,
                                       horizon_days=config.default.horizon_days,
                                       definition=config.default.definition())
        progress("default model")
        default = fit_default_model(snapshots, config=config.default,
                                    model_kind=config.model_kind, seed=config.seed,
                                    oracle=truth.get("customer_month"))
    progress("MLflow logging")
    name = run_name or f"{config.model_kind}-{data_end.date()}"
    with tracking.training_run(config.experiment, name,
                               tags={"model_kind": config.model_kind}) as run_id:
        metrics = _log_run(ledger, config, data_end, policy, late, default)
        if open_fit is not None:
            metrics |= _log_open_invoices(open_fit)
        version = None
        if default is not None:
            progress("bundle and registry")
            version = _log_bundle(run_id, config, data_end, policy, late, default, metrics,
                                  open_invoices=open_fit)
    return TrainingResult(run_id, config.model_name, version, metrics)


def _log_run(
    ledger: Ledger,
    config: TrainingConfig,
    data_end: pd.Timestamp,
    policy: Policy,
    late: LateFit,
    default: DefaultFit | None,
) -> dict[str, float]:
    counts = {f"late_{k}": v for k, v in late.row_counts.items()}
    rates = {f"late_{k}": v for k, v in late.label_rates.items()}
    start = late.split.train_start
    if default is not None:
        counts |= {f"default_{k}": v for k, v in default.row_counts.items()}
        rates |= {f"default_{k}": v for k, v in default.label_rates.items()}
        start = min(start, default.split.train_start)
    tracking.log_lineage(ledger_digest(ledger), str(start.date()), str(data_end.date()),
                         counts, rates)
    split_params: dict[str, Any] = {f"late_split.{k}": v for k, v in late.split.to_dict().items()}
    if default is not None:
        split_params |= {f"default_split.{k}": v for k, v in default.split.to_dict().items()}
    tracking.log_config({**config.model_dump(), "split": split_params,
                         "policy": policy.to_dict()})
    metrics = dict(late.metrics)
    if default is not None:
        metrics |= default.metrics
    tracking.log_metrics(metrics)
    tracking.log_evaluation_frame("late_test", late.test)
    figures = _late_figures(late)
    if default is not None:
        tracking.log_evaluation_frame("default_test", default.test)
        figures |= _default_figures(default)
    tracking.log_figures(figures)
    for figure in figures.values():
        figure.clear()
    return metrics


def _default_figures(fit: DefaultFit) -> dict[str, Any]:
    t = fit.test
    y = t["y_true"].to_numpy()
    series = {"model": (y, t["score"].to_numpy())}
    if "baseline_score" in t and fit.baseline is not None:
        series["WoE scorecard baseline"] = (y, t["baseline_score"].to_numpy())
    if "oracle" in t and t["oracle"].notna().all():
        series["oracle (generator truth)"] = (y, t["oracle"].to_numpy())
    gains = fit.model.importance_gain()
    return {
        "default_roc": plots.roc_figure(series, title="Default 12m: ROC (out-of-time test)"),
        "default_calibration": plots.calibration_figure(series, title="Default 12m: calibration"),
        "default_gains": plots.gains_figure(series, title="Default 12m: cumulative gains"),
        "default_score_distribution": plots.score_distribution_figure(y, t["score"].to_numpy()),
        "default_feature_importance": plots.feature_importance_figure(
            list(gains), list(gains.values()), title="Default model: feature importance"
        ),
    }


def _late_figures(fit: LateFit) -> dict[str, Any]:
    t = fit.test
    y = t["y_true"].to_numpy()
    series = {"model": (y, t["score"].to_numpy()),
              "prior late share (naive)": (y, t["naive_prior_share"].to_numpy())}
    if "oracle" in t and t["oracle"].notna().all():
        series["oracle (generator truth)"] = (y, t["oracle"].to_numpy())
    gains = fit.model.importance_gain()
    return {
        "late_roc": plots.roc_figure(series, title="Late payment: ROC (out-of-time test)"),
        "late_calibration": plots.calibration_figure(series, title="Late payment: calibration"),
        "late_feature_importance": plots.feature_importance_figure(
            list(gains), list(gains.values()), title="Late-payment model: feature importance"
        ),
    }


def _log_open_invoices(fit: OpenInvoiceFit) -> dict[str, float]:
    """Metrics, split, test rows and figures of the open-invoice model, into the run."""
    tracking.log_metrics(fit.metrics)
    tracking.log_config({"open_invoice_split": fit.split.to_dict()})
    # the not-yet-due rows (y_true defined): run comparison draws every logged frame's
    # y_true/score curves; past-due rows are p_late 1 by rule and in the coverage metric only
    tracking.log_evaluation_frame("open_invoice_test",
                                  fit.test[fit.test["y_true"].notna()].reset_index(drop=True))
    figures = open_invoice_figures(fit)
    tracking.log_figures(figures)
    for figure in figures.values():
        figure.clear()
    return dict(fit.metrics)


def _log_bundle(
    run_id: str,
    config: TrainingConfig,
    data_end: pd.Timestamp,
    policy: Policy,
    late: LateFit,
    default: DefaultFit,
    metrics: dict[str, float],
    *,
    open_invoices: OpenInvoiceFit | None = None,
) -> str:
    headline = {k: float(v) for k, v in metrics.items()
                if k.endswith(("_roc_auc", "_ece", "_brier", "_days_late_mae"))
                and np.isfinite(v)}
    bundle = CreditRiskBundle(
        customer_spec=default.spec,
        invoice_spec=late.spec,
        default_model=default.model,
        late_model=late.model,
        days_model=late.days_model,
        policy=policy,
        default_definition=config.default.definition(),
        open_invoice_model=open_invoices.model if open_invoices is not None else None,
        metadata={
            "model_name": config.model_name,
            "run_id": run_id,
            "model_kind": config.model_kind,
            "data_end": str(data_end.date()),
            "horizon_days": config.default.horizon_days,
            "grace_days": config.late.grace_days,
            "metrics": headline,
        },
    )
    example = example_applications(data_end)
    signature = infer_signature(example, bundle.score_applications(example))
    with tempfile.TemporaryDirectory() as tmp:
        path = save_bundle(bundle, Path(tmp) / "bundle.pkl")
        tracking.log_model(
            CreditRiskPyfunc(),
            name="bundle",
            artifacts={BUNDLE_ARTIFACT: str(path)},
            signature=signature,
            input_example=example,
        )
    version = tracking.register_model(run_id, "bundle", config.model_name,
                                      tags={"model_kind": config.model_kind,
                                            "policy_version": policy.version})
    tracking.set_alias(config.model_name, tracking.CHALLENGER_ALIAS, version)
    return version
