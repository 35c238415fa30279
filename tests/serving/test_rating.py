"""Rating one customer from its ledger: what is known is not predicted (issue 8.1).

Uses the hand-worked ledger of ``test_worklist``: customer C has 300 unpaid for 181 days, so
it is in default at 2025-06-30 by the bundle's definition; customer A is not.
"""

from __future__ import annotations

import pytest

from creditrisk.features.default_status import DefaultDefinition
from creditrisk.serving import rating
from creditrisk.serving.errors import CustomerNotFound, CustomerNotOnboarded
from creditrisk.serving.registry import ServedBundle
from tests.serving.test_worklist import AS_OF, MODEL_PD, FixedBundle, hand_worked_ledger


def served_with(definition: DefaultDefinition) -> ServedBundle:
    return ServedBundle(
        bundle=FixedBundle(default_definition=definition),  # type: ignore[arg-type]  # duck-typed
        model_name="fixed", model_version="1", source_uri="memory",
    )


def test_a_customer_in_default_is_pd_1_grade_d_no_credit_and_el_lgd_x_exposure() -> None:
    served = served_with(DefaultDefinition())
    state = rating.rate_customer(served, hand_worked_ledger(), "C", as_of=AS_OF)
    assert state.in_default
    assert (state.pd_12m, state.grade, state.grade_name) == (1.0, "D", "in default")
    assert state.model_pd_12m == MODEL_PD  # what the model says is kept, not answered
    lgd = served.bundle.policy.limits.lgd
    assert rating.expected_loss(served, state) == pytest.approx(lgd * 300.0)
    limit = rating.recommend_customer_limit(served, state)
    assert (limit.recommended_limit, limit.decision) == (0.0, "decline")
    order = rating.check_customer_order(served, state, order_amount=1.0)
    assert order.action == "hold"
    assert "IN_DEFAULT" in order.reason_codes


def test_a_customer_not_in_default_keeps_the_model_pd_and_a_master_scale_grade() -> None:
    served = served_with(DefaultDefinition())
    state = rating.rate_customer(served, hand_worked_ledger(), "A", as_of=AS_OF)
    assert not state.in_default
    assert state.pd_12m == state.model_pd_12m == MODEL_PD
    assert state.grade == str(int(served.bundle.policy.grade([MODEL_PD])[0]))


def test_the_bundles_own_default_threshold_decides() -> None:
    """Train/serve skew guard: a bundle trained with 200 days past due does not call C
    (181 days) in default."""
    served = served_with(DefaultDefinition(days_past_due=200))
    state = rating.rate_customer(served, hand_worked_ledger(), "C", as_of=AS_OF)
    assert not state.in_default
    assert state.grade != "D"


def test_unknown_and_not_yet_onboarded_customers_are_domain_errors() -> None:
    served = served_with(DefaultDefinition())
    with pytest.raises(CustomerNotFound):
        rating.rate_customer(served, hand_worked_ledger(), "Z", as_of=AS_OF)
    with pytest.raises(CustomerNotOnboarded) as info:
        rating.rate_customer(served, hand_worked_ledger(), "A", as_of=AS_OF.replace(year=2023))
    assert (info.value.location, info.value.field) == ("query", "as_of")
