"""Credit-limit policy and order check: caps hold, floors decline, refer cases refer, expected
loss is PD x LGD x limit, orders are held for each reason and released otherwise, and the
vectorised batch gives exactly the single-row answers."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from creditrisk.features.customer import DAYS_PER_MONTH
from creditrisk.models.policy import (
    LIMIT_REASON_CODES,
    Policy,
    PolicyConfigError,
    PolicyInputError,
    recommend_limits,
)

CONFIG: dict[str, Any] = {
    "version": "test-1",
    "description": "round numbers for hand arithmetic",
    "master_scale": [
        {"grade": 1, "name": "low", "pd_lower": 0.0, "pd_upper": 0.01},
        {"grade": 2, "name": "fair", "pd_lower": 0.01, "pd_upper": 0.03},
        {"grade": 3, "name": "elevated", "pd_lower": 0.03, "pd_upper": 0.08},
        {"grade": 4, "name": "high", "pd_lower": 0.08, "pd_upper": 0.2},
        {"grade": 5, "name": "critical", "pd_lower": 0.2, "pd_upper": 1.0},
    ],
    "limits": {
        "lgd": 0.5,
        "sales_buffer_share": 0.2,
        "max_revenue_share": 0.1,
        "max_limit_amount": 500_000,
        "floor_grade": 4,
        "refer_grades": [4],
        "expected_loss_budget_amount": 5_000,
        "expected_loss_budget_share": 0.08,
        "refer_tolerance_share": 0.1,
        "rounding_step_amount": 1_000,
        "min_limit_amount": 2_000,
        "default_payment_terms_days": 30,
    },
    "orders": {"overdue_threshold_days": 30, "limit_tolerance_share": 0.0, "floor_grade": 4},
}


@pytest.fixture
def policy() -> Policy:
    return Policy.from_dict(copy.deepcopy(CONFIG))


def configured(**sections: dict[str, Any]) -> dict[str, Any]:
    config = copy.deepcopy(CONFIG)
    for section, changes in sections.items():
        config[section].update(changes)
    return config


# a grade-1 customer on two months' terms (2 x DAYS_PER_MONTH = 60.875 days, exact in
# binary): need = 30,000 sales x 2 months x 1.2 = 72,000. Before DAYS_PER_MONTH became
# 365.25 / 12 (it was 30.0) these rows said 60 days.
GOOD: dict[str, Any] = {
    "pd_12m": 0.005,
    "expected_monthly_sales": 30_000.0,
    "payment_terms_days": 2 * DAYS_PER_MONTH,
    "requested_limit": 50_000.0,
    "annual_revenue": 5_000_000.0,
    "current_exposure": 0.0,
    "in_default": False,
}


def decide(policy: Policy, **changes: Any) -> Any:
    row = {**GOOD, **changes}
    pd_12m = row.pop("pd_12m")
    return policy.recommend_limit(pd_12m, **row)


# --------------------------------------------------------------------------- config


def test_default_policy_loads_from_package_data() -> None:
    policy = Policy.default()
    assert policy.version
    assert policy.limits.floor_grade <= policy.scale.n_grades
    assert all(grade <= policy.limits.floor_grade for grade in policy.limits.refer_grades)


def test_policy_round_trips_through_dict_and_yaml(policy: Policy, tmp_path: Path) -> None:
    assert Policy.from_dict(policy.to_dict()) == policy
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy.to_dict()))
    assert Policy.from_yaml(path) == policy
    default = Policy.default()
    assert Policy.from_dict(default.to_dict()) == default


def test_digest_changes_with_any_setting(policy: Policy) -> None:
    other = Policy.from_dict(configured(limits={"lgd": 0.55}))
    assert policy.digest() == Policy.from_dict(policy.to_dict()).digest()
    assert other.digest() != policy.digest()


def test_order_floor_defaults_to_the_limit_floor() -> None:
    config = copy.deepcopy(CONFIG)
    del config["orders"]["floor_grade"]
    config["limits"]["floor_grade"] = 3
    config["limits"]["refer_grades"] = [3]
    assert Policy.from_dict(config).orders.floor_grade == 3


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (configured(limits={"lgdd": 0.5}), r"limits: unknown keys \['lgdd'\]"),
        (configured(limits={"lgd": 0.0}), r"limits.lgd: 0.0 is outside \(0.0, 1.0\]"),
        (configured(limits={"lgd": 1.5}), r"limits.lgd: 1.5 is outside"),
        (configured(limits={"floor_grade": 6}), r"limits.floor_grade: 6 is not a grade"),
        (configured(limits={"refer_grades": [3, 5]}), r"refer_grades: grades \[5\] are worse"),
        (configured(limits={"max_limit_amount": "lots"}), r"limits.max_limit_amount: must be"),
        (configured(limits={"min_limit_amount": 600_000}), r"min_limit_amount: 600000.0 is above"),
        (configured(orders={"overdue_threshold_days": -1}), r"orders.overdue_threshold_days"),
        ({**CONFIG, "version": ""}, r"policy.version: must be a non-empty string"),
    ],
)
def test_bad_policy_is_rejected_naming_the_setting(config: dict[str, Any], message: str) -> None:
    with pytest.raises(PolicyConfigError, match=message):
        Policy.from_dict(config)


def test_missing_limit_setting_is_named() -> None:
    config = copy.deepcopy(CONFIG)
    del config["limits"]["rounding_step_amount"]
    with pytest.raises(PolicyConfigError, match=r"missing keys \['rounding_step_amount'\]"):
        Policy.from_dict(config)


def test_bad_yaml_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    config = copy.deepcopy(CONFIG)
    config["master_scale"][2]["pd_lower"] = 0.04
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(PolicyConfigError, match=r"broken.yaml: master_scale band 3 \(grade 3"):
        Policy.from_yaml(path)


# --------------------------------------------------------------------------- limits by hand


def test_approve_when_request_fits_the_need_based_limit(policy: Policy) -> None:
    decision = decide(policy)
    assert decision.decision == "approve"
    assert decision.grade == 1
    assert decision.credit_need_amount == pytest.approx(72_000)
    assert decision.recommended_limit == 72_000
    assert decision.expected_loss_amount == pytest.approx(0.005 * 0.5 * 72_000)  # 180.00
    assert decision.reason_codes == ("LIMIT_COVERS_NEED", "REQUEST_WITHIN_LIMIT")
    assert decision.policy_version == "test-1"
    assert (
        "EUR 30,000.00 x 60.875 days of terms / 30.4375 days a month + 20 % buffer"
        in decision.reasons[0].text
    )


def test_expected_loss_cap_by_hand(policy: Policy) -> None:
    """PD 12 % x LGD 50 % = 6 %; budget 5,000 / 6 % = 83,333 -> 83,000; EL = 4,980.00."""
    decision = decide(
        policy,
        pd_12m=0.12,
        expected_monthly_sales=100_000.0,
        payment_terms_days=30.0,
        requested_limit=80_000.0,
        annual_revenue=10_000_000.0,
    )
    assert decision.recommended_limit == 83_000
    assert decision.expected_loss_amount == 4_980.00
    assert decision.expected_loss_amount <= 5_000
    assert decision.decision == "refer"  # grade 4 is in the refer band
    assert decision.reason_codes == (
        "GRADE_IN_REFER_BAND",
        "LIMIT_CAPPED_BY_EXPECTED_LOSS",
        "REQUEST_WITHIN_LIMIT",
    )
    assert "capped at EUR 83,333.33" in decision.reasons[1].text


def test_revenue_cap(policy: Policy) -> None:
    decision = decide(policy, annual_revenue=500_000.0)
    assert decision.recommended_limit == 50_000
    assert decision.decision == "approve"
    text = {r.code: r.text for r in decision.reasons}["LIMIT_CAPPED_BY_REVENUE"]
    assert text == "Limit capped at 10 % of annual revenue EUR 500,000.00 (EUR 50,000.00)"


def test_absolute_maximum_cap(policy: Policy) -> None:
    decision = decide(
        policy,
        pd_12m=0.001,
        expected_monthly_sales=1_000_000.0,
        payment_terms_days=30.0,
        annual_revenue=100_000_000.0,
        requested_limit=None,
    )
    assert decision.recommended_limit == 500_000
    assert "LIMIT_CAPPED_BY_MAXIMUM" in decision.reason_codes
    assert decision.decision == "approve"


def test_limit_is_rounded_down_to_the_step(policy: Policy) -> None:
    decision = decide(policy, expected_monthly_sales=30_999.0)  # need 74,397.6
    assert decision.recommended_limit == 74_000


def test_decline_beyond_the_grade_floor(policy: Policy) -> None:
    decision = decide(policy, pd_12m=0.3)
    assert (decision.decision, decision.grade, decision.recommended_limit) == ("decline", 5, 0.0)
    assert decision.expected_loss_amount == 0.0
    assert decision.reason_codes[0] == "GRADE_BELOW_FLOOR"


def test_decline_when_expected_loss_rate_is_above_budget(policy: Policy) -> None:
    """PD 18 % x LGD 50 % = 9 % > 8 % budget: no credit although grade 4 is above the floor."""
    decision = decide(policy, pd_12m=0.18)
    assert (decision.decision, decision.grade, decision.recommended_limit) == ("decline", 4, 0.0)
    assert decision.reason_codes == ("EXPECTED_LOSS_RATE_ABOVE_BUDGET",)
    assert "9 % (PD 18 % x LGD 50 %)" in decision.reasons[0].text


def test_decline_in_default_whatever_the_grade(policy: Policy) -> None:
    decision = decide(policy, in_default=True)
    assert (decision.decision, decision.recommended_limit) == ("decline", 0.0)
    assert decision.reason_codes == ("IN_DEFAULT",)


def test_refer_when_request_is_within_tolerance(policy: Policy) -> None:
    decision = decide(policy, requested_limit=78_000.0)  # 72,000 x 1.1 = 79,200
    assert decision.decision == "refer"
    assert decision.recommended_limit == 72_000
    assert decision.reason_codes[0] == "REQUEST_ABOVE_LIMIT_WITHIN_TOLERANCE"
    assert "by EUR 6,000.00, within the 10 % tolerance" in decision.reasons[0].text


def test_counter_offer_when_request_is_beyond_tolerance(policy: Policy) -> None:
    """A lower limit than requested is offered: counter_offer, and the text names both."""
    decision = decide(policy, requested_limit=100_000.0)
    assert decision.decision == "counter_offer"
    assert decision.recommended_limit == 72_000
    assert decision.reason_codes[0] == "REQUEST_ABOVE_LIMIT"
    assert "EUR 72,000.00 is offered instead of EUR 100,000.00" in decision.reasons[0].text


@pytest.mark.parametrize(
    ("changes", "code", "limit"),
    [
        ({"annual_revenue": None}, "MISSING_ANNUAL_REVENUE", 72_000),
        ({"expected_monthly_sales": None}, "MISSING_EXPECTED_SALES", 50_000),  # need = request
        # 30 days assumed: 30,000 x 30 / 30.4375 x 1.2 = 35,482 -> 35,000 (36,000 at 30.0)
        ({"payment_terms_days": None}, "MISSING_PAYMENT_TERMS", 35_000),
        ({"pd_12m": 0.1}, "GRADE_IN_REFER_BAND", 72_000),
        (
            {"requested_limit": None, "current_exposure": 90_000.0},
            "CURRENT_EXPOSURE_ABOVE_LIMIT",
            72_000,
        ),
    ],
)
def test_refer_cases(policy: Policy, changes: dict[str, Any], code: str, limit: float) -> None:
    decision = decide(policy, **changes)
    assert decision.decision == "refer"
    assert code in decision.reason_codes
    assert decision.recommended_limit == limit


def test_missing_revenue_refers_even_when_the_request_is_too_high(policy: Policy) -> None:
    decision = decide(policy, annual_revenue=None, requested_limit=1_000_000.0)
    assert decision.decision == "refer"


def test_limit_below_minimum_is_no_credit(policy: Policy) -> None:
    decision = decide(
        policy, expected_monthly_sales=1_000.0, payment_terms_days=30.0, requested_limit=None
    )  # need 1,200 < 2,000
    assert (decision.decision, decision.recommended_limit) == ("decline", 0.0)
    assert decision.reason_codes == ("LIMIT_BELOW_MINIMUM",)


def test_cap_below_minimum_names_both_the_cap_and_the_minimum(policy: Policy) -> None:
    """Revenue 15,000 caps the limit at 1,500, under the 2,000 minimum: no credit, both said."""
    decision = decide(policy, annual_revenue=15_000.0)
    assert (decision.decision, decision.recommended_limit) == ("decline", 0.0)
    assert decision.reason_codes == ("LIMIT_BELOW_MINIMUM", "LIMIT_CAPPED_BY_REVENUE")
    assert "counter-offer" not in " ".join(r.text for r in decision.reasons)


def test_no_sales_means_no_credit_need(policy: Policy) -> None:
    decision = decide(policy, expected_monthly_sales=0.0, requested_limit=None)
    assert (decision.decision, decision.recommended_limit) == ("decline", 0.0)
    assert decision.reason_codes == ("NO_CREDIT_NEED",)


def test_rescoring_without_a_request_approves_the_recommended_limit(policy: Policy) -> None:
    decision = decide(policy, requested_limit=None, current_exposure=40_000.0)
    assert (decision.decision, decision.recommended_limit) == ("approve", 72_000)
    assert decision.reason_codes == ("LIMIT_COVERS_NEED",)


# --------------------------------------------------------------------------- limits in batch


def random_applicants(n_rows: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)

    def with_gaps(values: np.ndarray, share: float) -> np.ndarray:
        return np.where(rng.random(n_rows) < share, np.nan, values)

    return {
        "pd_12m": rng.beta(0.6, 12.0, n_rows),
        "expected_monthly_sales": with_gaps(rng.lognormal(10.0, 1.5, n_rows), 0.1),
        "payment_terms_days": with_gaps(rng.choice([14.0, 30.0, 45.0, 60.0, 90.0], n_rows), 0.1),
        "requested_limit": with_gaps(rng.lognormal(10.5, 1.5, n_rows), 0.2),
        "annual_revenue": with_gaps(rng.lognormal(14.0, 2.0, n_rows), 0.1),
        "current_exposure": with_gaps(rng.lognormal(9.0, 2.0, n_rows), 0.3),
        "in_default": rng.random(n_rows) < 0.05,
    }


def test_limit_never_exceeds_any_cap(policy: Policy) -> None:
    rows = random_applicants(5_000, seed=11)
    rec = policy.recommend_limits(rows.pop("pd_12m"), **rows)
    limit = rec.recommended_limit
    config = policy.limits
    revenue_cap = np.where(np.isnan(rows["annual_revenue"]), np.inf, rows["annual_revenue"] * 0.1)
    assert np.all(limit <= rec.credit_need_amount + 1e-6)
    assert np.all(limit <= revenue_cap + 1e-6)
    assert np.all(limit <= config.max_limit_amount)
    live = ~rows["in_default"]
    assert np.all(rec.expected_loss_amount[live] <= config.expected_loss_budget_amount + 0.01)
    assert np.all((limit == 0) | (limit >= config.min_limit_amount))
    assert np.all(np.mod(limit, config.rounding_step_amount) == 0)
    assert np.all(limit[rows["in_default"] | (rec.grade > config.floor_grade)] == 0)
    # cents, half-up: within half a cent of the exact product (LGD x exposure in default)
    exposure = np.maximum(rec.current_exposure_amount, 0.0)
    exact = np.where(live, rec.pd_12m * 0.5 * limit, 0.5 * exposure)
    assert np.all(np.abs(rec.expected_loss_amount - exact) <= 0.005 + 1e-9)


def test_approvals_respect_every_rule(policy: Policy) -> None:
    rows = random_applicants(5_000, seed=12)
    rec = policy.recommend_limits(rows.pop("pd_12m"), **rows)
    approved = rec.decision == "approve"
    assert set(rec.decision) == {"approve", "counter_offer", "refer", "decline"}
    requested = rows["requested_limit"][approved]
    assert np.all(np.isnan(requested) | (requested <= rec.recommended_limit[approved]))
    assert np.all(rec.grade[approved] < 4)
    assert not rows["in_default"][approved].any()
    assert np.all(rec.recommended_limit[approved] > 0)
    assert not np.isnan(rows["annual_revenue"][approved]).any()


def test_batch_equals_row_by_row(policy: Policy) -> None:
    rows = random_applicants(300, seed=13)
    pd_12m = rows.pop("pd_12m")
    rec = policy.recommend_limits(pd_12m, **rows)
    for i in range(len(rec)):
        single = policy.recommend_limit(
            float(pd_12m[i]),
            **{
                key: (None if value.dtype.kind == "f" and np.isnan(value[i]) else value[i].item())
                for key, value in rows.items()
            },
        )
        assert single == rec.row(i), i


def test_one_customer_takes_any_scalar_form_on_one_path(policy: Policy) -> None:
    """Policy.recommend_limit normalises its inputs once: numpy scalars, 0-d and one-element
    arrays give exactly the plain-number answer (there is no second, type-selected path)."""
    rows = random_applicants(200, seed=16)
    pd_12m = rows.pop("pd_12m")
    rec = policy.recommend_limits(pd_12m, **rows)
    forms = (
        lambda v: v,  # numpy scalar
        lambda v: np.asarray(v),  # 0-d array
        lambda v: np.asarray([v]),  # one-element array
        lambda v: v.item(),  # plain Python
    )
    for i in range(len(rec)):
        form = forms[i % len(forms)]
        single = policy.recommend_limit(
            form(pd_12m[i]), **{key: form(value[i]) for key, value in rows.items()}
        )
        assert single == rec.row(i), i


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"pd_12m": np.float64(np.nan)}, r"pd_12m must be a probability in \[0, 1\]; row 0"),
        ({"pd_12m": 1.5}, r"pd_12m must be a probability in \[0, 1\]; row 0"),
        ({"pd_12m": np.array([0.1, 0.2])}, r"pd_12m: expected 1 row"),
        ({"requested_limit": np.float64(-5.0)}, r"requested_limit: row 0 is negative"),
        ({"annual_revenue": np.array([1.0, 2.0])}, r"annual_revenue: expected 1 row"),
        ({"expected_monthly_sales": np.inf}, r"expected_monthly_sales: row 0 is infinite"),
        ({"payment_terms_days": "thirty"}, r"payment_terms_days: not a number"),
        ({"in_default": 0.5}, r"in_default: expected booleans"),
        ({"grade": 99}, r"grade: row 0 is 99, not a grade"),
    ],
)
def test_one_customer_bad_inputs_are_named(
    policy: Policy, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(PolicyInputError, match=message):
        decide(policy, **changes)


def test_explicit_grade_gives_the_same_answer_as_grading_the_pd(policy: Policy) -> None:
    rows = random_applicants(500, seed=14)
    pd_12m = rows.pop("pd_12m")
    graded = recommend_limits(pd_12m, policy.grade(pd_12m), policy=policy, **rows)
    implicit = policy.recommend_limits(pd_12m, **rows)
    np.testing.assert_array_equal(graded.decision, implicit.decision)
    np.testing.assert_array_equal(graded.recommended_limit, implicit.recommended_limit)


def test_batch_reason_codes_match_the_row_reasons(policy: Policy) -> None:
    rows = random_applicants(400, seed=15)
    rec = policy.recommend_limits(rows.pop("pd_12m"), **rows)
    joined = rec.reason_codes()
    for i in range(len(rec)):
        assert joined[i] == ",".join(rec.row(i).reason_codes)
    columns = rec.to_columns()
    assert set(columns["policy_version"]) == {"test-1"}
    assert rec.reason_flags.shape == (400, len(LIMIT_REASON_CODES))


def test_scalars_broadcast_over_the_batch(policy: Policy) -> None:
    rec = policy.recommend_limits(
        np.array([0.005, 0.3]),
        expected_monthly_sales=30_000.0,
        payment_terms_days=60,
        requested_limit=None,
        annual_revenue=5_000_000.0,
        current_exposure=None,
        in_default=False,
    )
    assert rec.decision.tolist() == ["approve", "decline"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"requested_limit": np.array([1.0, -5.0])}, r"requested_limit: row 1 is negative"),
        ({"annual_revenue": np.array([1.0, 2.0, 3.0])}, r"annual_revenue: expected 2 rows"),
        (
            {"expected_monthly_sales": np.array([np.inf, 1.0])},
            r"expected_monthly_sales: row 0 is infinite",
        ),
        ({"in_default": np.array([0.5, 0.0])}, r"in_default: expected booleans"),
        ({"pd_12m": np.array([0.1, np.nan])}, r"pd_12m must be a probability in \[0, 1\]; row 1"),
        ({"grade": np.array([1, 9])}, r"grade: row 1 is 9, not a grade"),
    ],
)
def test_bad_inputs_are_rejected_naming_argument_and_row(
    policy: Policy, changes: dict[str, Any], message: str
) -> None:
    arguments: dict[str, Any] = {
        "pd_12m": np.array([0.01, 0.02]),
        "grade": None,
        "expected_monthly_sales": np.array([1_000.0, 2_000.0]),
        "payment_terms_days": np.array([30.0, 30.0]),
        "requested_limit": np.array([1_000.0, 2_000.0]),
        "annual_revenue": np.array([1e6, 1e6]),
        "current_exposure": np.array([0.0, 0.0]),
        "in_default": np.array([False, False]),
    }
    arguments.update(changes)
    with pytest.raises(PolicyInputError, match=message):
        policy.recommend_limits(arguments.pop("pd_12m"), **arguments)


# --------------------------------------------------------------------------- orders

ORDER: dict[str, Any] = {
    "pd_12m": 0.02,
    "credit_limit": 100_000.0,
    "open_exposure": 50_000.0,
    "order_amount": 30_000.0,
    "max_days_past_due": 10.0,
    "in_default": False,
}


def check(policy: Policy, **changes: Any) -> Any:
    return policy.check_order(**{**ORDER, **changes})


def test_order_within_limit_is_released(policy: Policy) -> None:
    decision = check(policy)
    assert decision.action == "release"
    assert decision.reason_codes == ("WITHIN_LIMIT",)
    assert decision.new_exposure_amount == 80_000
    assert decision.limit_excess_amount == 0
    assert decision.expected_loss_amount == pytest.approx(0.02 * 0.5 * 80_000)  # 800.00
    assert decision.policy_version == "test-1"
    assert "headroom after the order EUR 20,000.00" in decision.reasons[0].text


def test_order_reaching_the_limit_exactly_is_released(policy: Policy) -> None:
    assert check(policy, open_exposure=70_000.0).action == "release"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"order_amount": 60_000.0}, "LIMIT_EXCEEDED"),
        ({"max_days_past_due": 31.0}, "OVERDUE_BEYOND_THRESHOLD"),
        ({"pd_12m": 0.5}, "GRADE_BELOW_FLOOR"),
        ({"grade": 5}, "GRADE_BELOW_FLOOR"),
        ({"in_default": True}, "IN_DEFAULT"),
        ({"credit_limit": None}, "NO_CREDIT_LIMIT"),
    ],
)
def test_order_is_held_for_each_reason(policy: Policy, changes: dict[str, Any], code: str) -> None:
    decision = check(policy, **changes)
    assert decision.action == "hold"
    hold_codes = [c for c in decision.reason_codes if c != "WITHIN_LIMIT"]
    assert hold_codes == [code]


def test_limit_excess_is_stated(policy: Policy) -> None:
    decision = check(policy, order_amount=60_000.0)
    assert decision.limit_excess_amount == 10_000
    assert decision.reasons[0].text == (
        "New exposure EUR 110,000.00 (open EUR 50,000.00 + order EUR 60,000.00) exceeds the "
        "credit limit EUR 100,000.00 by EUR 10,000.00"
    )


def test_overdue_threshold_is_exclusive_and_missing_days_mean_none_overdue(policy: Policy) -> None:
    assert check(policy, max_days_past_due=30.0).action == "release"
    assert check(policy, max_days_past_due=None).action == "release"
    text = check(policy, max_days_past_due=45.0).reasons[0].text
    assert text == "Invoices are 45 days past due, beyond the 30-day threshold"


def test_order_limit_tolerance() -> None:
    lenient = Policy.from_dict(configured(orders={"limit_tolerance_share": 0.05}))
    assert check(lenient, order_amount=54_000.0).action == "release"  # 104,000 <= 105,000
    assert check(lenient, order_amount=56_000.0).action == "hold"


def test_order_batch_equals_row_by_row(policy: Policy) -> None:
    rng = np.random.default_rng(21)
    n_rows = 300
    batch = {
        "pd_12m": rng.beta(0.6, 10.0, n_rows),
        "credit_limit": np.where(rng.random(n_rows) < 0.05, np.nan, rng.lognormal(11, 1, n_rows)),
        "open_exposure": rng.lognormal(10, 1, n_rows),
        "order_amount": rng.lognormal(9, 1, n_rows),
        "max_days_past_due": np.where(
            rng.random(n_rows) < 0.2, np.nan, rng.integers(0, 90, n_rows)
        ),
        "in_default": rng.random(n_rows) < 0.05,
    }
    result = policy.check_orders(**batch)
    assert set(result.action) == {"release", "hold"}
    joined = result.reason_codes()
    for i in range(n_rows):
        single = policy.check_order(
            **{
                key: (None if value.dtype.kind == "f" and np.isnan(value[i]) else value[i].item())
                for key, value in batch.items()
            }
        )
        assert single == result.row(i), i
        assert joined[i] == ",".join(single.reason_codes)


def test_negative_order_is_rejected(policy: Policy) -> None:
    with pytest.raises(PolicyInputError, match=r"order_amount: row 0 is negative"):
        check(policy, order_amount=-1.0)


def test_every_public_name_stays_importable_from_models_policy() -> None:
    import creditrisk.models.policy

    """The rules moved to models.limits and models.orders; callers keep importing them here."""

    names = [
        "APPROVE",
        "REFER",
        "DECLINE",
        "DECISIONS",
        "RELEASE",
        "HOLD",
        "ORDER_ACTIONS",
        "DAYS_PER_MONTH",
        "LIMIT_REASONS",
        "LIMIT_REASON_CODES",
        "ORDER_REASONS",
        "ORDER_REASON_CODES",
        "ORDER_HOLD_CODES",
        "POLICY_KEYS",
        "LimitPolicy",
        "OrderPolicy",
        "LimitDecision",
        "LimitRecommendation",
        "OrderDecision",
        "OrderCheck",
        "Policy",
        "PolicyConfigError",
        "PolicyInputError",
        "MasterScale",
        "DecisionReason",
        "check_pd",
        "join_reason_codes",
        "recommend_limits",
        "check_orders",
    ]
    missing = [name for name in names if not hasattr(creditrisk.models.policy, name)]
    assert missing == []
    assert set(creditrisk.models.policy.__all__) <= set(dir(creditrisk.models.policy))
