"""One training run end to end on a small seeded synthetic ledger: both models fitted on an
out-of-time split, metrics (with oracle) logged, bundle registered as challenger, and the
first promotion makes it champion."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from creditrisk.features.invoice import build_invoice_features
from creditrisk.models.decisions import DECISIONS
from creditrisk.models.policy import Policy
from creditrisk.synthetic.generator import generate_ledger
from creditrisk.training import tracking
from creditrisk.training.config import DefaultModelConfig, LateModelConfig, TrainingConfig
from creditrisk.training.pipeline import example_applications, run_training
from creditrisk.training.promotion import promote
from creditrisk.training.scoring import (
    direction_violations,
    load_registered_bundle,
    score_evaluation_frame,
)

pytestmark = pytest.mark.slow

END = date(2025, 6, 30)


@pytest.fixture(scope="module")
def synthetic():  # type: ignore[no-untyped-def]
    return generate_ledger(n_customers=2_500, start=date(2022, 1, 1), end=END, seed=11)


@pytest.fixture(scope="module")
def trained(synthetic, tmp_path_factory):  # type: ignore[no-untyped-def]
    store = tmp_path_factory.mktemp("mlflow")
    tracking.configure(f"sqlite:///{store / 'mlflow.db'}")
    config = TrainingConfig(
        model_name="test-creditrisk",
        default=DefaultModelConfig(holdout_months=4, num_boost_round=150),
        late=LateModelConfig(num_boost_round=150, quantile_rounds=60),
    )
    truth = {"customer_month": synthetic.customer_month_truth, "invoice": synthetic.invoice_truth}
    result = run_training(synthetic.ledger, config=config, data_end=pd.Timestamp(END),
                          policy=Policy.default(), truth=truth)
    return config, result, store


def test_run_logs_metrics_with_oracle_and_registers_a_challenger(trained) -> None:  # type: ignore[no-untyped-def]
    config, result, _ = trained
    for key in ("default_test_roc_auc", "default_test_ece", "default_test_oracle_roc_auc",
                "default_test_applicants_events", "late_test_roc_auc",
                "late_test_oracle_roc_auc", "late_test_days_late_mae"):
        assert np.isfinite(result.metrics[key]), key
    # a segment metric is a number only on enough events, else only its count is logged
    applicant_events = result.metrics["default_test_applicants_events"]
    has_auc = "default_test_applicants_roc_auc" in result.metrics
    assert has_auc == (applicant_events >= config.default.min_segment_events)
    assert result.metrics["default_test_roc_auc"] > 0.6
    assert result.metrics["late_test_roc_auc"] > 0.6
    run = MlflowClient().get_run(result.run_id)
    assert "default/test_roc_auc" in run.data.metrics  # grouped per model in MLflow
    assert run.data.params["default.horizon_days"] == "365"
    assert tracking.alias_version(config.model_name, "challenger").version == result.version
    artifacts = {a.path for a in MlflowClient().list_artifacts(result.run_id, "plots")}
    assert "plots/default_roc.png" in artifacts
    assert "plots/late_calibration.png" in artifacts


def test_first_promotion_makes_the_challenger_champion_and_bundle_scores(trained) -> None:  # type: ignore[no-untyped-def]
    config, result, _ = trained
    outcome = promote(config.model_name, score_fn=score_evaluation_frame, actor="test",
                      now=pd.Timestamp("2025-07-01", tz="UTC").to_pydatetime(),
                      behaviour_fn=direction_violations)
    assert outcome.passed, outcome.decision.summary
    direction = outcome.decision.checks[-1]
    assert direction.metric == "applicants.risk_direction_violations"
    assert direction.challenger == 0
    assert tracking.alias_version(config.model_name, "champion").version == result.version
    bundle = load_registered_bundle(f"models:/{config.model_name}/{result.version}")
    scored = bundle.score_applications(example_applications(pd.Timestamp(END)))
    assert scored["pd_12m"].between(0, 1).all()
    assert set(scored["decision"]) <= set(DECISIONS)


def test_run_logs_the_open_invoice_model_and_the_bundle_uses_it(trained, synthetic) -> None:  # type: ignore[no-untyped-def]
    """The open-invoice metrics, plots and test rows are in the run, and the registered
    bundle predicts invoices open at T with that model (known facts kept)."""
    config, result, _ = trained
    run = MlflowClient().get_run(result.run_id)
    for key in ("open_invoice_test_roc_auc", "open_invoice_test_ece",
                "open_invoice_test_coverage_p10_p90"):
        assert np.isfinite(run.data.metrics[tracking.mlflow_metric_key(key)]), key
    artifacts = {a.path for a in MlflowClient().list_artifacts(result.run_id, "plots")}
    assert "plots/open_invoice_calibration.png" in artifacts
    assert "open_invoice_test" in tracking.evaluation_frame_names(result.run_id)
    bundle = load_registered_bundle(f"models:/{config.model_name}/{result.version}")
    assert bundle.open_invoice_model is not None
    as_of = pd.Timestamp("2025-05-31")
    features = build_invoice_features(synthetic.ledger, as_of=as_of)
    out = bundle.predict_open_invoices(features, as_of=as_of)
    assert (out.loc[(features["due_date"] < as_of).to_numpy(), "p_late"] == 1).all()
    assert (out["expected_payment_p10"] > as_of).all()
