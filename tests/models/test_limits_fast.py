"""The plain-float single-row policy path equals the vectorised batch path, field by field.

``Policy.recommend_limit`` and ``Policy.check_order`` decide one customer on Python floats
(no numpy arrays, for the online service); ``recommend_limits`` / ``check_orders`` decide a
whole book. Guarded here: for many random rows, edge values (None, NaN, -0.0, band edges,
tolerance boundaries, floor grades, defaults) and three policies, both give the same decision,
limit, rounding, reasons and sentences (compared with ``==`` and ``repr``, so a -0.0 or a
numpy scalar would show); valid inputs never fall back to the batch path; invalid inputs still
get the batch path's error naming the argument.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from creditrisk.models import limits, orders
from creditrisk.models.limits import LimitDecision, round_cents
from creditrisk.models.orders import OrderDecision
from creditrisk.models.policy import Policy, PolicyInputError

# --------------------------------------------------------------------------- policies

ROUND_NUMBERS: dict[str, Any] = {
    "version": "fast-1",
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
        "refer_grades": [3, 4],
        "expected_loss_budget_amount": 5_000,
        "expected_loss_budget_share": 0.08,
        "refer_tolerance_share": 0.1,
        "rounding_step_amount": 1_000,
        "min_limit_amount": 2_000,
        "default_payment_terms_days": 30,
    },
    "orders": {"overdue_threshold_days": 30, "limit_tolerance_share": 0.0, "floor_grade": 4},
}


def _no_budgets() -> dict[str, Any]:
    """No expected-loss caps, no rounding, no minimum, an order tolerance: other branches."""
    config = copy.deepcopy(ROUND_NUMBERS)
    config["version"] = "fast-2"
    config["limits"].update(
        expected_loss_budget_amount=None,
        expected_loss_budget_share=None,
        rounding_step_amount=0,
        min_limit_amount=0,
        refer_tolerance_share=0.0,
        refer_grades=[],
    )
    config["orders"].update(limit_tolerance_share=0.05, overdue_threshold_days=0)
    return config


POLICIES = {
    "default": Policy.default(),
    "round_numbers": Policy.from_dict(ROUND_NUMBERS),
    "no_budgets": Policy.from_dict(_no_budgets()),
}


@pytest.fixture(params=sorted(POLICIES))
def policy(request: pytest.FixtureRequest) -> Policy:
    return POLICIES[request.param]


# --------------------------------------------------------------------------- comparison


def assert_same(single: LimitDecision | OrderDecision, batch_row: object, where: str) -> None:
    assert single == batch_row, where
    assert repr(single) == repr(batch_row), where  # -0.0 vs 0.0, numpy scalars, NaN


def plain(value: float, rng: np.random.Generator, *, none_for_nan: bool = True) -> Any:
    """One batch value as a caller might pass it: None / nan, float, numpy float, or int."""
    if math.isnan(value):
        return None if none_for_nan and rng.random() < 0.7 else math.nan
    kind = rng.integers(0, 4)
    if kind == 1:
        return np.float64(value)
    if kind == 2 and value == int(value) and not (value == 0 and math.copysign(1, value) < 0):
        return int(value)
    return value


# --------------------------------------------------------------------------- limits


def without_pd(rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The batch's keyword arguments (``pd_12m`` is positional)."""
    return {key: value for key, value in rows.items() if key != "pd_12m"}


def pd_values(policy: Policy, rng: np.random.Generator, n_rows: int) -> np.ndarray:
    """Random PDs mixed with band edges, 0, 1 and the expected-loss-rate boundary."""
    edges = [band.pd_lower for band in policy.scale.bands] + [1.0]
    budget_share = policy.limits.expected_loss_budget_share
    special = [*edges, 0.0, 1e-12]
    if budget_share is not None:
        special += [min(1.0, budget_share / policy.limits.lgd)]
    values = rng.beta(0.6, 8.0, n_rows)
    pick = rng.random(n_rows) < 0.25
    values[pick] = rng.choice(special, int(pick.sum()))
    return values


