"""Money: cents half-up on the decimal value, currency in texts, absurd amounts refused."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from creditrisk.models.grades import PolicyInputError
from creditrisk.models.money import money_text, percent_text, round_money, round_money_value
from creditrisk.models.policy import Policy, PolicyConfigError

POLICY = Policy.default()


@pytest.mark.parametrize(
    ("amount", "cents"),
    [
        (1.005, 1.01),
        (2.675, 2.68),
        (-1.005, -1.01),
        (0.125, 0.13),
        (0.124999, 0.12),
        (82_508.475, 82_508.48),
        (1e12, 1e12),
    ],
)
def test_round_money_is_half_up_on_the_decimal_value(amount: float, cents: float) -> None:
    assert round_money([amount], name="x")[0] == cents


@pytest.mark.parametrize("amount", [math.nan, math.inf, -math.inf, 1e306, 1.1e12])
def test_round_money_refuses_non_finite_and_absurd_amounts_naming_the_field(amount: float) -> None:
    with pytest.raises(PolicyInputError, match="expected_loss_amount: row 0"):
        round_money([amount], name="expected_loss_amount")


def test_one_amount_rounds_to_the_same_bits_as_the_column() -> None:
    """round_money_value (one Python float, the one-row policy path) equals round_money on
    random amounts of every magnitude, on half cents and on the tie cases above."""
    rng = np.random.default_rng(5)
    magnitudes = 10.0 ** rng.uniform(-3, 12, 20_000)
    amounts = np.concatenate([
        magnitudes * rng.choice([-1.0, 1.0], magnitudes.size),
        np.round(rng.uniform(0, 1e6, 5_000), 2) + 0.005,  # half cents
        [0.0, -0.0, 1.005, 2.675, -1.005, 0.125, 82_508.475, 1e12, -1e12],
    ])
    amounts = amounts[np.abs(amounts) <= 1e12]
    column = round_money(amounts, name="x")
    one_by_one = np.array([round_money_value(float(a), name="x") for a in amounts])
    np.testing.assert_array_equal(one_by_one, column)
    assert np.signbit(one_by_one).tolist() == np.signbit(column).tolist()


@pytest.mark.parametrize("amount", [math.nan, math.inf, -math.inf, 1e306, 1.1e12])
def test_one_amount_refuses_what_the_column_refuses(amount: float) -> None:
    with pytest.raises(PolicyInputError, match="expected_loss_amount: row 0"):
        round_money_value(amount, name="expected_loss_amount")


def test_money_text_has_currency_thousands_and_cents() -> None:
    assert money_text(82_508.475, "EUR") == "EUR 82,508.48"
    assert percent_text(0.123456) == "12.35 %"


@pytest.mark.parametrize("amount", [1e308, 1e306, math.inf, math.nan])
def test_order_amount_absurd_or_non_finite_is_refused_not_overflowing(amount: float) -> None:
    with pytest.raises(PolicyInputError, match="order_amount: row 0"):
        POLICY.check_order(
            pd_12m=0.01,
            credit_limit=1e5,
            open_exposure=0.0,
            order_amount=amount,
            max_days_past_due=None,
        )


def test_requested_limit_beyond_the_plausible_maximum_is_refused() -> None:
    with pytest.raises(PolicyInputError, match="requested_limit: row 0 is beyond"):
        POLICY.recommend_limit(
            0.01,
            expected_monthly_sales=1.0,
            payment_terms_days=30.0,
            requested_limit=1e306,
            annual_revenue=1e6,
        )


def test_policy_has_a_validated_iso_currency() -> None:
    assert POLICY.currency == "EUR"
    raw = copy.deepcopy(POLICY.to_dict())
    for bad in ("eur", "EURO", 978):
        raw["currency"] = bad
        with pytest.raises(PolicyConfigError, match=r"policy\.currency"):
            Policy.from_dict(raw)
    raw["currency"] = "CHF"
    assert Policy.from_dict(raw).currency == "CHF"


def test_reason_texts_print_money_with_the_currency() -> None:
    decision = POLICY.recommend_limit(
        0.004,
        expected_monthly_sales=30_000.0,
        payment_terms_days=60.0,
        requested_limit=500_000.0,
        annual_revenue=5e6,
    )
    texts = " ".join(reason.text for reason in decision.reasons)
    assert "EUR 500,000.00" in texts


def test_amount_ceiling_is_configurable_in_the_policy() -> None:
    """limits.max_input_amount (default 1e12) bounds every amount the policy takes."""
    assert POLICY.limits.max_input_amount == 1e12
    raw = copy.deepcopy(POLICY.to_dict())
    raw["limits"]["max_input_amount"] = 1e6
    small = Policy.from_dict(raw)
    order = {"pd_12m": 0.01, "credit_limit": 1e5, "open_exposure": 0.0, "max_days_past_due": None}
    assert POLICY.check_order(order_amount=2e6, **order).action == "hold"
    with pytest.raises(PolicyInputError, match="order_amount: row 0 is beyond"):
        small.check_order(order_amount=2e6, **order)
    del raw["limits"]["max_input_amount"]
    assert Policy.from_dict(raw).limits.max_input_amount == 1e12
