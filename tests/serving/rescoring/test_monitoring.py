"""Whether the model still holds: PSI flags an injected drift (generator option) and leaves an
undrifted control green; the Jeffreys backtest and AUC behave as defined."""

from __future__ import annotations

import dataclasses
from datetime import date

import numpy as np
import pytest

from creditrisk.features.customer import build_features
from creditrisk.models.population import SCORE_VARIABLE, psi, reference_population
from creditrisk.serving.registry import ServedBundle
from creditrisk.serving.rescoring import monitoring
from creditrisk.serving.rescoring.scoring import rate_chunk
from creditrisk.synthetic import generate_ledger
from creditrisk.synthetic.drift import Drift
from tests.serving.bundle_fixture import LEDGER_END, LEDGER_START, ServingWorld
from tests.serving.rescoring.conftest import AS_OF

DRIFTED_FEATURE = "invoiced_amount_90d"


def with_reference(served: ServedBundle, world: ServingWorld) -> ServedBundle:
    """The champion carrying a training reference: the fixture world's book at AS_OF."""
    bundle = served.bundle
    features = build_features(world.ledger, as_of=AS_OF)
    reference = reference_population(
        features, categorical=bundle.customer_spec.categorical,
        model_pd_12m=bundle.predict_pd_12m(features),
        score_edges=monitoring.score_edges(served))
    return dataclasses.replace(served, bundle=dataclasses.replace(
        bundle, metadata={**bundle.metadata, monitoring.REFERENCE_KEY: reference}))


def run_monitoring_of(served: ServedBundle, ledger: object) -> dict[str, object]:
    chunk = rate_chunk(ledger, as_of=AS_OF, served=served)  # type: ignore[arg-type]  # a Ledger
    binnings = monitoring.run_binnings(served)
    counts = monitoring.chunk_counts(binnings, chunk.features,
                                     chunk.scores["model_pd_12m"].to_numpy(np.float64))
    return monitoring.run_monitoring(binnings, counts)


def test_an_injected_drift_is_flagged_and_an_undrifted_control_is_not(
    serving_world: ServingWorld, champion: ServedBundle
) -> None:
    served = with_reference(champion, serving_world)
    control = generate_ledger(n_customers=1_500, start=LEDGER_START, end=LEDGER_END, seed=12)
    drifted = generate_ledger(n_customers=1_500, start=LEDGER_START, end=LEDGER_END, seed=12,
                              drift=Drift(after=date(2025, 1, 1), invoice_amount_factor=3.0))
    calm = {r.variable: r for r in monitoring.stability(
        run_monitoring_of(served, control.ledger), None)}
    moved_monitoring = run_monitoring_of(served, drifted.ledger)
    moved = {r.variable: r for r in monitoring.stability(
        moved_monitoring, run_monitoring_of(served, control.ledger))}

    assert moved[DRIFTED_FEATURE].psi_training > 0.25
    assert moved[DRIFTED_FEATURE].flag_training == "red"
    assert moved[DRIFTED_FEATURE].psi_previous > 0.25, "against the undrifted run too"
    worst = max(calm.values(), key=lambda r: r.psi_training)
    assert worst.psi_training < 0.25, f"control flagged red on {worst.variable}"
    assert calm[DRIFTED_FEATURE].flag_training == "green"
    assert SCORE_VARIABLE in calm
    assert drifted.ledger.invoices["amount"].sum() > control.ledger.invoices["amount"].sum()
    assert drifted.ledger.invoices["settled_date"].equals(control.ledger.invoices["settled_date"])


def test_psi_is_zero_for_the_same_shares_and_grows_with_the_shift() -> None:
    base = [0.25, 0.25, 0.25, 0.25]
    assert psi(base, base) == pytest.approx(0.0)
    assert 0 < psi(base, [0.3, 0.25, 0.25, 0.2]) < psi(base, [0.7, 0.1, 0.1, 0.1])


def test_jeffreys_light_turns_red_when_defaults_far_exceed_the_pd() -> None:
    assert monitoring.traffic_light(monitoring.jeffreys_p_value(2, 1_000, 0.002)) == "green"
    assert monitoring.traffic_light(monitoring.jeffreys_p_value(8, 1_000, 0.004)) == "amber"
    assert monitoring.traffic_light(monitoring.jeffreys_p_value(40, 1_000, 0.005)) == "red"


def test_auc_is_the_mann_whitney_area() -> None:
    assert monitoring.roc_auc(np.array([0.1, 0.2, 0.3, 0.4]),
                              np.array([0, 0, 1, 1])) == pytest.approx(1.0)
    assert monitoring.roc_auc(np.array([0.4, 0.3, 0.2, 0.1]),
                              np.array([0, 0, 1, 1])) == pytest.approx(0.0)
    assert np.isnan(monitoring.roc_auc(np.array([0.1, 0.2]), np.array([0, 0])))
