"""The credit policy: master scale, credit-limit recommendation and order check, in one config.

A :class:`Policy` is read from a YAML file (``models/policy.yaml`` is the default), carries a
``version`` and travels inside the model bundle as :meth:`Policy.to_dict`. Everything it
produces says which policy version produced it.

Both decisions are vectorised over numpy arrays, so rescoring a million customers is a handful
of array operations; the single-row methods (:meth:`Policy.recommend_limit`,
:meth:`Policy.check_order`) wrap one row in arrays of length one and return plain objects with
reasons as codes and sentences. How the limit is computed is told for analysts in
``docs/policy.md``.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from numpy.typing import ArrayLike

from models.grades import MasterScale, PolicyConfigError, PolicyInputError, check_pd
from models.reasons import DecisionReason, join_reason_codes

__all__ = [
    "DECISIONS",
    "LIMIT_REASONS",
    "ORDER_ACTIONS",
    "ORDER_REASONS",
    "LimitDecision",
    "LimitPolicy",
    "LimitRecommendation",
    "OrderCheck",
    "OrderDecision",
    "OrderPolicy",
    "Policy",
    "PolicyConfigError",
    "PolicyInputError",
    "check_orders",
    "recommend_limits",
]

APPROVE, REFER, DECLINE = "approve", "refer", "decline"
DECISIONS: tuple[str, ...] = (APPROVE, REFER, DECLINE)
RELEASE, HOLD = "release", "hold"
ORDER_ACTIONS: tuple[str, ...] = (RELEASE, HOLD)
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

ORDER_REASONS: dict[str, str] = {
    "IN_DEFAULT": "Customer is in default (90+ days past due, written off or insolvent)",
    "GRADE_BELOW_FLOOR": (
        "Risk grade {grade} is worse than grade {floor_grade}, the floor for any credit"
    ),
    "NO_CREDIT_LIMIT": "No credit limit is set for this customer",
    "LIMIT_EXCEEDED": (
        "New exposure {new_exposure} (open {open} + order {order}) exceeds the credit limit "
        "{limit} by {excess}"
    ),
    "OVERDUE_BEYOND_THRESHOLD": (
        "Invoices are {days_past_due} days past due, beyond the {threshold_days}-day threshold"
    ),
    "WITHIN_LIMIT": (
        "New exposure {new_exposure} (open {open} + order {order}) is within the credit limit "
        "{limit}; headroom after the order {headroom}"
    ),
}
ORDER_REASON_CODES: tuple[str, ...] = tuple(ORDER_REASONS)
ORDER_HOLD_CODES = frozenset(
    {
        "IN_DEFAULT",
        "GRADE_BELOW_FLOOR",
        "NO_CREDIT_LIMIT",
        "LIMIT_EXCEEDED",
        "OVERDUE_BEYOND_THRESHOLD",
    }
)


# --------------------------------------------------------------------------- formatting


def _money(amount: float) -> str:
    return "none" if math.isnan(amount) else f"{amount:,.0f}"


def _percent(share: float) -> str:
    return "none" if math.isnan(share) else f"{round(share * 100.0, 3):g} %"


def _days(days: float) -> str:
    return f"{days:g}"


# --------------------------------------------------------------------------- config reading


def _mapping(raw: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise PolicyConfigError(f"{where}: expected a mapping, got {raw!r}")
    return raw


def _check_keys(raw: Mapping[str, Any], where: str, known: set[str], optional: set[str]) -> None:
    unknown = sorted(set(raw) - known)
    if unknown:
        raise PolicyConfigError(f"{where}: unknown keys {unknown}")
    missing = sorted(known - optional - set(raw))
    if missing:
        raise PolicyConfigError(f"{where}: missing keys {missing}")


def _number(
    raw: Mapping[str, Any],
    where: str,
    key: str,
    *,
    minimum: float,
    maximum: float = math.inf,
    above_minimum: bool = False,
) -> float:
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PolicyConfigError(f"{where}.{key}: must be a finite number, got {value!r}")
    number = float(value)
    too_low = number <= minimum if above_minimum else number < minimum
    if too_low or number > maximum:
        low = "(" if above_minimum else "["
        raise PolicyConfigError(f"{where}.{key}: {number} is outside {low}{minimum}, {maximum}]")
    return number


def _optional_number(
    raw: Mapping[str, Any], where: str, key: str, *, maximum: float = math.inf
) -> float | None:
    if raw.get(key) is None:
        return None
    return _number(raw, where, key, minimum=0.0, maximum=maximum, above_minimum=True)


def _grade(raw: Mapping[str, Any], where: str, key: str, scale: MasterScale) -> int:
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= scale.n_grades:
        raise PolicyConfigError(
            f"{where}.{key}: {value!r} is not a grade on the master scale 1..{scale.n_grades}"
        )
    return value


# --------------------------------------------------------------------------- configs


@dataclass(frozen=True)
class LimitPolicy:
    """How a recommended credit limit and an approve / refer / decline decision are set.

    Amounts are in the ledger's reporting currency, shares are fractions (0.10 = 10 %).
    """

    lgd: float
    """Loss given default: share of the exposure lost when the customer defaults."""
    sales_buffer_share: float
    """Added on top of expected sales x terms to absorb order timing and late payments."""
    max_revenue_share: float
    """The limit never exceeds this share of the customer's annual revenue."""
    max_limit_amount: float
    """Absolute maximum limit for any customer."""
    floor_grade: int
    """Worst grade that may have credit at all; worse grades are declined with limit 0."""
    refer_grades: tuple[int, ...]
    """Grades whose decision always goes to an analyst (refer)."""
    expected_loss_budget_amount: float | None
    """Per-customer ceiling on PD x LGD x limit; caps the limit (None: no such cap)."""
    expected_loss_budget_share: float | None
    """Ceiling on the expected loss rate PD x LGD; above it no credit (None: no ceiling)."""
    refer_tolerance_share: float
    """A request up to this share above the recommended limit is referred, beyond is declined."""
    rounding_step_amount: float
    """Limits are rounded down to a multiple of this amount (0: no rounding)."""
    min_limit_amount: float
    """A computed limit below this amount becomes 0 (no credit line)."""
    default_payment_terms_days: float
    """Terms assumed when a customer's payment terms are unknown (and the case referred)."""

    KEYS = frozenset(
        {
            "lgd",
            "sales_buffer_share",
            "max_revenue_share",
            "max_limit_amount",
            "floor_grade",
            "refer_grades",
            "expected_loss_budget_amount",
            "expected_loss_budget_share",
            "refer_tolerance_share",
            "rounding_step_amount",
            "min_limit_amount",
            "default_payment_terms_days",
        }
    )

    @classmethod
    def from_config(cls, raw: Any, scale: MasterScale) -> LimitPolicy:
        where = "limits"
        section = _mapping(raw, where)
        _check_keys(
            section,
            where,
            set(cls.KEYS),
            {"expected_loss_budget_amount", "expected_loss_budget_share"},
        )
        floor_grade = _grade(section, where, "floor_grade", scale)
        refer_raw = section["refer_grades"]
        if not isinstance(refer_raw, list):
            raise PolicyConfigError(
                f"{where}.refer_grades: expected a list of grades, got {refer_raw!r}"
            )
        refer_grades = tuple(
            _grade({"refer_grades": item}, where, "refer_grades", scale) for item in refer_raw
        )
        beyond = [grade for grade in refer_grades if grade > floor_grade]
        if beyond:
            raise PolicyConfigError(
                f"{where}.refer_grades: grades {beyond} are worse than floor_grade {floor_grade} "
                "and are declined anyway"
            )
        limits = cls(
            lgd=_number(section, where, "lgd", minimum=0.0, maximum=1.0, above_minimum=True),
            sales_buffer_share=_number(section, where, "sales_buffer_share", minimum=0.0),
            max_revenue_share=_number(
                section, where, "max_revenue_share", minimum=0.0, above_minimum=True
            ),
            max_limit_amount=_number(
                section, where, "max_limit_amount", minimum=0.0, above_minimum=True
            ),
            floor_grade=floor_grade,
            refer_grades=tuple(sorted(set(refer_grades))),
            expected_loss_budget_amount=_optional_number(
                section, where, "expected_loss_budget_amount"
            ),
            expected_loss_budget_share=_optional_number(
                section, where, "expected_loss_budget_share", maximum=1.0
            ),
            refer_tolerance_share=_number(section, where, "refer_tolerance_share", minimum=0.0),
            rounding_step_amount=_number(section, where, "rounding_step_amount", minimum=0.0),
            min_limit_amount=_number(section, where, "min_limit_amount", minimum=0.0),
            default_payment_terms_days=_number(
                section, where, "default_payment_terms_days", minimum=0.0, above_minimum=True
            ),
        )
        if limits.min_limit_amount > limits.max_limit_amount:
            raise PolicyConfigError(
                f"{where}.min_limit_amount: {limits.min_limit_amount} is above max_limit_amount "
                f"{limits.max_limit_amount}"
            )
        return limits

    def to_config(self) -> dict[str, Any]:
        return {
            "lgd": self.lgd,
            "sales_buffer_share": self.sales_buffer_share,
            "max_revenue_share": self.max_revenue_share,
            "max_limit_amount": self.max_limit_amount,
            "floor_grade": self.floor_grade,
            "refer_grades": list(self.refer_grades),
            "expected_loss_budget_amount": self.expected_loss_budget_amount,
            "expected_loss_budget_share": self.expected_loss_budget_share,
            "refer_tolerance_share": self.refer_tolerance_share,
            "rounding_step_amount": self.rounding_step_amount,
            "min_limit_amount": self.min_limit_amount,
            "default_payment_terms_days": self.default_payment_terms_days,
        }


