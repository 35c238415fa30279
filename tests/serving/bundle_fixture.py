"""A small trained bundle registered in a temporary MLflow store, for serving tests and the
serving benchmark (until the training pipeline provides the real one).

What it builds, seeded and in a few seconds:

* a synthetic ledger (:func:`creditrisk.synthetic.generate_ledger`, 1,500 customers, 3 years);
* monthly customer snapshots with crude default labels (a Bernoulli draw of the generator's
  true 12-month PD), invoice features at issue with late-payment labels from the settled
  invoices;
* a few-round :class:`~models.estimators.BoostedClassifier` for default and for late payment,
  :class:`~models.estimators.QuantileRegressors` for days late, wrapped in a
  :class:`~models.bundle.CreditRiskBundle` with the default policy;
* one run per bundle in a SQLite tracking store under a temp directory, logged with
  ``mlflow.pyfunc.log_model(name="bundle", **models.pyfunc.log_options(...))`` exactly as the
  training pipeline does, registered under a model name, aliased ``champion``.

Nothing here runs at import time.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient

from creditrisk.features.catalog import Level
from creditrisk.features.invoice import build_invoice_features
from creditrisk.features.snapshots import build_snapshots
from creditrisk.ledger.frame import Ledger
from creditrisk.models.bundle import APPLICATION_COLUMNS, CreditRiskBundle
from creditrisk.models.estimators import BoostedClassifier, QuantileRegressors
from creditrisk.models.policy import Policy
from creditrisk.models.pyfunc import BUNDLE_FILE, log_options, save_bundle
from creditrisk.models.spec import FeatureSpec
from creditrisk.synthetic import SyntheticLedger, generate_ledger

MODEL_NAME = "creditrisk"
CHAMPION = "champion"
CHALLENGER = "challenger"
LEDGER_START = date(2023, 1, 1)
LEDGER_END = date(2025, 12, 31)
SERVICE_TODAY = date(2025, 12, 31)
TYPICAL_APPLICATION: dict[str, object] = {
    "country": "DE",
    "industry": "manufacturing",
    "founded_on": "2004-03-01",
    "annual_revenue": 12_000_000,
    "external_score": 71,
    "payment_terms_days": 30,
    "requested_limit": 150_000,
    "expected_monthly_sales": 60_000,
}
"""A plausible applicant inside the served model's ranges: the body the HTTP tests post."""
"""The day the test service's clock says it is (the end of the synthetic ledger)."""

FAST_LGBM = {"min_data_in_leaf": 20, "num_leaves": 7, "learning_rate": 0.2,
             "max_bin": 63, "num_threads": 1}


def spec_for(level: Level, frame: pd.DataFrame) -> FeatureSpec:
    """The catalog's spec for ``level`` with category levels learned from ``frame``."""
    return FeatureSpec.from_catalog(level).with_levels_from(frame)


def synthetic_ledger(*, n_customers: int = 1_500, seed: int = 11) -> SyntheticLedger:
    """The seeded ledger the fixture bundle is trained on (and the test service serves)."""
    return generate_ledger(n_customers=n_customers, start=LEDGER_START, end=LEDGER_END, seed=seed)


@dataclass(frozen=True)
class TrainingFrames:
    """Labelled customer snapshots and invoices, built once and fitted several times."""

    snapshots: pd.DataFrame
    pd_12m_truth: np.ndarray
    invoices: pd.DataFrame
    days_late: np.ndarray


