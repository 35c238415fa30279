"""One training run end to end: ledger -> datasets -> fit -> evaluate -> MLflow -> registry.

Time is a parameter: ``data_end`` is the ledger's cut-off (what the run may know). The run
logs parameters, config, lineage, metrics (model and, on synthetic data, the oracle),
plots, the evaluation frames the promotion gate re-scores, and the bundle (pyfunc) with its
signature and input example; the new version gets the alias ``challenger``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from creditrisk.ledger.frame import Ledger
from creditrisk.models.bundle import APPLICATION_COLUMNS, CreditRiskBundle
from creditrisk.models.policy import Policy
from creditrisk.models.population import reference_population
from creditrisk.models.pyfunc import log_options as pyfunc_log_options
from creditrisk.models.pyfunc import save_bundle
from creditrisk.models.spec import FeatureSpec
from creditrisk.training import plots, tracking
from creditrisk.training.capacity import (
    LedgerSupport,
    UnsupportedLedger,
    assess_ledger,
    plan_default_model,
)
from creditrisk.training.config import TrainingConfig
from creditrisk.training.datasets import SnapshotSet, build_invoice_set, build_snapshot_set
from creditrisk.training.errors import TrainingError
from creditrisk.training.evaluation import mae_baseline
from creditrisk.training.fitting import (
    BoostingProgress,
    DefaultFit,
    LateFit,
    fit_default_model,
    fit_late_model,
)
from creditrisk.training.labels import late_payment_labels
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
    skipped: dict[str, str] = field(default_factory=dict)
    """Model -> why it was not trained (e.g. ``{"default": "the ledger holds no ..."}``)."""


@dataclass
class FittedModels:
    """Everything one ``train`` fits, before any logging: a challenger reuses all of it
    except the default model (:func:`run_challenger`)."""

    config: TrainingConfig
    """The config the models were fitted with (windows as fitted to the ledger)."""
    data_end: pd.Timestamp
    support: LedgerSupport
    late: LateFit
    open_fit: OpenInvoiceFit | None
    snapshots: SnapshotSet | None
    default: DefaultFit | None
    skipped: dict[str, str]
    truth: dict[str, pd.DataFrame]


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


def check_ledger(
    ledger: Ledger, *, config: TrainingConfig, data_end: pd.Timestamp
) -> LedgerSupport:
    """The pre-flight check (:func:`training.capacity.assess_ledger`) with the config's
    windows; cheap, so callers show it before anything is fitted."""
    return assess_ledger(ledger, data_end=pd.Timestamp(data_end).normalize(),
                         default_config=config.default, late_config=config.late,
                         fit_windows=config.default.fit_windows)


def fit_models(
    ledger: Ledger,
    *,
    config: TrainingConfig,
    data_end: pd.Timestamp,
    truth: dict[str, pd.DataFrame] | None = None,
    support: LedgerSupport | None = None,
    progress: Progress = _noop,
    boosting: BoostingProgress | None = None,
) -> FittedModels:
    """Check the ledger, then fit the late-payment, open-invoice and default models.

    Raises :class:`training.capacity.UnsupportedLedger` at once (nothing fitted) when the late
    model cannot be trained, or the default model cannot and ``default.when_unsupported`` is
    ``fail``; otherwise an unsupported default model is skipped with the reason."""
    truth = truth or {}
    data_end = pd.Timestamp(data_end).normalize()
    support = support or check_ledger(ledger, config=config, data_end=data_end)
    default_config, skip_reason = plan_default_model(support, config)
    config = config.model_copy(update={"default": default_config})
    skipped = {"default": skip_reason} if skip_reason else {}
    progress("late-payment features")
    invoices = build_invoice_set(ledger)
    progress("late-payment model")
    late = fit_late_model(ledger, invoices.features, data_end=data_end, config=config.late,
                          seed=config.seed, oracle=truth.get("invoice"), boosting=boosting)
    progress("open-invoice model (invoices open at month-ends)")
    open_fit, open_skipped = fit_open_invoices_if_possible(
        ledger, data_end=data_end, grace_days=config.late.grace_days,
        config=config.open_invoices, seed=config.seed,
    )
    if open_fit is None:
        progress(f"open-invoice model skipped: {open_skipped}")
    fitted = FittedModels(config, data_end, support, late, open_fit, None, None, skipped, truth)
    if skip_reason is None:
        _fit_default(ledger, fitted, progress=progress, boosting=boosting)
    return fitted


def _fit_default(
    ledger: Ledger, fitted: FittedModels, *, progress: Progress,
    boosting: BoostingProgress | None,
) -> None:
    """Snapshots and the default model into ``fitted``; a training error the pre-flight
    could not foresee skips the default model (or fails, as the config says)."""
    config = fitted.config
    try:
        progress("customer snapshots")
        fitted.snapshots = build_snapshot_set(ledger, data_end=fitted.data_end,
                                              horizon_days=config.default.horizon_days,
                                              definition=config.default.definition())
        progress("default model")
        fitted.default = fit_default_model(fitted.snapshots, config=config.default,
                                           model_kind=config.model_kind, seed=config.seed,
                                           oracle=fitted.truth.get("customer_month"),
                                           boosting=boosting)
    except TrainingError as exc:
        if config.default.when_unsupported == "fail":
            raise
        fitted.skipped["default"] = str(exc)
        progress(f"default model skipped: {exc}")


def run_training(
    ledger: Ledger,
    *,
    config: TrainingConfig,
    data_end: pd.Timestamp,
    policy: Policy,
    truth: dict[str, pd.DataFrame] | None = None,
    run_name: str | None = None,
    progress: Progress = _noop,
    support: LedgerSupport | None = None,
    boosting: BoostingProgress | None = None,
) -> TrainingResult:
    """Train, evaluate and log one run; register its bundle (late-only when the ledger could
    not support a default model: the service then answers invoice predictions).

    ``truth`` (synthetic ledgers only): ``customer_month`` and ``invoice`` frames from the
    generator, for the oracle metrics.
    """
    # the run opens before fitting so that its duration is the whole training; log_training
    # names and tags this same run (tracking.training_run is re-entrant)
    with tracking.training_run(config.experiment,
                               run_name or f"{config.model_kind}-{data_end.date()}"):
        fitted = fit_models(ledger, config=config, data_end=data_end, truth=truth,
                            support=support, progress=progress, boosting=boosting)
        return log_training(ledger, fitted, policy=policy, run_name=run_name,
                            progress=progress)


def run_challenger(
    ledger: Ledger,
    fitted: FittedModels,
    *,
    model_kind: str,
    policy: Policy,
    run_name: str | None = None,
    progress: Progress = _noop,
) -> TrainingResult:
    """A second run whose default model is ``model_kind``, on the same snapshots, reusing
    the late-payment and open-invoice models already fitted (each model trained once)."""
    if fitted.snapshots is None or fitted.default is None:
        raise UnsupportedLedger(
            "no challenger: the default model was not trained "
            f"({fitted.skipped.get('default', 'late only')})")
    config = fitted.config.model_copy(update={"model_kind": model_kind})
    progress(f"challenger default model ({model_kind})")
    default = fit_default_model(fitted.snapshots, config=config.default, model_kind=model_kind,
                                seed=config.seed, oracle=fitted.truth.get("customer_month"))
    challenger = replace(fitted, config=config, default=default)
    return log_training(ledger, challenger, policy=policy, run_name=run_name,
                        progress=progress)


def log_training(
    ledger: Ledger,
    fitted: FittedModels,
    *,
    policy: Policy,
    run_name: str | None = None,
    progress: Progress = _noop,
) -> TrainingResult:
    """Log the fitted models as one MLflow run and register its bundle as challenger."""
    config, data_end, late, default = fitted.config, fitted.data_end, fitted.late, fitted.default
    progress("MLflow logging")
    name = run_name or f"{config.model_kind}-{data_end.date()}"
    tags = {"model_kind": config.model_kind if default is not None else "late_only"}
    with tracking.training_run(config.experiment, name, tags=tags) as run_id:
        metrics = _log_run(ledger, config, data_end, policy, late, default)
        metrics |= _days_late_median_baseline(ledger, late, grace_days=config.late.grace_days)
        tracking.log_metrics({k: v for k, v in metrics.items()
                              if k.endswith("_median_baseline")})
        tracking.log_config({"ledger_support": fitted.support.to_params(),
                             "skipped": dict(fitted.skipped)})
        if fitted.open_fit is not None:
            metrics |= _log_open_invoices(fitted.open_fit)
        progress("bundle and registry")
        version = _log_bundle(run_id, config, data_end, policy, late, default, metrics,
                              open_invoices=fitted.open_fit, skipped=fitted.skipped)
    return TrainingResult(run_id, config.model_name, version, metrics, dict(fitted.skipped))


def _days_late_median_baseline(
    ledger: Ledger, late: LateFit, *, grace_days: int
) -> dict[str, float]:
    """MAE of the constant that predicts the training invoices' median days late (0 on
    most ledgers: most invoices are paid on time) on the test invoices: a stronger constant
    than the mean, which long delays pull up."""
    labels = late_payment_labels(ledger, cutoff=late.split.train_end, grace_days=grace_days)
    issued = pd.to_datetime(labels["issue_date"])
    in_train = (issued >= late.split.train_start) & (issued <= late.split.train_end)
    train_days = labels.loc[in_train, "days_beyond_terms"].dropna().to_numpy(np.float64)
    test_days = late.test["days_beyond_terms"].dropna().to_numpy(np.float64)
    if not len(train_days) or not len(test_days):
        return {}
    median = float(np.median(np.maximum(train_days, 0)))
    return {"late_test_days_late_median": median,
            "late_test_days_late_mae_median_baseline": mae_baseline(
                np.maximum(test_days, 0), median)}


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
    default: DefaultFit | None,
    metrics: dict[str, float],
    *,
    open_invoices: OpenInvoiceFit | None = None,
    skipped: dict[str, str] | None = None,
) -> str:
    """Log and register the bundle; without a default model it is late-only (no customer
    PD: the service answers invoice predictions and names the missing model elsewhere)."""
    headline = {k: float(v) for k, v in metrics.items()
                if k.endswith(("_roc_auc", "_ece", "_brier", "_days_late_mae"))
                and np.isfinite(v)}
    kind = config.model_kind if default is not None else "late_only"
    metadata: dict[str, Any] = {
        "model_name": config.model_name,
        "run_id": run_id,
        "model_kind": kind,
        "data_end": str(data_end.date()),
        "horizon_days": config.default.horizon_days,
        "grace_days": config.late.grace_days,
        "metrics": headline,
    }
    if default is None:
        metadata["default_model_skipped"] = (skipped or {}).get("default", "late only")
    else:  # the population the model was tested on, for rescoring's PSI (models/population)
        metadata["population_reference"] = reference_population(
            default.test[list(default.spec.names)], categorical=default.spec.categorical,
            model_pd_12m=default.test["score"].to_numpy(np.float64),
            score_edges=[band.pd_lower for band in policy.scale.bands[1:]])
    bundle = CreditRiskBundle(
        customer_spec=default.spec if default is not None else FeatureSpec.from_catalog(
            "customer"),
        invoice_spec=late.spec,
        default_model=default.model if default is not None else None,
        late_model=late.model,
        days_model=late.days_model,
        policy=policy,
        default_definition=config.default.definition(),
        open_invoice_model=open_invoices.model if open_invoices is not None else None,
        metadata=metadata,
    )
    example = example_applications(data_end)
    with tempfile.TemporaryDirectory() as tmp:
        path = save_bundle(bundle, Path(tmp) / "bundle.pkl")
        # a late-only bundle cannot score applications: logged without an example
        options = pyfunc_log_options(path, example if default is not None else None, Path(tmp))
        tracking.log_model(name="bundle", **options)
    version = tracking.register_model(run_id, "bundle", config.model_name,
                                      tags={"model_kind": kind,
                                            "policy_version": policy.version})
    tracking.set_alias(config.model_name, tracking.CHALLENGER_ALIAS, version)
    return version