@dataclass(frozen=True)
class OrderPolicy:
    """When a new order is held instead of released."""

    overdue_threshold_days: float
    """Hold when the customer has an invoice more than this many days past due."""
    limit_tolerance_share: float
    """Hold when open exposure + order exceeds the limit by more than this share (0: strict)."""
    floor_grade: int
    """Hold for any grade worse than this one."""

    KEYS = frozenset({"overdue_threshold_days", "limit_tolerance_share", "floor_grade"})

    @classmethod
    def from_config(cls, raw: Any, scale: MasterScale, *, default_floor_grade: int) -> OrderPolicy:
        where = "orders"
        section = _mapping(raw, where)
        _check_keys(section, where, set(cls.KEYS), {"floor_grade"})
        floor_grade = (
            default_floor_grade
            if section.get("floor_grade") is None
            else _grade(section, where, "floor_grade", scale)
        )
        return cls(
            overdue_threshold_days=_number(section, where, "overdue_threshold_days", minimum=0.0),
            limit_tolerance_share=_number(section, where, "limit_tolerance_share", minimum=0.0),
            floor_grade=floor_grade,
        )

    def to_config(self) -> dict[str, Any]:
        return {
            "overdue_threshold_days": self.overdue_threshold_days,
            "limit_tolerance_share": self.limit_tolerance_share,
            "floor_grade": self.floor_grade,
        }