def training_frames(synthetic: SyntheticLedger, *, max_invoices: int = 12_000) -> TrainingFrames:
    """Monthly snapshots with the generator's true PD, and a sample of settled invoices."""
    ledger = synthetic.ledger
    month_ends = pd.date_range(LEDGER_START, date(2024, 12, 31), freq="ME")
    snapshots = build_snapshots(ledger, as_of_dates=list(month_ends))
    truth = synthetic.customer_month_truth.rename(columns={"month_end": "as_of"})
    labelled = snapshots.merge(
        truth[["customer_id", "as_of", "pd_12m"]], on=["customer_id", "as_of"], how="inner"
    )
    invoices = build_invoice_features(ledger)
    settled = ledger.invoices.set_index("invoice_id")["settled_date"]
    settled_on = pd.to_datetime(invoices["invoice_id"].map(settled))
    invoices = invoices.loc[settled_on.notna().to_numpy()]
    invoices = invoices.sample(n=min(max_invoices, len(invoices)), random_state=3)
    late_by = settled_on.loc[invoices.index] - pd.to_datetime(invoices["due_date"])
    days_late = late_by.dt.days.clip(lower=0)
    return TrainingFrames(
        snapshots=labelled,
        pd_12m_truth=labelled["pd_12m"].to_numpy(np.float64),
        invoices=invoices.reset_index(drop=True),
        days_late=days_late.to_numpy(np.float64),
    )


