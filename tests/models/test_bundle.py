"""The bundle's top factors have one definition: the batch names (``top_factor_names``, the
rescoring's column) are the ranking of the model's own contributions, and the applicant's
online factors are that ranking of its contributions with the history features it cannot
have set to zero."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from creditrisk.models.applicant_inputs import admit_record
from creditrisk.models.bundle import CreditRiskBundle, history_feature_columns
from creditrisk.models.reasons import rank_contributions, top_reasons
from tests.serving.bundle_fixture import synthetic_ledger, train_bundle, training_frames


@pytest.fixture(scope="module")
def trained() -> tuple[CreditRiskBundle, pd.DataFrame]:
    frames = training_frames(synthetic_ledger(n_customers=400), max_invoices=3_000)
    return train_bundle(frames, rounds=10), frames.snapshots


def test_top_factor_names_are_the_ranking_of_the_models_contributions(
    trained: tuple[CreditRiskBundle, pd.DataFrame],
) -> None:
    bundle, snapshots = trained
    features = snapshots.iloc[:1500]
    names = np.asarray(bundle.customer_spec.names, dtype=object)
    X = bundle.customer_spec.encode(features)
    index, is_reason = rank_contributions(bundle.scoring_model().contributions(X), top_n=3)
    expected = np.where(is_reason, names[np.clip(index, 0, len(names) - 1)], "")
    got = bundle.top_factor_names(features, top_n=3)
    assert got.shape == (len(features), 3)
    assert (got == expected).all()
    assert (got != "").any()


def test_applicant_factors_never_name_a_history_feature(
    trained: tuple[CreditRiskBundle, pd.DataFrame],
) -> None:
    bundle, _ = trained
    score = bundle.score_applicant(
        {"country": "DE", "industry": "manufacturing", "founded_on": date(2004, 3, 1),
         "annual_revenue": 12_000_000.0, "external_score": 71.0, "payment_terms_days": 30,
         "requested_limit": 150_000.0, "expected_monthly_sales": 60_000.0},
        as_of=date(2025, 12, 31),
    )
    history = {bundle.customer_spec.names[j]
               for j in history_feature_columns(tuple(bundle.customer_spec.names))}
    assert history
    assert score.factors
    assert not {factor.feature for factor in score.factors} & history
    X = bundle.customer_spec.encode_record(admit_record(bundle.customer_spec, score.features))
    full = bundle.scoring_model().contributions(X)
    full[:, list(history_feature_columns(tuple(bundle.customer_spec.names)))] = 0.0
    expected = top_reasons(full, X, names=bundle.customer_spec.names,
                           descriptions=bundle.customer_spec.descriptions, top_n=4)[0]
    assert [f.feature for f in score.factors] == [f.feature for f in expected]