# --------------------------------------------------------------------------- input arrays


def _amounts(
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


def _flags(name: str, values: ArrayLike, n_rows: int) -> np.ndarray:
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


def _pd_rows(pd_12m: ArrayLike) -> np.ndarray:
    values = check_pd(pd_12m)
    if values.ndim != 1:
        raise PolicyInputError(f"pd_12m: expected a 1-D array, got shape {values.shape}")
    return values


def _grades(policy: Policy, grade: ArrayLike | None, pd_12m: np.ndarray) -> np.ndarray:
    if grade is None:
        return policy.scale.grade(pd_12m)
    grades = policy.scale.check_grades(np.broadcast_to(np.asarray(grade), pd_12m.shape))
    return np.array(grades, dtype=np.int64)


# --------------------------------------------------------------------------- limits


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
        if not codes:
            return ()
        fields = self._text_fields(row)
        return tuple(DecisionReason(code, LIMIT_REASONS[code].format(**fields)) for code in codes)

    def _text_fields(self, row: int) -> dict[str, str]:
        config = self.limits
        pd_12m = float(self.pd_12m[row])
        limit = float(self.recommended_limit[row])
        requested = float(self.requested_amount[row])
        exposure = float(self.current_exposure_amount[row])
        return {
            "grade": str(int(self.grade[row])),
            "floor_grade": str(config.floor_grade),
            "pd": _percent(pd_12m),
            "lgd": _percent(config.lgd),
            "el_rate": _percent(pd_12m * config.lgd),
            "el_budget_share": _percent(float(config.expected_loss_budget_share or math.nan)),
            "el_budget": _money(float(config.expected_loss_budget_amount or math.nan)),
            "el_cap": _money(float(self.expected_loss_cap_amount[row])),
            "requested": _money(requested),
            "limit": _money(limit),
            "request_excess": _money(requested - limit),
            "tolerance": _percent(config.refer_tolerance_share),
            "exposure": _money(exposure),
            "exposure_excess": _money(exposure - limit),
            "terms_days": _days(float(self.payment_terms_days[row])),
            "computed_limit": _money(float(self.computed_limit_amount[row])),
            "min_limit": _money(config.min_limit_amount),
            "max_revenue_share": _percent(config.max_revenue_share),
            "revenue": _money(float(self.annual_revenue[row])),
            "revenue_cap": _money(float(self.revenue_cap_amount[row])),
            "max_limit": _money(config.max_limit_amount),
            "need": _money(float(self.credit_need_amount[row])),
            "sales": _money(float(self.expected_monthly_sales[row])),
            "buffer": _percent(config.sales_buffer_share),
        }

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
    pd_values = _pd_rows(pd_12m)
    n_rows = pd_values.shape[0]
    grades = _grades(policy, grade, pd_values)
    sales = _amounts("expected_monthly_sales", expected_monthly_sales, n_rows, allow_nan=True)
    terms = _amounts("payment_terms_days", payment_terms_days, n_rows, allow_nan=True)
    requested = _amounts("requested_amount", requested_amount, n_rows, allow_nan=True)
    revenue = _amounts("annual_revenue", annual_revenue, n_rows, allow_nan=True)
    exposure = np.nan_to_num(
        _amounts("current_exposure", current_exposure, n_rows, allow_nan=True, allow_negative=True),
        nan=0.0,
    )
    defaulted = _flags("in_default", in_default, n_rows)

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
        with np.errstate(divide="ignore"):
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


# --------------------------------------------------------------------------- orders


@dataclass(frozen=True)
class OrderDecision:
    """Release or hold for one order, ready for an API answer or the decision log."""

    policy_version: str
    action: str
    new_exposure_amount: float
    limit_excess_amount: float | None
    """How far the new exposure exceeds the limit (0 when within; None without a limit)."""
    expected_loss_amount: float
    reasons: tuple[DecisionReason, ...]

    @property
    def reason_codes(self) -> tuple[str, ...]:
        return tuple(reason.code for reason in self.reasons)

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy_version": self.policy_version,
            "action": self.action,
            "new_exposure_amount": self.new_exposure_amount,
            "limit_excess_amount": self.limit_excess_amount,
            "expected_loss_amount": self.expected_loss_amount,
            "reasons": [reason.to_dict() for reason in self.reasons],
        }


