"""Applicant behaviour of trained bundles (issue 8.3): on a small seeded ledger, for the
LightGBM model and the WoE scorecard, moving a declared applicant input the safe way never
raises the PD, an input the model does not read changes nothing, the same input gives the
same answer, and an input outside the training range is refused, naming field and range."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from creditrisk.models.applicant_inputs import ApplicantInputOutOfRange
from creditrisk.models.behaviour import (
    invariance_violations,
    probe_applications,
    repeatability_violations,
    risk_direction_violations,
)
from creditrisk.models.bundle import CreditRiskBundle
from creditrisk.models.estimators import QuantileRegressors
from creditrisk.models.policy import Policy
from creditrisk.synthetic.generator import generate_ledger
from creditrisk.training import tracking
from creditrisk.training.config import DefaultModelConfig
from creditrisk.training.datasets import build_snapshot_set
from creditrisk.training.fitting import DefaultFit, fit_default_model
from creditrisk.training.promotion import GateMargins, promote
from creditrisk.training.tracking import ModelVersionRef

END = date(2025, 6, 30)
SMALL = DefaultModelConfig(holdout_months=4, num_boost_round=120,
                           lgbm_params={"num_threads": 1}, min_segment_events=5)


@pytest.fixture(scope="module")
def fits() -> dict[str, DefaultFit]:
    synthetic = generate_ledger(n_customers=1_500, start=date(2022, 1, 1), end=END, seed=11)
    snapshots = build_snapshot_set(synthetic.ledger, data_end=pd.Timestamp(END),
                                   horizon_days=SMALL.horizon_days,
                                   definition=SMALL.definition())
    return {kind: fit_default_model(snapshots, config=SMALL, model_kind=kind, seed=7)
            for kind in ("lightgbm", "scorecard")}


def bundle_of(fit: DefaultFit) -> CreditRiskBundle:
    """A bundle around the fitted default model (applicant scoring reads nothing else; the
    late-payment slots hold placeholders that these tests never call)."""
    return CreditRiskBundle(
        customer_spec=fit.spec, invoice_spec=fit.spec, default_model=fit.model,
        late_model=fit.model, days_model=QuantileRegressors(fit.spec), policy=Policy.default(),
    )


def applications(fit: DefaultFit) -> pd.DataFrame:
    """Applicant rows spread across the training ranges (a few missing values)."""
    spec = fit.spec
    rng = np.random.default_rng(4)
    n = 12

    def inside(feature: str) -> np.ndarray:
        low, high = spec.ranges[feature]
        return rng.uniform(low + 0.1 * (high - low), high - 0.1 * (high - low), n)

    age_days = np.round(inside("company_age_years") * 365.25).astype(int)
    as_of = pd.Timestamp(END)
    score = inside("external_score")
    score[:2] = np.nan
    return pd.DataFrame({
        "country": rng.choice(list(spec.categories["country"]), n),
        "industry": rng.choice(list(spec.categories["industry"]), n),
        "founded_on": [(as_of - pd.Timedelta(days=int(d))).strftime("%Y-%m-%d")
                       for d in age_days],
        "annual_revenue": inside("annual_revenue"),
        "external_score": score,
        "payment_terms_days": rng.choice([30.0, 45.0], n),
        "requested_limit": inside("credit_limit"),
        "expected_monthly_sales": inside("credit_limit") / 3,
        "as_of": str(END),
    })


@pytest.mark.parametrize("kind", ["lightgbm", "scorecard"])
def test_safe_move_of_a_declared_input_never_raises_the_pd(fits, kind) -> None:  # type: ignore[no-untyped-def]
    fit = fits[kind]
    violations = risk_direction_violations(bundle_of(fit), applications(fit))
    assert violations == [], [v.describe() for v in violations[:5]]


@pytest.mark.parametrize("kind", ["lightgbm", "scorecard"])
def test_reference_changes_nothing_and_same_input_same_answer(fits, kind) -> None:  # type: ignore[no-untyped-def]
    fit = fits[kind]
    bundle, apps = bundle_of(fit), applications(fit)
    assert invariance_violations(bundle, apps) == []
    assert repeatability_violations(bundle, apps) == []


@pytest.mark.parametrize("kind", ["lightgbm", "scorecard"])
def test_bureau_score_outside_training_range_is_refused_naming_field_and_range(fits, kind) -> None:  # type: ignore[no-untyped-def]
    fit = fits[kind]
    bundle, apps = bundle_of(fit), applications(fit)
    low, high = fit.spec.ranges["external_score"]
    bad = apps.assign(external_score=900.0)
    with pytest.raises(ApplicantInputOutOfRange, match="external_score = 900") as caught:
        bundle.score_applications(bad)
    error = caught.value
    assert (error.field, error.low, error.high) == ("external_score", low, high)
    assert bundle.describe()["applicant_input_ranges"]["external_score"] == [low, high]
    assert f"{low:g}" in str(caught.value)
    assert f"{high:g}" in str(caught.value)
    with pytest.raises(ApplicantInputOutOfRange, match="external_score"):
        bundle.score_applicant(bad.iloc[0].to_dict(), as_of=END)


@pytest.mark.parametrize("kind", ["lightgbm", "scorecard"])
def test_other_inputs_outside_range_are_scored_at_the_edge_of_the_range(fits, kind) -> None:  # type: ignore[no-untyped-def]
    """A company founded yesterday, or a request above any granted limit, is a real applicant:
    scored as the nearest value seen in training, never extrapolated."""
    fit = fits[kind]
    bundle, apps = bundle_of(fit), applications(fit)
    youngest = fit.spec.ranges["company_age_years"][0]
    edge_day = pd.Timestamp(END) - pd.Timedelta(days=int(np.ceil(youngest * 365.25)))
    at_edge = apps.assign(founded_on=edge_day.strftime("%Y-%m-%d"))
    newborn = apps.assign(founded_on=str(END))
    top = fit.spec.ranges["credit_limit"][1]
    huge = apps.assign(requested_limit=top * 50)
    edge = apps.assign(requested_limit=top)
    pd_edge = bundle.score_applications(at_edge)["pd_12m"].to_numpy()
    pd_newborn = bundle.score_applications(newborn)["pd_12m"].to_numpy()
    np.testing.assert_allclose(pd_newborn, pd_edge, rtol=1e-9)
    np.testing.assert_allclose(bundle.score_applications(huge)["pd_12m"],
                               bundle.score_applications(edge)["pd_12m"], rtol=1e-9)
    one = bundle.score_applicant(newborn.iloc[0].to_dict(), as_of=END)
    assert one.pd_12m == pytest.approx(pd_edge[0], rel=1e-9)


@pytest.mark.parametrize("kind", ["lightgbm", "scorecard"])
def test_applicant_reasons_come_only_from_what_an_applicant_has(fits, kind) -> None:  # type: ignore[no-untyped-def]
    fit = fits[kind]
    bundle, apps = bundle_of(fit), applications(fit)
    allowed = {"country", "industry", "company_age_years", "annual_revenue", "external_score",
               "payment_terms_days", "credit_limit"}
    for row in apps.to_dict("records"):
        score = bundle.score_applicant(row, as_of=END)
        assert score.factors
        assert {f.feature for f in score.factors} <= allowed
    for text in bundle.score_applications(apps)["top_factors"]:
        assert {part.split(":")[0] for part in text.split(";") if part} <= allowed


def test_scorecard_is_a_credible_challenger(fits) -> None:  # type: ignore[no-untyped-def]
    """The baseline ranks out of time clearly better than chance, and not far below LightGBM."""
    lgbm = fits["lightgbm"].metrics["default_test_roc_auc"]
    card = fits["scorecard"].metrics["default_test_roc_auc"]
    print(f"default_test_roc_auc lightgbm {lgbm:.4f} scorecard {card:.4f}")
    assert card > 0.7
    assert card > lgbm - 0.05


class BureauScoreBackwards:
    """A challenger that breaks a declared direction: the trained model's log-odds plus
    0.05 per bureau-score point, so a better score raises the PD (the issue's logistic case)."""

    def __init__(self, base: DefaultFit) -> None:
        self.base = base.model
        self.column = base.spec.names.index("external_score")

    def _extra(self, X: np.ndarray) -> np.ndarray:
        return 0.05 * np.nan_to_num(X[:, self.column] - 50.0)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = np.clip(self.base.predict_proba(X), 1e-9, 1 - 1e-9)
        return 1 / (1 + np.exp(-(np.log(p / (1 - p)) + self._extra(X))))

    def contributions(self, X: np.ndarray) -> np.ndarray:
        out = np.array(self.base.contributions(X))
        out[:, self.column] += self._extra(X)
        return out

    def importance_gain(self) -> dict[str, float]:
        return self.base.importance_gain()


def test_direction_check_catches_a_model_whose_pd_rises_with_the_bureau_score(fits) -> None:  # type: ignore[no-untyped-def]
    """Negative control of the behaviour check."""
    fit = fits["lightgbm"]
    bundle = bundle_of(fit)
    bundle.default_model = BureauScoreBackwards(fit)
    violations = risk_direction_violations(bundle, applications(fit))
    assert violations
    assert {v.field for v in violations} == {"external_score"}
    assert "external_score: higher is declared safer" in violations[0].describe()


def test_gate_refuses_a_trained_challenger_that_breaks_a_declared_direction(  # type: ignore[no-untyped-def]
    fits, tmp_path
) -> None:
    fit = fits["lightgbm"]
    bundles = {"champion": bundle_of(fit), "challenger": bundle_of(fit)}
    bundles["challenger"].default_model = BureauScoreBackwards(fit)
    tracking.configure(f"sqlite:///{tmp_path / 'mlflow.db'}")
    client = MlflowClient()
    client.create_registered_model("directions")
    for role in ("champion", "challenger"):
        with tracking.training_run("directions", role) as run_id:
            tracking.log_evaluation_frame("default_test", fit.test)
        version = client.create_model_version("directions", source=f"runs:/{run_id}/bundle",
                                              run_id=run_id, tags={"role": role})
        tracking.set_alias("directions", role, str(version.version))

    def score(version: ModelVersionRef, name: str, frame: pd.DataFrame) -> np.ndarray:
        return bundles[version.tags["role"]].predict_pd_12m(frame)

    def behaviour(version: ModelVersionRef) -> list[str]:
        bundle = bundles[version.tags["role"]]
        probe = probe_applications(bundle, as_of=str(END))
        return [v.describe() for v in risk_direction_violations(bundle, probe)]

    lenient = GateMargins(max_auc_drop=1.0, max_ece_increase=1.0, max_brier_increase=1.0)
    outcome = promote("directions", score_fn=score, behaviour_fn=behaviour, actor="test",
                      now=datetime(2025, 7, 1, tzinfo=UTC), margins=lenient)
    assert not outcome.passed
    evidence = tracking.promotion_evidence(outcome.record_run_id)["evidence"]
    checks = {c["metric"]: c for c in evidence["checks"]}
    direction = checks["applicants.risk_direction_violations"]
    print(direction["note"][:300])
    assert direction["passed"] is False
    assert direction["champion"] == 0
    assert direction["challenger"] > 0
    assert "external_score" in direction["note"]
    assert all(c["passed"] for name, c in checks.items() if name != direction["metric"])
    assert tracking.alias_version("directions", "champion").tags["role"] == "champion"