def amounts(
    rng: np.random.Generator, n_rows: int, *, scale: float, special: list[float]
) -> np.ndarray:
    """Lognormal amounts, some round, some NaN and some taken from ``special``."""
    values = rng.lognormal(math.log(scale), 1.5, n_rows)
    values = np.where(rng.random(n_rows) < 0.3, np.round(values, -3), values)
    pick = rng.random(n_rows) < 0.25
    values[pick] = rng.choice([math.nan, 0.0, -0.0, *special], int(pick.sum()))
    return values


def limit_batch(policy: Policy, n_rows: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    config = policy.limits
    rows = {
        "pd_12m": pd_values(policy, rng, n_rows),
        "expected_monthly_sales": amounts(rng, n_rows, scale=20_000, special=[1.0, 1e9]),
        "payment_terms_days": rng.choice([math.nan, 0.0, 14.0, 30.0, 60.0, 90.0, 365.0], n_rows),
        "requested_amount": amounts(
            rng, n_rows, scale=50_000, special=[config.min_limit_amount, config.max_limit_amount]
        ),
        "annual_revenue": amounts(rng, n_rows, scale=2e6, special=[15_000.0, 1e12]),
        "current_exposure": amounts(rng, n_rows, scale=30_000, special=[-500.0, -0.0]),
        "in_default": rng.random(n_rows) < 0.1,
    }
    # probe the request boundaries: exactly the limit, exactly the tolerance, just beyond it
    first = policy.recommend_limits(rows["pd_12m"], **without_pd(rows))
    at_limit = first.recommended_limit
    tolerance = 1.0 + config.refer_tolerance_share
    boundary = np.select(
        [rng.random(n_rows) < 0.5, rng.random(n_rows) < 0.5],
        [at_limit, at_limit * tolerance],
        default=np.nextafter(at_limit * tolerance, np.inf),
    )
    probe = (rng.random(n_rows) < 0.3) & ~np.isnan(rows["expected_monthly_sales"])
    rows["requested_amount"] = np.where(probe, boundary, rows["requested_amount"])
    exposure_probe = rng.random(n_rows) < 0.1
    rows["current_exposure"] = np.where(exposure_probe, at_limit, rows["current_exposure"])
    return rows


def single_limit(
    policy: Policy, rows: dict[str, np.ndarray], i: int, rng: np.random.Generator,
    grade: Any = None,
) -> LimitDecision:
    """Row ``i`` through ``Policy.recommend_limit``, its values typed as a caller might."""
    inputs = {
        key: plain(float(rows[key][i]), rng)
        for key in ("expected_monthly_sales", "payment_terms_days", "requested_amount",
                    "annual_revenue", "current_exposure")
    }
    in_default = rows["in_default"][i]  # numpy bool or plain bool
    return policy.recommend_limit(
        plain(float(rows["pd_12m"][i]), rng),
        grade=grade,
        in_default=bool(in_default) if rng.random() < 0.5 else in_default,
        **inputs,
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_single_limit_equals_batch_row_for_random_and_edge_rows(policy: Policy, seed: int) -> None:
    rows = limit_batch(policy, 1_500, seed)
    batch = policy.recommend_limits(
        rows["pd_12m"], **without_pd(rows)
    )
    rng = np.random.default_rng(seed + 100)
    for i in range(len(batch)):
        assert_same(single_limit(policy, rows, i, rng), batch.row(i), f"row {i}")
    assert set(batch.decision) == {"approve", "refer", "decline"}


def test_single_limit_with_explicit_grade_equals_batch_row(policy: Policy) -> None:
    """Every grade of the scale, including the floor, the one past it and the refer grades."""
    rows = limit_batch(policy, 600, seed=7)
    rng = np.random.default_rng(8)
    grades = rng.integers(1, policy.scale.n_grades + 1, len(rows["pd_12m"]))
    batch = policy.recommend_limits(
        rows["pd_12m"],
        grade=grades,
        **without_pd(rows),
    )
    for i in range(len(batch)):
        grade = int(grades[i]) if rng.random() < 0.5 else grades[i]
        assert_same(single_limit(policy, rows, i, rng, grade=grade), batch.row(i), f"row {i}")


def grid(axes: dict[str, list[Any]]) -> dict[str, np.ndarray]:
    """Every combination of the axes' values, one row each (None becomes NaN)."""
    mesh = np.meshgrid(*[np.arange(len(values)) for values in axes.values()], indexing="ij")
    columns: dict[str, np.ndarray] = {}
    for (name, values), index in zip(axes.items(), mesh, strict=True):
        column = np.array([math.nan if v is None else v for v in values])[index.reshape(-1)]
        columns[name] = column
    return columns


def test_single_limit_equals_batch_row_on_an_edge_grid(policy: Policy) -> None:
    """All combinations of missing, zero, minus-zero and boundary values."""
    config = policy.limits
    edges = [band.pd_lower for band in policy.scale.bands][:: max(1, policy.scale.n_grades // 3)]
    rows = grid({
        "pd_12m": [*edges, 1.0],
        "expected_monthly_sales": [None, 0.0, -0.0, 1_000.0, 250_000.0],
        "payment_terms_days": [None, 0.0, 30.0],
        "requested_amount": [None, 0.0, -0.0, config.min_limit_amount, 40_000.0],
        "annual_revenue": [None, 0.0, 15_000.0],
        "current_exposure": [None, -0.0, 50_000.0],
        "in_default": [False, True],
    })
    rows["in_default"] = rows["in_default"].astype(bool)
    batch = policy.recommend_limits(
        rows["pd_12m"], **without_pd(rows)
    )
    rng = np.random.default_rng(9)
    for i in range(len(batch)):
        assert_same(single_limit(policy, rows, i, rng), batch.row(i), f"row {i}")


def test_every_limit_reason_code_is_exercised() -> None:
    """The equality test above would prove little if some rule never fired."""
    seen: set[str] = set()
    for policy in POLICIES.values():
        rows = limit_batch(policy, 1_500, seed=1)
        batch = policy.recommend_limits(
            rows["pd_12m"], **without_pd(rows)
        )
        seen.update(
            code for code, hit in zip(limits.LIMIT_REASON_CODES, batch.reason_flags.any(axis=0),
                                      strict=True) if hit
        )
    assert seen == set(limits.LIMIT_REASON_CODES)


@settings(max_examples=300, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    pd_12m=st.floats(0.0, 1.0),
    sales=st.none() | st.floats(0.0, 1e8),
    terms=st.none() | st.sampled_from([0, 7, 30, 45, 60, 120]),
    requested=st.none() | st.floats(0.0, 2e6),
    revenue=st.none() | st.floats(0.0, 1e10),
    exposure=st.none() | st.floats(-1e5, 2e6),
    in_default=st.booleans(),
    policy_name=st.sampled_from(sorted(POLICIES)),
)
def test_single_limit_equals_one_row_batch_property(
    pd_12m: float, sales: float | None, terms: int | None, requested: float | None,
    revenue: float | None, exposure: float | None, in_default: bool, policy_name: str,
) -> None:
    policy = POLICIES[policy_name]
    arguments: dict[str, Any] = {
        "grade": None,
        "expected_monthly_sales": sales,
        "payment_terms_days": terms,
        "requested_amount": requested,
        "annual_revenue": revenue,
        "current_exposure": exposure,
        "in_default": in_default,
    }
    single = policy.recommend_limit(pd_12m, **arguments)
    via_batch = limits._recommend_limit_as_batch(policy, pd_12m, **arguments)
    assert_same(single, via_batch, repr(arguments))


def test_valid_inputs_never_take_the_batch_path(
    policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The online path allocates no numpy array: the length-one batch is never built."""

    def no_batch(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the single-row path fell back to the batch path")

    monkeypatch.setattr(limits, "_recommend_limit_as_batch", no_batch)
    monkeypatch.setattr(orders, "_check_order_as_batch", no_batch)
    rows = limit_batch(policy, 200, seed=5)
    rng = np.random.default_rng(6)
    for i in range(200):
        single_limit(policy, rows, i, rng, grade=int(rng.integers(1, policy.scale.n_grades + 1)))
    policy.check_order(pd_12m=np.float64(0.02), grade=np.int64(2), credit_limit=None,
                       open_exposure=-0.0, order_amount=0, max_days_past_due=math.nan)


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"requested_amount": -5.0}, PolicyInputError, r"requested_amount: row 0 is negative"),
        ({"annual_revenue": math.inf}, PolicyInputError, r"annual_revenue: row 0 is infinite"),
        ({"pd_12m": math.nan}, PolicyInputError, r"pd_12m must be a probability in \[0, 1\]"),
        ({"pd_12m": None}, PolicyInputError, r"pd_12m must be a probability"),
        ({"pd_12m": 1.5}, PolicyInputError, r"pd_12m must be a probability"),
        ({"grade": 6}, PolicyInputError, r"grade: row 0 is 6, not a grade"),
        ({"grade": True}, PolicyInputError, r"grade must hold integer grades"),
        ({"expected_monthly_sales": "lots"}, ValueError, r"could not convert string to float"),
    ],
)
def test_invalid_single_row_gets_the_batch_error(
    changes: dict[str, Any], error: type[Exception], message: str
) -> None:
    policy = POLICIES["round_numbers"]
    arguments: dict[str, Any] = {
        "pd_12m": 0.01,
        "grade": None,
        "expected_monthly_sales": 10_000.0,
        "payment_terms_days": 30,
        "requested_amount": 20_000.0,
        "annual_revenue": 1e6,
        **changes,
    }
    with pytest.raises(error, match=message):
        policy.recommend_limit(arguments.pop("pd_12m"), **arguments)


def test_an_integral_float_grade_is_accepted_as_by_the_batch_path() -> None:
    policy = POLICIES["round_numbers"]
    arguments: dict[str, Any] = {
        "expected_monthly_sales": 10_000.0, "payment_terms_days": 30,
        "requested_amount": 20_000.0, "annual_revenue": 1e6,
    }
    assert_same(policy.recommend_limit(0.01, grade=3.0, **arguments),  # type: ignore[arg-type]
                policy.recommend_limit(0.01, grade=3, **arguments), "grade 3.0")


def test_round_cents_is_numpys_round_half_to_even() -> None:
    rng = np.random.default_rng(3)
    values = np.concatenate([
        rng.lognormal(5, 4, 20_000),
        np.arange(0, 50, 0.005),  # many x.xx5 ties
        [0.0, -0.0, -0.004, -0.005, 0.125, 2.675, 1.005, 1e15 + 0.125],
    ])
    expected = np.round(values, 2)
    got = np.array([round_cents(float(value)) for value in values])
    np.testing.assert_array_equal(got, expected)
    assert np.array_equal(np.signbit(got), np.signbit(expected))


# --------------------------------------------------------------------------- orders


def order_batch(policy: Policy, n_rows: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    config = policy.orders
    limit = amounts(rng, n_rows, scale=100_000, special=[1_000.0])
    open_amount = amounts(rng, n_rows, scale=40_000, special=[-2_000.0, 5e6])
    open_amount = np.nan_to_num(open_amount, nan=0.0)
    order = np.abs(np.nan_to_num(amounts(rng, n_rows, scale=20_000, special=[]), nan=0.0))
    order = np.where(rng.random(n_rows) < 0.05, -0.0, order)
    # exactly at the limit, exactly at the tolerance, just beyond
    tolerance = 1.0 + config.limit_tolerance_share
    target = np.select(
        [rng.random(n_rows) < 0.5, rng.random(n_rows) < 0.5],
        [limit, limit * tolerance],
        default=np.nextafter(limit * tolerance, np.inf),
    )
    probe = (rng.random(n_rows) < 0.3) & ~np.isnan(limit) & (target >= open_amount)
    order = np.where(probe, target - open_amount, order)
    threshold = config.overdue_threshold_days
    days = rng.choice(
        [math.nan, -3.0, 0.0, threshold, threshold + 1, 45.0, 120.0, 400.0], n_rows
    )
    return {
        "pd_12m": pd_values(policy, rng, n_rows),
        "credit_limit": limit,
        "open_exposure": open_amount,
        "order_amount": order,
        "max_days_past_due": days,
        "in_default": rng.random(n_rows) < 0.1,
    }


def single_order(
    policy: Policy, rows: dict[str, np.ndarray], i: int, rng: np.random.Generator,
    grade: Any = None,
) -> OrderDecision:
    return policy.check_order(
        pd_12m=plain(float(rows["pd_12m"][i]), rng),
        grade=grade,
        credit_limit=plain(float(rows["credit_limit"][i]), rng),
        open_exposure=plain(float(rows["open_exposure"][i]), rng, none_for_nan=False),
        order_amount=plain(float(rows["order_amount"][i]), rng, none_for_nan=False),
        max_days_past_due=plain(float(rows["max_days_past_due"][i]), rng),
        in_default=bool(rows["in_default"][i]) if rng.random() < 0.5 else rows["in_default"][i],
    )


def batches(policy: Policy) -> Iterator[tuple[str, Any, dict[str, np.ndarray]]]:
    for seed in (11, 12):
        rows = order_batch(policy, 1_500, seed)
        yield f"seed {seed} graded", None, rows
        grades = np.random.default_rng(seed).integers(1, policy.scale.n_grades + 1, 1_500)
        yield f"seed {seed} explicit grades", grades, rows


def test_single_order_equals_batch_row_for_random_and_edge_rows(policy: Policy) -> None:
    actions: set[str] = set()
    codes: set[str] = set()
    rng = np.random.default_rng(21)
    for label, grades, rows in batches(policy):
        batch = policy.check_orders(grade=grades, **rows)
        for i in range(len(batch)):
            grade = None if grades is None else int(grades[i])
            single = single_order(policy, rows, i, rng, grade=grade)
            assert_same(single, batch.row(i), f"{label} row {i}")
            actions.add(single.action)
            codes.update(single.reason_codes)
    assert actions == {"release", "hold"}
    assert codes == set(orders.ORDER_REASON_CODES)


def test_single_order_equals_batch_row_on_an_edge_grid(policy: Policy) -> None:
    """All combinations of no limit, zero and minus-zero amounts, threshold days, default."""
    threshold = policy.orders.overdue_threshold_days
    rows = grid({
        "pd_12m": [0.0, policy.scale.bands[-1].pd_lower, 1.0],
        "credit_limit": [None, 0.0, -0.0, 1_000.0],
        "open_exposure": [-0.0, 0.0, -500.0, 1_000.0],
        "order_amount": [-0.0, 0.0, 500.0],
        "max_days_past_due": [None, -0.0, threshold, threshold + 1],
        "in_default": [False, True],
    })
    rows["in_default"] = rows["in_default"].astype(bool)
    batch = policy.check_orders(grade=None, **rows)
    rng = np.random.default_rng(10)
    for i in range(len(batch)):
        assert_same(single_order(policy, rows, i, rng), batch.row(i), f"row {i}")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"order_amount": -1.0}, r"order_amount: row 0 is negative"),
        ({"open_exposure": math.nan}, r"open_exposure: row 0 is missing"),
        ({"credit_limit": math.inf}, r"credit_limit: row 0 is infinite"),
        ({"grade": 0}, r"grade: row 0 is 0, not a grade"),
    ],
)
def test_invalid_order_gets_the_batch_error(changes: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {
        "pd_12m": 0.02, "credit_limit": 100_000.0, "open_exposure": 50_000.0,
        "order_amount": 30_000.0, "max_days_past_due": 10.0, **changes,
    }
    with pytest.raises(PolicyInputError, match=message):
        POLICIES["round_numbers"].check_order(**arguments)