@dataclass(frozen=True, eq=False)
class OrderCheck:
    """Order checks for a batch; ``reason_flags`` columns follow ``ORDER_REASON_CODES``."""

    policy_version: str
    orders: OrderPolicy
    grade: np.ndarray
    action: np.ndarray
    credit_limit: np.ndarray
    open_exposure_amount: np.ndarray
    order_amount: np.ndarray
    new_exposure_amount: np.ndarray
    """Open exposure plus the order: what the customer would owe once it is shipped."""
    limit_excess_amount: np.ndarray
    """How far the new exposure exceeds the limit (0 when within; NaN without a limit)."""
    expected_loss_amount: np.ndarray
    """PD x LGD x new exposure (rounded to cents)."""
    max_days_past_due: np.ndarray
    reason_flags: np.ndarray = field(repr=False)

    def __len__(self) -> int:
        return int(self.action.shape[0])

    def reasons(self, row: int) -> tuple[DecisionReason, ...]:
        codes = [
            code
            for code, hit in zip(ORDER_REASON_CODES, self.reason_flags[row], strict=True)
            if hit
        ]
        limit = float(self.credit_limit[row])
        new_exposure = float(self.new_exposure_amount[row])
        fields = {
            "grade": str(int(self.grade[row])),
            "floor_grade": str(self.orders.floor_grade),
            "new_exposure": _money(new_exposure),
            "open": _money(float(self.open_exposure_amount[row])),
            "order": _money(float(self.order_amount[row])),
            "limit": _money(limit),
            "excess": _money(float(self.limit_excess_amount[row])),
            "headroom": _money(limit - new_exposure),
            "days_past_due": _days(float(self.max_days_past_due[row])),
            "threshold_days": _days(self.orders.overdue_threshold_days),
        }
        return tuple(DecisionReason(code, ORDER_REASONS[code].format(**fields)) for code in codes)

    def row(self, row: int) -> OrderDecision:
        excess = float(self.limit_excess_amount[row])
        return OrderDecision(
            policy_version=self.policy_version,
            action=str(self.action[row]),
            new_exposure_amount=float(self.new_exposure_amount[row]),
            limit_excess_amount=None if math.isnan(excess) else excess,
            expected_loss_amount=float(self.expected_loss_amount[row]),
            reasons=self.reasons(row),
        )

    def reason_codes(self, *, separator: str = ",") -> np.ndarray:
        return join_reason_codes(self.reason_flags, ORDER_REASON_CODES, separator=separator)


