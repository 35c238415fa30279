"""The recommended credit limit and its decision: approve / counter_offer / refer / decline.

The rules are written once, vectorised (:func:`recommend_limits`); one customer online is a
batch of one (:meth:`models.policy.Policy.recommend_limit`). Measured on this machine
(``timeit``, default policy, one applicant with every input known): a batch of one cost
~139 µs before the input checks were made lean (:mod:`models.policy_inputs`) and the
costly numpy helpers were replaced; it now costs ~96 µs per call including the reason
sentences (the deleted plain-float copy of the rules cost ~23 µs).

The four decisions and their reason sentences are in :mod:`models.decisions`; the rules in
words for analysts in ``docs/policy.md``.

With no request (rescoring an existing customer) there is no counter-offer. A customer in
default is grade D (:attr:`models.grades.MasterScale.default_grade`), PD 1.0, limit 0,
decline, expected loss = LGD x current exposure.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from creditrisk.features.customer import DAYS_PER_MONTH
from creditrisk.models.decisions import (
    APPROVE,
    COUNTER_OFFER,
    DECISIONS,
    DECLINE,
    LIMIT_REASON_CODES,
    LIMIT_REASONS,
    REFER,
)
from creditrisk.models.money import days_text, money_text, percent_text, round_money
from creditrisk.models.policy_config import LimitPolicy
from creditrisk.models.policy_inputs import amount_column, flag_column, grade_column, pd_column
from creditrisk.models.reasons import DecisionReason, join_reason_codes

if TYPE_CHECKING:
    from creditrisk.models.policy import Policy

__all__ = [
    "APPROVE",
    "COUNTER_OFFER",
    "DAYS_PER_MONTH",
    "DECISIONS",
    "DECLINE",
    "LIMIT_REASONS",
    "LIMIT_REASON_CODES",
    "REFER",
    "LimitDecision",
    "LimitRecommendation",
    "limit_reasons",
    "recommend_limits",
]


@dataclass(frozen=True)
class LimitDecision:
    """The limit decision for one customer, ready for an API answer or the decision log.

    ``grade`` is the integer code (grade D = scale size + 1), ``grade_label`` what people see
    (``"1"``..``"10"``, ``"D"``); amounts are in ``currency``, rounded to cents.
    """

    policy_version: str
    pd_12m: float
    grade: int
    grade_label: str
    decision: str
    recommended_limit: float
    expected_loss_amount: float
    credit_need_amount: float
    currency: str
    reasons: tuple[DecisionReason, ...]

    @property
    def reason_codes(self) -> tuple[str, ...]:
        return tuple(reason.code for reason in self.reasons)

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy_version": self.policy_version,
            "pd_12m": self.pd_12m,
            "grade": self.grade,
            "grade_label": self.grade_label,
            "decision": self.decision,
            "recommended_limit": self.recommended_limit,
            "expected_loss_amount": self.expected_loss_amount,
            "credit_need_amount": self.credit_need_amount,
            "currency": self.currency,
            "reasons": [reason.to_dict() for reason in self.reasons],
        }


class _LazyFields(dict[str, str]):
    """Sentence fields written on first use: a decision prints only the few it needs."""

    def __init__(self, makers: dict[str, Callable[[], str]]) -> None:
        super().__init__()
        self._makers = makers

    def __missing__(self, key: str) -> str:
        value = self[key] = self._makers[key]()
        return value


def limit_reasons(
    codes: list[str],
    config: LimitPolicy,
    *,
    currency: str,
    pd_12m: float,
    grade: str,
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
    """The sentences of the reason ``codes`` that fired for one customer."""
    if not codes:
        return ()

    def money(amount: float) -> str:
        return money_text(amount, currency)

    fields = _LazyFields(
        {
            "grade": lambda: grade,
            "floor_grade": lambda: str(config.floor_grade),
            "pd": lambda: percent_text(pd_12m),
            "lgd": lambda: percent_text(config.lgd),
            "el_rate": lambda: percent_text(pd_12m * config.lgd),
            "el_budget_share": lambda: percent_text(
                float(config.expected_loss_budget_share or math.nan)
            ),
            "el_budget": lambda: money(float(config.expected_loss_budget_amount or math.nan)),
            "el_cap": lambda: money(el_cap),
            "requested": lambda: money(requested),
            "limit": lambda: money(limit),
            "request_excess": lambda: money(requested - limit),
            "tolerance": lambda: percent_text(config.refer_tolerance_share),
            "exposure": lambda: money(exposure),
            "exposure_excess": lambda: money(exposure - limit),
            "terms_days": lambda: days_text(terms_days),
            "month_days": lambda: days_text(DAYS_PER_MONTH),
            "computed_limit": lambda: money(computed_limit),
            "min_limit": lambda: money(config.min_limit_amount),
            "max_revenue_share": lambda: percent_text(config.max_revenue_share),
            "revenue": lambda: money(revenue),
            "revenue_cap": lambda: money(revenue_cap),
            "max_limit": lambda: money(config.max_limit_amount),
            "need": lambda: money(need),
            "sales": lambda: money(sales),
            "buffer": lambda: percent_text(config.sales_buffer_share),
        }
    )
    return tuple(DecisionReason(code, LIMIT_REASONS[code].format_map(fields)) for code in codes)


@dataclass(frozen=True, eq=False)
class LimitRecommendation:
    """Limit decisions for a batch: one entry per row in every array.

    ``reason_flags[i, j]`` is True when reason ``LIMIT_REASON_CODES[j]`` applies to row *i*;
    sentences are written only on demand (:meth:`reasons`, :meth:`row`).
    """

    policy_version: str
    currency: str
    limits: LimitPolicy
    pd_12m: np.ndarray
    """The model's PD, or 1.0 for a customer in default."""
    grade: np.ndarray
    """Integer grade codes; grade D (in default) is ``grade_labels`` ``"D"``."""
    grade_labels: np.ndarray
    decision: np.ndarray
    recommended_limit: np.ndarray
    expected_loss_amount: np.ndarray
    """PD x LGD x recommended limit in cents; LGD x current exposure for a customer in default."""
    credit_need_amount: np.ndarray
    computed_limit_amount: np.ndarray
    """The limit after caps, before rounding, minimum and floor rules."""
    expected_loss_cap_amount: np.ndarray
    revenue_cap_amount: np.ndarray
    requested_limit: np.ndarray
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
            for code, hit in zip(LIMIT_REASON_CODES, self.reason_flags[row].tolist(), strict=True)
            if hit
        ]
        return limit_reasons(
            codes,
            self.limits,
            currency=self.currency,
            pd_12m=float(self.pd_12m[row]),
            grade=str(self.grade_labels[row]),
            limit=float(self.recommended_limit[row]),
            requested=float(self.requested_limit[row]),
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
            grade_label=str(self.grade_labels[row]),
            decision=str(self.decision[row]),
            recommended_limit=float(self.recommended_limit[row]),
            expected_loss_amount=float(self.expected_loss_amount[row]),
            credit_need_amount=float(self.credit_need_amount[row]),
            currency=self.currency,
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
            "grade_label": self.grade_labels,
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
    requested_limit: ArrayLike | None,
    annual_revenue: ArrayLike | None,
    current_exposure: ArrayLike | None,
    in_default: ArrayLike,
    policy: Policy,
) -> LimitRecommendation:
    """Recommended credit limit and decision per customer, vectorised (a scalar is one row).

    Missing values (NaN or None) mean unknown: no expected sales -> the request is taken as the
    need and the case referred; no payment terms -> the default terms, referred; no annual
    revenue -> no revenue cap, referred; no request -> a rescoring (decided on the grade and the
    limit alone, never a counter-offer); no current exposure -> 0. ``grade=None`` grades
    ``pd_12m`` on the policy's master scale. The rules, in words, are in ``docs/policy.md``.
    """
    config = policy.limits
    pd_values = pd_column(pd_12m)
    n_rows = pd_values.shape[0]
    grades = grade_column(policy.scale, grade, pd_values)
    ceiling = config.max_input_amount
    sales = amount_column(
        "expected_monthly_sales", expected_monthly_sales, n_rows, allow_nan=True, ceiling=ceiling
    )
    terms = amount_column("payment_terms_days", payment_terms_days, n_rows, allow_nan=True)
    requested = amount_column(
        "requested_limit", requested_limit, n_rows, allow_nan=True, ceiling=ceiling
    )
    revenue = amount_column(
        "annual_revenue", annual_revenue, n_rows, allow_nan=True, ceiling=ceiling
    )
    exposure = amount_column(
        "current_exposure",
        current_exposure,
        n_rows,
        allow_nan=True,
        allow_negative=True,
        ceiling=ceiling,
    )
    exposure = np.where(np.isnan(exposure), 0.0, exposure)
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
    max_cap = config.max_limit_amount
    computed = np.minimum(np.minimum(need, el_cap), np.minimum(revenue_cap, max_cap))
    capped_by_el = (el_cap < need) & (el_cap == computed)
    capped_by_revenue = (revenue_cap < need) & (revenue_cap == computed)
    capped_by_max = (max_cap < need) & (max_cap == computed)

    limit = _round_down(computed, config.rounding_step_amount)
    below_minimum = ((limit < config.min_limit_amount) | (limit <= 0)) & (need > 0)
    no_need = need <= 0
    beyond_floor = (grades > config.floor_grade) & ~defaulted
    el_rate_too_high = (
        np.zeros(n_rows, dtype=bool)
        if config.expected_loss_budget_share is None
        else (el_rate > config.expected_loss_budget_share) & ~defaulted
    )
    hard_decline = defaulted | beyond_floor | el_rate_too_high
    limit = np.where(below_minimum | hard_decline, 0.0, limit)

    # in default: grade D, PD 1.0, expected loss = LGD x what it owes us now
    grades = np.where(defaulted, policy.scale.default_grade, grades)
    pd_reported = np.where(defaulted, 1.0, pd_values)
    expected_loss = round_money(
        np.where(defaulted, config.lgd * np.maximum(exposure, 0.0), el_rate * limit),
        name="expected_loss_amount",
        ceiling=ceiling,
    )

    over_request = has_request & (request > limit)
    within_tolerance = (
        over_request & (limit > 0) & (request <= limit * (1.0 + config.refer_tolerance_share))
    )
    beyond_tolerance = over_request & ~within_tolerance
    zero_limit = limit <= 0
    missing_data = missing_sales | missing_terms | missing_revenue
    refer_grade = np.zeros(n_rows, dtype=bool)
    for refer in config.refer_grades:
        refer_grade |= grades == refer
    exposure_above = exposure > limit

    # first match wins: decline, refer (missing data), decline (no limit), counter-offer, refer
    decision = np.where(
        hard_decline,
        DECLINE,
        np.where(
            missing_data,
            REFER,
            np.where(
                zero_limit,
                DECLINE,
                np.where(
                    beyond_tolerance,
                    COUNTER_OFFER,
                    np.where(refer_grade | within_tolerance | exposure_above, REFER, APPROVE),
                ),
            ),
        ),
    )
    live = ~hard_decline
    capped = capped_by_el | capped_by_revenue | capped_by_max
    flags = (
        defaulted,  # IN_DEFAULT
        beyond_floor,  # GRADE_BELOW_FLOOR
        el_rate_too_high,  # EXPECTED_LOSS_RATE_ABOVE_BUDGET
        live & missing_revenue,  # MISSING_ANNUAL_REVENUE
        live & missing_sales,  # MISSING_EXPECTED_SALES
        live & missing_terms,  # MISSING_PAYMENT_TERMS
        live & beyond_tolerance & ~zero_limit,  # REQUEST_ABOVE_LIMIT
        live & within_tolerance,  # REQUEST_ABOVE_LIMIT_WITHIN_TOLERANCE
        live & refer_grade,  # GRADE_IN_REFER_BAND
        exposure_above,  # CURRENT_EXPOSURE_ABOVE_LIMIT
        live & no_need & ~missing_sales,  # NO_CREDIT_NEED
        live & below_minimum,  # LIMIT_BELOW_MINIMUM
        live & capped_by_el,  # LIMIT_CAPPED_BY_EXPECTED_LOSS
        live & capped_by_revenue,  # LIMIT_CAPPED_BY_REVENUE
        live & capped_by_max,  # LIMIT_CAPPED_BY_MAXIMUM
        live & ~below_minimum & ~capped & ~missing_sales & ~no_need,  # LIMIT_COVERS_NEED
        live & has_request & ~over_request & ~zero_limit,  # REQUEST_WITHIN_LIMIT
    )
    return LimitRecommendation(
        policy_version=policy.version,
        currency=policy.currency,
        limits=config,
        pd_12m=pd_reported,
        grade=grades,
        grade_labels=policy.scale.grade_labels(grades),
        decision=decision,
        recommended_limit=limit,
        expected_loss_amount=expected_loss,
        credit_need_amount=need,
        computed_limit_amount=computed,
        expected_loss_cap_amount=el_cap,
        revenue_cap_amount=revenue_cap,
        requested_limit=requested,
        current_exposure_amount=exposure,
        expected_monthly_sales=sales,
        payment_terms_days=terms_used,
        annual_revenue=revenue,
        reason_flags=np.stack(flags, axis=1),
    )
