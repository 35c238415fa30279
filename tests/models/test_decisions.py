"""Grade D and the four decisions: each decision word agrees with its reason texts."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest

from creditrisk.models.grades import DEFAULT_GRADE_LABEL, DEFAULT_GRADE_NAME
from creditrisk.models.limits import recommend_limit
from creditrisk.models.policy import DECISIONS, Policy

POLICY = Policy.default()
ROW: dict[str, Any] = {
    "expected_monthly_sales": 30_000.0,
    "payment_terms_days": 60.0,
    "requested_limit": 50_000.0,
    "annual_revenue": 5_000_000.0,
    "current_exposure": 20_000.0,
}


def test_grade_d_row_in_default_is_outside_the_scale_pd_1_limit_0_decline() -> None:
    decision = POLICY.recommend_limit(0.004, in_default=True, **ROW)
    assert decision.grade == POLICY.scale.default_grade == POLICY.scale.n_grades + 1
    assert decision.grade_label == DEFAULT_GRADE_LABEL == "D"
    assert POLICY.scale.grade_name(decision.grade) == DEFAULT_GRADE_NAME
    assert (decision.pd_12m, decision.recommended_limit, decision.decision) == (1.0, 0.0, "decline")
    # expected loss = LGD x current exposure: 0.6 x 20,000
    assert decision.expected_loss_amount == 12_000.0
    assert decision.reason_codes[0] == "IN_DEFAULT"


def test_grade_d_batch_only_on_rows_in_default() -> None:
    rec = POLICY.recommend_limits(
        np.array([0.004, 0.004, 0.5]),
        expected_monthly_sales=30_000.0,
        payment_terms_days=60.0,
        requested_limit=None,
        annual_revenue=5_000_000.0,
        current_exposure=np.array([20_000.0, 20_000.0, 1_000.0]),
        in_default=np.array([False, True, True]),
    )
    assert rec.grade_labels.tolist() == ["3", "D", "D"]
    assert rec.pd_12m.tolist() == [0.004, 1.0, 1.0]
    assert rec.decision.tolist()[1:] == ["decline", "decline"]
    assert rec.expected_loss_amount.tolist()[1:] == [12_000.0, 600.0]
    assert np.all(rec.grade[1:] > POLICY.scale.worst_grade)  # D sorts as the worst


def test_every_order_of_a_customer_in_default_is_held_saying_so() -> None:
    decision = POLICY.check_order(
        pd_12m=0.001,
        credit_limit=1e6,
        open_exposure=0.0,
        order_amount=1.0,
        max_days_past_due=None,
        in_default=True,
    )
    assert (decision.action, decision.grade_label) == ("hold", "D")
    assert decision.reason_codes[0] == "IN_DEFAULT"
    assert "in default" in decision.reasons[0].text
    assert "held" in decision.reasons[0].text


def grid() -> list[dict[str, Any]]:
    rows = []
    for pd_12m, requested, sales, revenue, exposure, default in itertools.product(
        [0.0005, 0.009, 0.1, 0.2, 0.5],
        [None, 10_000.0, 81_000.0, 86_000.0, 400_000.0],
        [None, 0.0, 30_000.0],
        [None, 5_000_000.0],
        [0.0, 200_000.0],
        [False, True],
    ):
        rows.append(
            {
                "pd_12m": pd_12m,
                "requested_limit": requested,
                "expected_monthly_sales": sales,
                "payment_terms_days": 60.0,
                "annual_revenue": revenue,
                "current_exposure": exposure,
                "in_default": default,
            }
        )
    return rows


@pytest.mark.parametrize("row", grid()[::7])
def test_decision_word_matches_its_texts(row: dict[str, Any]) -> None:
    """approve = granted in full; counter_offer = lower limit offered, both amounts named;
    refer = says why an analyst looks; decline = limit 0 and never calls it a counter-offer;
    no request = never a counter-offer."""
    args = dict(row)
    decision = POLICY.recommend_limit(args.pop("pd_12m"), **args)
    texts = " ".join(reason.text for reason in decision.reasons)
    requested = row["requested_limit"]
    assert decision.decision in DECISIONS
    if decision.decision == "approve":
        assert requested is None or requested <= decision.recommended_limit
        if requested is not None:
            assert "granted in full" in texts
    elif decision.decision == "counter_offer":
        assert requested is not None
        assert 0 < decision.recommended_limit < requested
        assert (
            f"EUR {decision.recommended_limit:,.2f} is offered instead of EUR {requested:,.2f}"
            in texts
        )
    elif decision.decision == "refer":
        assert any(word in texts for word in ("analyst", "unknown", "exceeds"))
    else:
        assert decision.recommended_limit == 0.0
        assert "offer" not in texts
    if requested is None:
        assert decision.decision != "counter_offer"


def test_grid_reaches_all_four_decisions() -> None:
    """Negative control for the grid test: it would pass vacuously without these cases."""
    seen = set()
    for row in grid():
        args = dict(row)
        seen.add(POLICY.recommend_limit(args.pop("pd_12m"), **args).decision)
    assert seen == set(DECISIONS)


def test_one_row_equals_the_batch_row() -> None:
    """The one-row path (plain Python numbers, no numpy) gives the batch row's answer for
    every row of the grid: the rule is written once and both arithmetics agree on it."""
    rows = grid()
    rec = POLICY.recommend_limits(
        np.array([r["pd_12m"] for r in rows]),
        **{
            key: np.array([math.nan if r[key] is None else r[key] for r in rows])
            for key in (
                "requested_limit",
                "expected_monthly_sales",
                "payment_terms_days",
                "annual_revenue",
                "current_exposure",
            )
        },
        in_default=np.array([r["in_default"] for r in rows]),
    )
    for i, row in enumerate(rows):
        args = dict(row)
        pd_12m = args.pop("pd_12m")
        one_row = recommend_limit(pd_12m, None, policy=POLICY, **args)
        assert one_row == rec.row(i), i
        assert POLICY.recommend_limit(pd_12m, **args) == one_row