def check_orders(
    *,
    grade: ArrayLike | None,
    pd_12m: ArrayLike,
    credit_limit: ArrayLike | None,
    open_exposure: ArrayLike,
    order_amount: ArrayLike,
    max_days_past_due: ArrayLike | None,
    in_default: ArrayLike,
    policy: Policy,
) -> OrderCheck:
    """Release or hold each order, vectorised.

    Held when the customer is in default, its grade is worse than the floor, it has no credit
    limit (NaN), open exposure + order exceeds the limit (beyond the tolerance), or its worst
    open invoice is more days past due than the threshold (NaN days past due: nothing overdue).
    Released otherwise. ``grade=None`` grades ``pd_12m`` on the master scale.
    """
    config = policy.orders
    pd_values = _pd_rows(pd_12m)
    n_rows = pd_values.shape[0]
    grades = _grades(policy, grade, pd_values)
    limit = _amounts("credit_limit", credit_limit, n_rows, allow_nan=True)
    open_amount = _amounts(
        "open_exposure", open_exposure, n_rows, allow_nan=False, allow_negative=True
    )
    order = _amounts("order_amount", order_amount, n_rows, allow_nan=False)
    days = np.nan_to_num(
        _amounts(
            "max_days_past_due", max_days_past_due, n_rows, allow_nan=True, allow_negative=True
        ),
        nan=0.0,
    )
    defaulted = _flags("in_default", in_default, n_rows)

    new_exposure = open_amount + order
    no_limit = np.isnan(limit)
    exceeded = ~no_limit & (new_exposure > limit * (1.0 + config.limit_tolerance_share))
    excess = np.where(no_limit, np.nan, np.maximum(new_exposure - limit, 0.0))
    flags = {
        "IN_DEFAULT": defaulted,
        "GRADE_BELOW_FLOOR": grades > config.floor_grade,
        "NO_CREDIT_LIMIT": no_limit,
        "LIMIT_EXCEEDED": exceeded,
        "OVERDUE_BEYOND_THRESHOLD": days > config.overdue_threshold_days,
        "WITHIN_LIMIT": ~no_limit & ~exceeded,
    }
    hold = np.logical_or.reduce(
        [flags[code] for code in ORDER_REASON_CODES if code in ORDER_HOLD_CODES]
    )
    return OrderCheck(
        policy_version=policy.version,
        orders=config,
        grade=grades,
        action=np.where(hold, HOLD, RELEASE),
        credit_limit=limit,
        open_exposure_amount=open_amount,
        order_amount=order,
        new_exposure_amount=new_exposure,
        limit_excess_amount=excess,
        expected_loss_amount=np.round(
            pd_values * policy.limits.lgd * np.maximum(new_exposure, 0.0), 2
        ),
        max_days_past_due=days,
        reason_flags=np.column_stack([flags[code] for code in ORDER_REASON_CODES]),
    )


# --------------------------------------------------------------------------- the policy


def _scalar(value: float | None) -> float:
    return math.nan if value is None else float(value)


POLICY_KEYS = {"version", "description", "master_scale", "limits", "orders"}