def train_bundle(
    frames: TrainingFrames, *, seed: int = 7, rounds: int = 40, label: str = "fixture"
) -> CreditRiskBundle:
    """A crude but real bundle: both models and the quantile regressors, few rounds.

    Default labels are a seeded Bernoulli draw of the true 12-month PD; late labels are the
    settled invoices' days beyond terms.
    """
    rng = np.random.default_rng(seed)
    y_default = (rng.random(len(frames.snapshots)) < frames.pd_12m_truth).astype(np.int64)
    customer_spec = spec_for("customer", frames.snapshots)
    default_model = BoostedClassifier(
        customer_spec, params=FAST_LGBM, num_boost_round=rounds, seed=seed
    ).fit(customer_spec.encode(frames.snapshots), y_default)
    invoice_spec = spec_for("invoice", frames.invoices)
    X_invoice = invoice_spec.encode(frames.invoices)
    late_model = BoostedClassifier(
        invoice_spec, params=FAST_LGBM, num_boost_round=rounds, seed=seed
    ).fit(X_invoice, (frames.days_late > 0).astype(np.int64))
    days_model = QuantileRegressors(
        invoice_spec, params=FAST_LGBM, num_boost_round=max(rounds // 2, 5), seed=seed
    ).fit(X_invoice, frames.days_late)
    return CreditRiskBundle(
        customer_spec=customer_spec,
        invoice_spec=invoice_spec,
        default_model=default_model,
        late_model=late_model,
        days_model=days_model,
        policy=Policy.default(),
        metadata={"trained_by": label, "seed": seed, "rounds": rounds},
    )


def example_applications() -> pd.DataFrame:
    """A few application rows in the pyfunc's input format (also the input example)."""
    rows = [
        {"country": "DE", "industry": "manufacturing", "founded_on": "2004-03-01",
         "annual_revenue": 12_000_000.0, "external_score": 71.0, "payment_terms_days": 30.0,
         "requested_limit": 150_000.0, "expected_monthly_sales": 60_000.0, "as_of": "2025-12-31"},
        {"country": "FR", "industry": "retail", "founded_on": "2023-06-15",
         "annual_revenue": 400_000.0, "external_score": 35.0, "payment_terms_days": 60.0,
         "requested_limit": 80_000.0, "expected_monthly_sales": 20_000.0, "as_of": "2025-12-31"},
        {"country": "NL", "industry": "construction", "founded_on": "1990-01-01",
         "annual_revenue": 2_500_000.0, "external_score": math.nan, "payment_terms_days": 45.0,
         "requested_limit": 40_000.0, "expected_monthly_sales": math.nan, "as_of": "2025-06-30"},
        {"country": "XX", "industry": "unknown-industry", "founded_on": "2015-09-09",
         "annual_revenue": 900_000.0, "external_score": 55.0, "payment_terms_days": 14.0,
         "requested_limit": 5_000.0, "expected_monthly_sales": 4_000.0, "as_of": "2025-12-31"},
    ]
    return pd.DataFrame(rows, columns=list(APPLICATION_COLUMNS))


@dataclass(frozen=True)
class RegisteredBundle:
    """A bundle logged and registered in a tracking store."""

    tracking_uri: str
    model_name: str
    version: str
    run_id: str
    bundle: CreditRiskBundle


@contextmanager
def tracking_store(tracking_uri: str) -> Iterator[MlflowClient]:
    """Point MLflow's process-wide tracking and registry URIs at ``tracking_uri`` for a block.

    MLflow also exports them as ``MLFLOW_TRACKING_URI`` / ``MLFLOW_REGISTRY_URI`` for
    subprocesses; those are put back exactly as they were (unset stays unset).
    """
    names = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")
    saved_env = {name: os.environ.get(name) for name in names}
    previous_tracking = mlflow.get_tracking_uri()
    previous_registry = mlflow.get_registry_uri()
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    try:
        yield MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    finally:
        mlflow.set_tracking_uri(previous_tracking)
        mlflow.set_registry_uri(previous_registry)
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def register_bundle(
    bundle: CreditRiskBundle,
    *,
    workdir: Path,
    tracking_uri: str,
    model_name: str = MODEL_NAME,
    aliases: tuple[str, ...] = (CHAMPION,),
    metrics: dict[str, float] | None = None,
) -> RegisteredBundle:
    """Log ``bundle`` as a pyfunc in a new run, register it and point ``aliases`` at it."""
    workdir.mkdir(parents=True, exist_ok=True)
    with tracking_store(tracking_uri) as client:
        experiment = client.get_experiment_by_name("creditrisk")
        if experiment is None:
            artifacts = (workdir / "mlartifacts").resolve().as_uri()
            experiment_id = client.create_experiment("creditrisk", artifact_location=artifacts)
        else:
            experiment_id = experiment.experiment_id
        bundle_path = save_bundle(bundle, workdir / f"bundle-{len(list(workdir.glob('bundle-*')))}"
                                  / BUNDLE_FILE)
        example = example_applications()
        with mlflow.start_run(experiment_id=experiment_id) as run:
            mlflow.log_metrics(metrics or {"default_test_roc_auc": 0.8, "late_test_roc_auc": 0.75})
            mlflow.log_params(dict(bundle.metadata))
            # exactly as the training pipeline logs it (models/pyfunc.py: model from code,
            # package code, pinned requirements, typed signature)
            info = mlflow.pyfunc.log_model(
                name="bundle", **log_options(bundle_path, example.iloc[:2], bundle_path.parent)
            )
            run_id = run.info.run_id
        version = mlflow.register_model(info.model_uri, model_name)
        for alias in aliases:
            client.set_registered_model_alias(model_name, alias, str(version.version))
    return RegisteredBundle(tracking_uri, model_name, str(version.version), run_id, bundle)


def move_alias(registered: RegisteredBundle, alias: str = CHAMPION) -> None:
    """Point ``alias`` at ``registered``'s version (what a promotion does)."""
    client = MlflowClient(tracking_uri=registered.tracking_uri,
                          registry_uri=registered.tracking_uri)
    client.set_registered_model_alias(registered.model_name, alias, registered.version)


@dataclass(frozen=True)
class ServingWorld:
    """Everything a serving test needs: the ledger, the store and two registered versions."""

    ledger: Ledger
    tracking_uri: str
    champion: RegisteredBundle
    challenger: RegisteredBundle

    @property
    def model_uri(self) -> str:
        return f"models:/{self.champion.model_name}@{CHAMPION}"


def build_serving_world(workdir: Path, *, n_customers: int = 1_500) -> ServingWorld:
    """Ledger + two trained bundles (versions 1 = champion, 2 = challenger) in a temp store."""
    synthetic = synthetic_ledger(n_customers=n_customers)
    frames = training_frames(synthetic)
    tracking_uri = f"sqlite:///{(workdir / 'mlflow.db').resolve()}"
    champion = register_bundle(
        train_bundle(frames, seed=7, label="champion"), workdir=workdir,
        tracking_uri=tracking_uri, aliases=(CHAMPION,),
    )
    challenger = register_bundle(
        train_bundle(frames, seed=8, rounds=30, label="challenger"), workdir=workdir,
        tracking_uri=tracking_uri, aliases=(CHALLENGER,),
        metrics={"default_test_roc_auc": 0.79, "late_test_roc_auc": 0.74},
    )
    return ServingWorld(synthetic.ledger, tracking_uri, champion, challenger)
