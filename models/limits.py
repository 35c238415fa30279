"""The recommended credit limit and the approve / refer / decline decision.

Two forms of the same rules (told for analysts in ``docs/policy.md``):

* :func:`recommend_limits` - vectorised over numpy arrays, for rescoring a whole book: a
  handful of array operations per batch, sentences written only on demand;
* :func:`recommend_limit` - one customer on plain Python floats, for the online service: no
  array is allocated, so a decision costs about 20 µs (most of it writing the sentences)
  instead of the ~200 µs that numpy's per-call overhead costs a batch of one.

Both compute every number in the same order with the same IEEE operations (including numpy's
rounding to cents and its choice between equal signed zeros), and both write their sentences
through :func:`limit_reasons`, so the answers are equal field by field; a test holds them
equal over many random rows. An input the single-row form does not take (a number out of
range, an array, a string) is handed to the batch form, which raises the error naming it.

The input-column and text helpers here are shared with :mod:`models.orders`.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from creditrisk.models.grades import MasterScale, PolicyInputError, check_pd
from creditrisk.models.reasons import DecisionReason, join_reason_codes

if TYPE_CHECKING:
    from creditrisk.models.policy import LimitPolicy, Policy

__all__ = [
    "DECISIONS",
    "LIMIT_REASONS",
    "LIMIT_REASON_CODES",
    "LimitDecision",
    "LimitRecommendation",
    "limit_reasons",
    "recommend_limit",
    "recommend_limits",
]

APPROVE, REFER, DECLINE = "approve", "refer", "decline"
DECISIONS: tuple[str, ...] = (APPROVE, REFER, DECLINE)
DAYS_PER_MONTH = 30.0

# code -> sentence template; the order here is the order reasons are listed in an answer
LIMIT_REASONS: dict[str, str] = {
    "IN_DEFAULT": "Customer is in default (90+ days past due, written off or insolvent): no credit",
    "GRADE_BELOW_FLOOR": (
        "Risk grade {grade} is worse than grade {floor_grade}, the floor for any credit"
    ),
    "EXPECTED_LOSS_RATE_ABOVE_BUDGET": (
        "Expected loss rate {el_rate} (PD {pd} x LGD {lgd}) is above the budget of "
        "{el_budget_share} of the limit"
    ),
    "MISSING_ANNUAL_REVENUE": "Annual revenue unknown: the revenue cap could not be applied",
    "MISSING_EXPECTED_SALES": (
        "Expected monthly sales unknown: the credit need is taken from the requested amount "
        "({requested})"
    ),
    "MISSING_PAYMENT_TERMS": "Payment terms unknown: {terms_days} days assumed",
    "REQUEST_ABOVE_LIMIT": (
        "Requested {requested} exceeds the recommended limit {limit} by {request_excess}, "
        "more than the {tolerance} tolerance; the recommended limit is the counter-offer"
    ),
    "REQUEST_ABOVE_LIMIT_WITHIN_TOLERANCE": (
        "Requested {requested} exceeds the recommended limit {limit} by {request_excess}, within "
        "the {tolerance} tolerance"
    ),
    "GRADE_IN_REFER_BAND": (
        "Risk grade {grade} is in the refer band: an analyst reviews the decision"
    ),
    "CURRENT_EXPOSURE_ABOVE_LIMIT": (
        "Current exposure {exposure} exceeds the recommended limit {limit} by {exposure_excess}"
    ),
    "NO_CREDIT_NEED": "No credit need: expected monthly sales x payment terms is zero",
    "LIMIT_BELOW_MINIMUM": (
        "Computed limit {computed_limit} is below the minimum limit {min_limit}: no credit line"
    ),
    "LIMIT_CAPPED_BY_EXPECTED_LOSS": (
        "Limit capped at {el_cap} so that the expected loss (PD {pd} x LGD {lgd} x limit) stays "
        "within {el_budget}"
    ),
    "LIMIT_CAPPED_BY_REVENUE": (
        "Limit capped at {max_revenue_share} of annual revenue {revenue} ({revenue_cap})"
    ),
    "LIMIT_CAPPED_BY_MAXIMUM": "Limit capped at the absolute maximum {max_limit}",
    "LIMIT_COVERS_NEED": (
        "Limit covers the credit need {need}: expected monthly sales {sales} x {terms_days}/30 "
        "days of terms + {buffer} buffer"
    ),
    "REQUEST_WITHIN_LIMIT": "Requested {requested} is within the recommended limit {limit}",
}
LIMIT_REASON_CODES: tuple[str, ...] = tuple(LIMIT_REASONS)


# --------------------------------------------------------------------------- sentences


def money_text(amount: float) -> str:
    """An amount in a reason sentence: ``72,000`` (``none`` when unknown)."""
    return "none" if math.isnan(amount) else f"{amount:,.0f}"


def percent_text(share: float) -> str:
    """A share in a reason sentence: ``0.125`` -> ``12.5 %`` (``none`` when unknown)."""
    return "none" if math.isnan(share) else f"{round(share * 100.0, 3):g} %"


def days_text(days: float) -> str:
    return f"{days:g}"


# --------------------------------------------------------------------------- batch inputs


def amount_column(
    name: str,
    values: ArrayLike | None,
    n_rows: int,
    *,
    allow_nan: bool,
    allow_negative: bool = False,
) -> np.ndarray:
    """One input column as float64 of length ``n_rows`` (a scalar is broadcast; None is NaN)."""
    to_numpy = getattr(values, "to_numpy", None)
    if to_numpy is not None:  # pandas nullable dtypes need an explicit NA value
        array = np.asarray(to_numpy(dtype=np.float64, na_value=np.nan))
    else:
        array = np.asarray(np.nan if values is None else values, dtype=np.float64)
    if array.ndim == 0:
        array = np.full(n_rows, float(array))
    elif array.shape != (n_rows,):
        raise PolicyInputError(f"{name}: expected {n_rows} rows, got shape {array.shape}")
    problems = [(np.isinf(array), "infinite")]
    if not allow_nan:
        problems.append((np.isnan(array), "missing"))
    if not allow_negative:
        problems.append((array < 0, "negative"))
    for bad, what in problems:
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise PolicyInputError(f"{name}: row {row} is {what} ({array[row]!r})")
    return array


def flag_column(name: str, values: ArrayLike, n_rows: int) -> np.ndarray:
    """One yes/no input column as bool of length ``n_rows`` (booleans or 0/1 only)."""
    array = np.asarray(values)
    if array.dtype.kind not in "biu" or (
        array.dtype.kind != "b" and np.any((array != 0) & (array != 1))
    ):
        raise PolicyInputError(f"{name}: expected booleans, got dtype {array.dtype}")
    array = array.astype(bool)
    if array.ndim == 0:
        return np.full(n_rows, bool(array))
    if array.shape != (n_rows,):
        raise PolicyInputError(f"{name}: expected {n_rows} rows, got shape {array.shape}")
    return array


def pd_column(pd_12m: ArrayLike) -> np.ndarray:
    """The PD input as a 1-D float64 array of probabilities."""
    values = check_pd(pd_12m)
    if values.ndim != 1:
        raise PolicyInputError(f"pd_12m: expected a 1-D array, got shape {values.shape}")
    return values


def grade_column(scale: MasterScale, grade: ArrayLike | None, pd_12m: np.ndarray) -> np.ndarray:
    """The grades given (checked against the scale), or ``pd_12m`` graded when None."""
    if grade is None:
        return scale.grade(pd_12m)
    grades = scale.check_grades(np.broadcast_to(np.asarray(grade), pd_12m.shape))
    return np.array(grades, dtype=np.int64)


# --------------------------------------------------------------------------- single-row inputs


class RowInputError(Exception):
    """An input the plain-float path does not take (out of range, not a Python or numpy
    number): the caller hands the row to the batch path, which converts it or raises the
    :class:`PolicyInputError` naming it. Never escapes this package."""


_NUMBER_TYPES = (float, int, np.floating, np.integer)


def row_amount(value: Any, *, allow_nan: bool = True, allow_negative: bool = False) -> float:
    """One amount as a plain float (None is NaN), under the same checks as
    :func:`amount_column`; anything else raises :class:`RowInputError`."""
    if value is None:
        amount = math.nan
    elif isinstance(value, _NUMBER_TYPES):
        amount = float(value)
    else:
        raise RowInputError
    if math.isinf(amount) or (
        (not allow_nan and math.isnan(amount)) or (not allow_negative and amount < 0)
    ):
        raise RowInputError
    return amount


def row_pd(pd_12m: Any) -> float:
    """The PD as a plain float in [0, 1], or :class:`RowInputError`."""
    if not isinstance(pd_12m, _NUMBER_TYPES):
        raise RowInputError
    value = float(pd_12m)
    if not 0.0 <= value <= 1.0:  # NaN fails too
        raise RowInputError
    return value


def row_grade(scale: MasterScale, grade: Any, pd_12m: float) -> int:
    """The grade given (an integer on the scale), or ``pd_12m`` graded when None; the same
    band rule as :meth:`MasterScale.grade` (a PD on a band edge takes the higher grade)."""
    if grade is None:
        inner_edges = [band.pd_lower for band in scale.bands[1:]]
        return bisect.bisect_right(inner_edges, pd_12m) + 1
    if isinstance(grade, bool) or not isinstance(grade, int | np.integer):
        raise RowInputError
    value = int(grade)
    if not 1 <= value <= scale.n_grades:
        raise RowInputError
    return value


def minimum(first: float, second: float) -> float:
    """``np.minimum`` of two non-NaN floats: the second when they are equal (so 0.0 vs -0.0
    comes out as numpy would)."""
    return first if first < second else second


def maximum(first: float, second: float) -> float:
    """``np.maximum`` of two non-NaN floats: the second when they are equal."""
    return first if first > second else second


def round_cents(amount: float) -> float:
    """``np.round(amount, 2)`` for one finite float: scale by 100, round half to even, scale
    back (the sign of a zero is kept, as ``np.rint`` keeps it)."""
    scaled = amount * 100.0
    return math.copysign(float(round(scaled)), scaled) / 100.0


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class LimitDecision:
    """The limit decision for one customer, ready for an API answer or the decision log."""

    policy_version: str
    pd_12m: float
    grade: int
    decision: str
    recommended_limit: float
    expected_loss_amount: float
    credit_need_amount: float
    reasons: tuple[DecisionReason, ...]

    @property
    def reason_codes(self) -> tuple[str, ...]:
        return tuple(reason.code for reason in self.reasons)

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy_version": self.policy_version,
            "pd_12m": self.pd_12m,
            "grade": self.grade,
            "decision": self.decision,
            "recommended_limit": self.recommended_limit,
            "expected_loss_amount": self.expected_loss_amount,
            "credit_need_amount": self.credit_need_amount,
            "reasons": [reason.to_dict() for reason in self.reasons],
        }


def limit_reasons(
    codes: list[str],
    config: LimitPolicy,
    *,
    pd_12m: float,
    grade: int,
    limit: float,
    requested: float,
    exposure: float,
    el_cap: float,
    terms_days: float,
    computed_limit: float,
    revenue: float,
    revenue_cap: float,
    need: float,
    sales: float,
) -> tuple[DecisionReason, ...]:
    """The sentences of the reason ``codes`` that fired for one customer (both paths)."""
    if not codes:
        return ()
    fields = {
        "grade": str(grade),
        "floor_grade": str(config.floor_grade),
        "pd": percent_text(pd_12m),
        "lgd": percent_text(config.lgd),
        "el_rate": percent_text(pd_12m * config.lgd),
        "el_budget_share": percent_text(float(config.expected_loss_budget_share or math.nan)),
        "el_budget": money_text(float(config.expected_loss_budget_amount or math.nan)),
        "el_cap": money_text(el_cap),
        "requested": money_text(requested),
        "limit": money_text(limit),
        "request_excess": money_text(requested - limit),
        "tolerance": percent_text(config.refer_tolerance_share),
        "exposure": money_text(exposure),
        "exposure_excess": money_text(exposure - limit),
        "terms_days": days_text(terms_days),
        "computed_limit": money_text(computed_limit),
        "min_limit": money_text(config.min_limit_amount),
        "max_revenue_share": percent_text(config.max_revenue_share),
        "revenue": money_text(revenue),
        "revenue_cap": money_text(revenue_cap),
        "max_limit": money_text(config.max_limit_amount),
        "need": money_text(need),
        "sales": money_text(sales),
        "buffer": percent_text(config.sales_buffer_share),
    }
    return tuple(DecisionReason(code, LIMIT_REASONS[code].format(**fields)) for code in codes)


@dataclass(frozen=True, eq=False)
class LimitRecommendation:
    """Limit decisions for a batch: one entry per row in every array.

    ``reason_flags[i, j]`` is True when reason ``LIMIT_REASON_CODES[j]`` applies to row *i*;
    sentences are written only on demand (:meth:`reasons`, :meth:`row`), so a million-row
    batch costs no string work unless asked.
    """

    policy_version: str
    limits: LimitPolicy
    pd_12m: np.ndarray
    grade: np.ndarray
    decision: np.ndarray
    recommended_limit: np.ndarray
    expected_loss_amount: np.ndarray
    """PD x LGD x recommended limit, in cents: the expected loss if the limit is fully used."""
    credit_need_amount: np.ndarray
    computed_limit_amount: np.ndarray
    """The limit after caps, before rounding, minimum and floor rules."""
    expected_loss_cap_amount: np.ndarray
    revenue_cap_amount: np.ndarray
    requested_amount: np.ndarray
    current_exposure_amount: np.ndarray
    expected_monthly_sales: np.ndarray
    payment_terms_days: np.ndarray
    """Terms used (the default where the customer's terms are unknown)."""
    annual_revenue: np.ndarray
    reason_flags: np.ndarray = field(repr=False)

    def __len__(self) -> int:
        return int(self.pd_12m.shape[0])

    def reasons(self, row: int) -> tuple[DecisionReason, ...]:
        """Reasons of one row as codes with sentences, in the order of ``LIMIT_REASONS``."""
        codes = [
            code
            for code, hit in zip(LIMIT_REASON_CODES, self.reason_flags[row], strict=True)
            if hit
        ]
        return limit_reasons(
            codes,
            self.limits,
            pd_12m=float(self.pd_12m[row]),
            grade=int(self.grade[row]),
            limit=float(self.recommended_limit[row]),
            requested=float(self.requested_amount[row]),
            exposure=float(self.current_exposure_amount[row]),
            el_cap=float(self.expected_loss_cap_amount[row]),
            terms_days=float(self.payment_terms_days[row]),
            computed_limit=float(self.computed_limit_amount[row]),
            revenue=float(self.annual_revenue[row]),
            revenue_cap=float(self.revenue_cap_amount[row]),
            need=float(self.credit_need_amount[row]),
            sales=float(self.expected_monthly_sales[row]),
        )

    def row(self, row: int) -> LimitDecision:
        return LimitDecision(
            policy_version=self.policy_version,
            pd_12m=float(self.pd_12m[row]),
            grade=int(self.grade[row]),
            decision=str(self.decision[row]),
            recommended_limit=float(self.recommended_limit[row]),
            expected_loss_amount=float(self.expected_loss_amount[row]),
            credit_need_amount=float(self.credit_need_amount[row]),
            reasons=self.reasons(row),
        )

    def reason_codes(self, *, separator: str = ",") -> np.ndarray:
        """One ``"CODE_A,CODE_B"`` string per row, vectorised (for batch output tables)."""
        return join_reason_codes(self.reason_flags, LIMIT_REASON_CODES, separator=separator)

    def to_columns(self) -> dict[str, np.ndarray]:
        """Columns for a batch table (e.g. ``pandas.DataFrame(rec.to_columns())``)."""
        return {
            "policy_version": np.full(len(self), self.policy_version),
            "pd_12m": self.pd_12m,
            "grade": self.grade,
            "decision": self.decision,
            "recommended_limit": self.recommended_limit,
            "expected_loss_amount": self.expected_loss_amount,
            "credit_need_amount": self.credit_need_amount,
            "reason_codes": self.reason_codes(),
        }


# --------------------------------------------------------------------------- batch rules


def _round_down(amount: np.ndarray, step: float) -> np.ndarray:
    """Round down to a multiple of ``step``; within a billionth of a step counts as on it."""
    if step <= 0:
        return amount
    return np.floor(amount / step + 1e-9) * step


def recommend_limits(
    pd_12m: ArrayLike,
    grade: ArrayLike | None,
    *,
    expected_monthly_sales: ArrayLike | None,
    payment_terms_days: ArrayLike | None,
    requested_amount: ArrayLike | None,
    annual_revenue: ArrayLike | None,
    current_exposure: ArrayLike | None,
    in_default: ArrayLike,
    policy: Policy,
) -> LimitRecommendation:
    """Recommended credit limit and approve / refer / decline per customer, vectorised.

    Missing values (NaN or None) mean unknown: no expected sales -> the request is taken as the
    need and the case referred; no payment terms -> the default terms, referred; no annual
    revenue -> no revenue cap, referred; no request -> a rescoring (decided on the grade and the
    limit alone); no current exposure -> 0. ``grade=None`` grades ``pd_12m`` on the policy's
    master scale. The rules, in words, are in ``docs/policy.md``.
    """
    config = policy.limits
    pd_values = pd_column(pd_12m)
    n_rows = pd_values.shape[0]
    grades = grade_column(policy.scale, grade, pd_values)
    sales = amount_column("expected_monthly_sales", expected_monthly_sales, n_rows, allow_nan=True)
    terms = amount_column("payment_terms_days", payment_terms_days, n_rows, allow_nan=True)
    requested = amount_column("requested_amount", requested_amount, n_rows, allow_nan=True)
    revenue = amount_column("annual_revenue", annual_revenue, n_rows, allow_nan=True)
    exposure = np.nan_to_num(
        amount_column(
            "current_exposure", current_exposure, n_rows, allow_nan=True, allow_negative=True
        ),
        nan=0.0,
    )
    defaulted = flag_column("in_default", in_default, n_rows)

    missing_sales = np.isnan(sales)
    missing_terms = np.isnan(terms)
    missing_revenue = np.isnan(revenue)
    has_request = ~np.isnan(requested)
    request = np.where(has_request, requested, 0.0)

    # credit need: what the customer owes us at any time if it buys as expected and pays on terms
    terms_used = np.where(missing_terms, config.default_payment_terms_days, terms)
    need = sales * (terms_used / DAYS_PER_MONTH) * (1.0 + config.sales_buffer_share)
    need = np.where(missing_sales, request, need)

    # caps: expected loss within budget, share of annual revenue, absolute maximum
    el_rate = pd_values * config.lgd
    if config.expected_loss_budget_amount is None:
        el_cap = np.full(n_rows, np.inf)
    else:
        with np.errstate(divide="ignore", over="ignore"):  # tiny PDs: cap is inf
            el_cap = np.where(el_rate > 0, config.expected_loss_budget_amount / el_rate, np.inf)
    revenue_cap = np.where(missing_revenue, np.inf, revenue * config.max_revenue_share)
    max_cap = np.full(n_rows, config.max_limit_amount)
    computed = np.minimum(np.minimum(need, el_cap), np.minimum(revenue_cap, max_cap))
    capped_by_el = (el_cap < need) & (el_cap == computed)
    capped_by_revenue = (revenue_cap < need) & (revenue_cap == computed)
    capped_by_max = (max_cap < need) & (max_cap == computed)

    limit = _round_down(computed, config.rounding_step_amount)
    below_minimum = ((limit < config.min_limit_amount) | (limit <= 0)) & (need > 0)
    no_need = need <= 0
    beyond_floor = grades > config.floor_grade
    el_rate_too_high = (
        np.zeros(n_rows, dtype=bool)
        if config.expected_loss_budget_share is None
        else el_rate > config.expected_loss_budget_share
    )
    hard_decline = defaulted | beyond_floor | el_rate_too_high
    limit = np.where(below_minimum | hard_decline, 0.0, limit)
    expected_loss = np.round(el_rate * limit, 2)

    over_request = has_request & (request > limit)
    within_tolerance = (
        over_request & (limit > 0) & (request <= limit * (1.0 + config.refer_tolerance_share))
    )
    beyond_tolerance = over_request & ~within_tolerance
    zero_limit = limit <= 0
    missing_data = missing_sales | missing_terms | missing_revenue
    refer_grade = np.isin(grades, np.array(config.refer_grades, dtype=np.int64))
    exposure_above = exposure > limit

    decision_index = np.select(
        [
            hard_decline,
            missing_data,
            beyond_tolerance | zero_limit,
            refer_grade | within_tolerance | exposure_above,
        ],
        [2, 1, 2, 1],
        default=0,
    )
    live = ~hard_decline
    capped = capped_by_el | capped_by_revenue | capped_by_max
    flags = {
        "IN_DEFAULT": defaulted,
        "GRADE_BELOW_FLOOR": beyond_floor,
        "EXPECTED_LOSS_RATE_ABOVE_BUDGET": el_rate_too_high,
        "MISSING_ANNUAL_REVENUE": live & missing_revenue,
        "MISSING_EXPECTED_SALES": live & missing_sales,
        "MISSING_PAYMENT_TERMS": live & missing_terms,
        "REQUEST_ABOVE_LIMIT": live & beyond_tolerance & ~zero_limit,
        "REQUEST_ABOVE_LIMIT_WITHIN_TOLERANCE": live & within_tolerance,
        "GRADE_IN_REFER_BAND": live & refer_grade,
        "CURRENT_EXPOSURE_ABOVE_LIMIT": exposure_above,
        "NO_CREDIT_NEED": live & no_need & ~missing_sales,
        "LIMIT_BELOW_MINIMUM": live & below_minimum,
        "LIMIT_CAPPED_BY_EXPECTED_LOSS": live & capped_by_el,
        "LIMIT_CAPPED_BY_REVENUE": live & capped_by_revenue,
        "LIMIT_CAPPED_BY_MAXIMUM": live & capped_by_max,
        "LIMIT_COVERS_NEED": live & ~below_minimum & ~capped & ~missing_sales & ~no_need,
        "REQUEST_WITHIN_LIMIT": live & has_request & ~over_request & ~zero_limit,
    }
    return LimitRecommendation(
        policy_version=policy.version,
        limits=config,
        pd_12m=pd_values,
        grade=grades,
        decision=np.array(DECISIONS)[decision_index],
        recommended_limit=limit,
        expected_loss_amount=expected_loss,
        credit_need_amount=need,
        computed_limit_amount=computed,
        expected_loss_cap_amount=el_cap,
        revenue_cap_amount=revenue_cap,
        requested_amount=requested,
        current_exposure_amount=exposure,
        expected_monthly_sales=sales,
        payment_terms_days=terms_used,
        annual_revenue=revenue,
        reason_flags=np.column_stack([flags[code] for code in LIMIT_REASON_CODES]),
    )


# --------------------------------------------------------------------------- single-row rules


def _optional_float(value: Any) -> float:
    return math.nan if value is None else float(value)


def _recommend_limit_as_batch(
    policy: Policy,
    pd_12m: Any,
    *,
    grade: Any,
    expected_monthly_sales: Any,
    payment_terms_days: Any,
    requested_amount: Any,
    annual_revenue: Any,
    current_exposure: Any,
    in_default: Any,
) -> LimitDecision:
    """One row through :func:`recommend_limits` (arrays of length one)."""
    batch = recommend_limits(
        np.array([pd_12m], dtype=np.float64),
        None if grade is None else np.array([grade]),
        expected_monthly_sales=np.array([_optional_float(expected_monthly_sales)]),
        payment_terms_days=np.array([_optional_float(payment_terms_days)]),
        requested_amount=np.array([_optional_float(requested_amount)]),
        annual_revenue=np.array([_optional_float(annual_revenue)]),
        current_exposure=np.array([_optional_float(current_exposure)]),
        in_default=np.array([bool(in_default)]),
        policy=policy,
    )
    return batch.row(0)


def recommend_limit(
    policy: Policy,
    pd_12m: float,
    *,
    grade: int | None = None,
    expected_monthly_sales: float | None,
    payment_terms_days: float | None,
    requested_amount: float | None = None,
    annual_revenue: float | None,
    current_exposure: float | None = None,
    in_default: bool = False,
) -> LimitDecision:
    """One customer's limit decision on plain floats (None means unknown).

    The rules of :func:`recommend_limits`, step for step, without numpy arrays. Inputs it
    does not take (see :class:`RowInputError`) go through :func:`recommend_limits`, which
    raises :class:`PolicyInputError` naming the argument when one is invalid.
    """
    try:
        pd_value = row_pd(pd_12m)
        grade_value = row_grade(policy.scale, grade, pd_value)
        sales = row_amount(expected_monthly_sales)
        terms = row_amount(payment_terms_days)
        requested = row_amount(requested_amount)
        revenue = row_amount(annual_revenue)
        exposure = row_amount(current_exposure, allow_negative=True)
    except RowInputError:
        return _recommend_limit_as_batch(
            policy,
            pd_12m,
            grade=grade,
            expected_monthly_sales=expected_monthly_sales,
            payment_terms_days=payment_terms_days,
            requested_amount=requested_amount,
            annual_revenue=annual_revenue,
            current_exposure=current_exposure,
            in_default=in_default,
        )
    config = policy.limits
    defaulted = bool(in_default)
    if math.isnan(exposure):
        exposure = 0.0
    missing_sales = math.isnan(sales)
    missing_terms = math.isnan(terms)
    missing_revenue = math.isnan(revenue)
    has_request = not math.isnan(requested)
    request = requested if has_request else 0.0

    # credit need: what the customer owes us at any time if it buys as expected and pays on terms
    terms_used = config.default_payment_terms_days if missing_terms else terms
    need = (
        request
        if missing_sales
        else sales * (terms_used / DAYS_PER_MONTH) * (1.0 + config.sales_buffer_share)
    )

    # caps: expected loss within budget, share of annual revenue, absolute maximum
    el_rate = pd_value * config.lgd
    budget = config.expected_loss_budget_amount
    el_cap = budget / el_rate if budget is not None and el_rate > 0 else math.inf
    revenue_cap = math.inf if missing_revenue else revenue * config.max_revenue_share
    max_cap = config.max_limit_amount
    computed = minimum(minimum(need, el_cap), minimum(revenue_cap, max_cap))
    capped_by_el = el_cap < need and el_cap == computed
    capped_by_revenue = revenue_cap < need and revenue_cap == computed
    capped_by_max = max_cap < need and max_cap == computed

    step = config.rounding_step_amount
    limit = math.floor(computed / step + 1e-9) * step if step > 0 else computed
    below_minimum = (limit < config.min_limit_amount or limit <= 0) and need > 0
    no_need = need <= 0
    beyond_floor = grade_value > config.floor_grade
    el_rate_too_high = (
        config.expected_loss_budget_share is not None
        and el_rate > config.expected_loss_budget_share
    )
    hard_decline = defaulted or beyond_floor or el_rate_too_high
    if below_minimum or hard_decline:
        limit = 0.0
    expected_loss = round_cents(el_rate * limit)

    over_request = has_request and request > limit
    within_tolerance = (
        over_request and limit > 0 and request <= limit * (1.0 + config.refer_tolerance_share)
    )
    beyond_tolerance = over_request and not within_tolerance
    zero_limit = limit <= 0
    refer_grade = grade_value in config.refer_grades
    exposure_above = exposure > limit

    if hard_decline:
        decision = DECLINE
    elif missing_sales or missing_terms or missing_revenue:
        decision = REFER
    elif beyond_tolerance or zero_limit:
        decision = DECLINE
    elif refer_grade or within_tolerance or exposure_above:
        decision = REFER
    else:
        decision = APPROVE

    live = not hard_decline
    capped = capped_by_el or capped_by_revenue or capped_by_max
    flags = {
        "IN_DEFAULT": defaulted,
        "GRADE_BELOW_FLOOR": beyond_floor,
        "EXPECTED_LOSS_RATE_ABOVE_BUDGET": el_rate_too_high,
        "MISSING_ANNUAL_REVENUE": live and missing_revenue,
        "MISSING_EXPECTED_SALES": live and missing_sales,
        "MISSING_PAYMENT_TERMS": live and missing_terms,
        "REQUEST_ABOVE_LIMIT": live and beyond_tolerance and not zero_limit,
        "REQUEST_ABOVE_LIMIT_WITHIN_TOLERANCE": live and within_tolerance,
        "GRADE_IN_REFER_BAND": live and refer_grade,
        "CURRENT_EXPOSURE_ABOVE_LIMIT": exposure_above,
        "NO_CREDIT_NEED": live and no_need and not missing_sales,
        "LIMIT_BELOW_MINIMUM": live and below_minimum,
        "LIMIT_CAPPED_BY_EXPECTED_LOSS": live and capped_by_el,
        "LIMIT_CAPPED_BY_REVENUE": live and capped_by_revenue,
        "LIMIT_CAPPED_BY_MAXIMUM": live and capped_by_max,
        "LIMIT_COVERS_NEED": (
            live and not below_minimum and not capped and not missing_sales and not no_need
        ),
        "REQUEST_WITHIN_LIMIT": live and has_request and not over_request and not zero_limit,
    }
    codes = [code for code in LIMIT_REASON_CODES if flags[code]]
    return LimitDecision(
        policy_version=policy.version,
        pd_12m=pd_value,
        grade=grade_value,
        decision=decision,
        recommended_limit=limit,
        expected_loss_amount=expected_loss,
        credit_need_amount=need,
        reasons=limit_reasons(
            codes,
            config,
            pd_12m=pd_value,
            grade=grade_value,
            limit=limit,
            requested=requested,
            exposure=exposure,
            el_cap=el_cap,
            terms_days=terms_used,
            computed_limit=computed,
            revenue=revenue,
            revenue_cap=revenue_cap,
            need=need,
            sales=sales,
        ),
    )