@dataclass(frozen=True)
class Policy:
    """Master scale + limit policy + order policy under one version string."""

    version: str
    scale: MasterScale
    limits: LimitPolicy
    orders: OrderPolicy
    description: str = ""

    @classmethod
    def from_dict(cls, raw: Any) -> Policy:
        """Build and validate from the parsed policy file (the shape :meth:`to_dict` returns)."""
        section = _mapping(raw, "policy")
        _check_keys(section, "policy", POLICY_KEYS, {"description"})
        version = section["version"]
        if not isinstance(version, str) or not version.strip():
            raise PolicyConfigError(f"policy.version: must be a non-empty string, got {version!r}")
        scale = MasterScale.from_config(section["master_scale"])
        limits = LimitPolicy.from_config(section["limits"], scale)
        orders = OrderPolicy.from_config(
            section["orders"], scale, default_floor_grade=limits.floor_grade
        )
        return cls(
            version=version,
            scale=scale,
            limits=limits,
            orders=orders,
            description=str(section.get("description") or ""),
        )

    @classmethod
    def from_yaml(cls, path: str | Path) -> Policy:
        """Read a policy file; :class:`PolicyConfigError` names the file on a bad one."""
        text = Path(path).read_text(encoding="utf-8")
        try:
            raw = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise PolicyConfigError(f"{path}: not valid YAML: {exc}") from exc
        try:
            return cls.from_dict(raw)
        except PolicyConfigError as exc:
            raise PolicyConfigError(f"{path}: {exc}") from exc

    @classmethod
    def default(cls) -> Policy:
        """The policy shipped with the package (``models/policy.yaml``)."""
        resource = importlib.resources.files("models").joinpath("policy.yaml")
        raw = yaml.safe_load(resource.read_text(encoding="utf-8"))
        return cls.from_dict(raw)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON/YAML-safe form; ``Policy.from_dict(p.to_dict()) == p``."""
        return {
            "version": self.version,
            "description": self.description,
            "master_scale": self.scale.to_config(),
            "limits": self.limits.to_config(),
            "orders": self.orders.to_config(),
        }

    def digest(self) -> str:
        """SHA-256 of the canonical settings: two policies with one version must share it."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def grade(self, pd_12m: ArrayLike) -> np.ndarray:
        return self.scale.grade(pd_12m)

    def recommend_limits(
        self,
        pd_12m: ArrayLike,
        *,
        grade: ArrayLike | None = None,
        expected_monthly_sales: ArrayLike | None,
        payment_terms_days: ArrayLike | None,
        requested_amount: ArrayLike | None,
        annual_revenue: ArrayLike | None,
        current_exposure: ArrayLike | None,
        in_default: ArrayLike,
    ) -> LimitRecommendation:
        """:func:`recommend_limits` under this policy (grades ``pd_12m`` when ``grade`` is None)."""
        return recommend_limits(
            pd_12m,
            grade,
            expected_monthly_sales=expected_monthly_sales,
            payment_terms_days=payment_terms_days,
            requested_amount=requested_amount,
            annual_revenue=annual_revenue,
            current_exposure=current_exposure,
            in_default=in_default,
            policy=self,
        )

    def recommend_limit(
        self,
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
        """One customer's limit decision (None means unknown)."""
        batch = self.recommend_limits(
            np.array([pd_12m], dtype=np.float64),
            grade=None if grade is None else np.array([grade]),
            expected_monthly_sales=np.array([_scalar(expected_monthly_sales)]),
            payment_terms_days=np.array([_scalar(payment_terms_days)]),
            requested_amount=np.array([_scalar(requested_amount)]),
            annual_revenue=np.array([_scalar(annual_revenue)]),
            current_exposure=np.array([_scalar(current_exposure)]),
            in_default=np.array([bool(in_default)]),
        )
        return batch.row(0)

    def check_orders(
        self,
        *,
        pd_12m: ArrayLike,
        grade: ArrayLike | None = None,
        credit_limit: ArrayLike | None,
        open_exposure: ArrayLike,
        order_amount: ArrayLike,
        max_days_past_due: ArrayLike | None,
        in_default: ArrayLike,
    ) -> OrderCheck:
        """:func:`check_orders` under this policy (grades ``pd_12m`` when ``grade`` is None)."""
        return check_orders(
            grade=grade,
            pd_12m=pd_12m,
            credit_limit=credit_limit,
            open_exposure=open_exposure,
            order_amount=order_amount,
            max_days_past_due=max_days_past_due,
            in_default=in_default,
            policy=self,
        )

    def check_order(
        self,
        *,
        pd_12m: float,
        grade: int | None = None,
        credit_limit: float | None,
        open_exposure: float,
        order_amount: float,
        max_days_past_due: float | None,
        in_default: bool = False,
    ) -> OrderDecision:
        """Release or hold one order (``credit_limit`` None: no limit set -> hold)."""
        batch = self.check_orders(
            pd_12m=np.array([pd_12m], dtype=np.float64),
            grade=None if grade is None else np.array([grade]),
            credit_limit=np.array([_scalar(credit_limit)]),
            open_exposure=np.array([float(open_exposure)]),
            order_amount=np.array([float(order_amount)]),
            max_days_past_due=np.array([_scalar(max_days_past_due)]),
            in_default=np.array([bool(in_default)]),
        )
        return batch.row(0)
