"""The limit rules, written once: credit need, caps, rounding, decision and reason flags.

:func:`limit_rule` runs on checked inputs (NaN = unknown) in either arithmetic of
:mod:`models.rule_ops`: numpy columns for a batch, plain floats for one customer online.
:mod:`models.limits` checks the inputs, calls it and writes the answer (rounded money,
grade labels, reason sentences). The rules in words are in ``docs/policy.md``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, NamedTuple

from creditrisk.features.customer import DAYS_PER_MONTH
from creditrisk.models.decisions import APPROVE, COUNTER_OFFER, DECLINE, REFER
from creditrisk.models.rule_ops import ArrayOps, ScalarOps

if TYPE_CHECKING:
    from creditrisk.models.policy import Policy

__all__ = ["LimitParts", "limit_rule"]


class LimitParts(NamedTuple):
    """What :func:`limit_rule` decides: per row arrays (a batch) or plain values (one row)."""

    pd_reported: Any
    grade: Any
    decision: Any
    limit: Any
    expected_loss: Any
    """Unrounded: :func:`models.money.round_money` is applied by the caller."""
    need: Any
    computed: Any
    el_cap: Any
    revenue_cap: Any
    exposure: Any
    terms_used: Any
    flags: tuple[Any, ...]
    """One flag per ``LIMIT_REASON_CODES`` entry, in its order."""


def limit_rule(
    ops: ArrayOps | ScalarOps,
    policy: Policy,
    *,
    pd_12m: Any,
    grade: Any,
    sales: Any,
    terms: Any,
    requested: Any,
    revenue: Any,
    exposure: Any,
    defaulted: Any,
) -> LimitParts:
    """The limit rules, written once on checked inputs (NaN = unknown): numpy columns with
    ``ops`` = :data:`ARRAY_OPS`, or one customer's plain floats with :data:`SCALAR_OPS`."""
    config = policy.limits
    not_ = ops.not_
    where = ops.where
    exposure = where(ops.isnan(exposure), 0.0, exposure)
    missing_sales = ops.isnan(sales)
    missing_terms = ops.isnan(terms)
    missing_revenue = ops.isnan(revenue)
    has_request = not_(ops.isnan(requested))
    request = where(has_request, requested, 0.0)

    # credit need: what the customer owes us at any time if it buys as expected and pays on terms
    terms_used = where(missing_terms, config.default_payment_terms_days, terms)
    need = sales * (terms_used / DAYS_PER_MONTH) * (1.0 + config.sales_buffer_share)
    need = where(missing_sales, request, need)

    # caps: expected loss within budget, share of annual revenue, absolute maximum
    el_rate = pd_12m * config.lgd
    if config.expected_loss_budget_amount is None:
        el_cap = ops.full_like(el_rate, math.inf)
    else:  # tiny PDs: the cap is inf
        el_cap = ops.ratio_or(config.expected_loss_budget_amount, el_rate, math.inf)
    revenue_cap = where(missing_revenue, math.inf, revenue * config.max_revenue_share)
    max_cap = config.max_limit_amount
    computed = ops.minimum(ops.minimum(need, el_cap), ops.minimum(revenue_cap, max_cap))
    capped_by_el = (el_cap < need) & (el_cap == computed)
    capped_by_revenue = (revenue_cap < need) & (revenue_cap == computed)
    capped_by_max = (max_cap < need) & (max_cap == computed)

    # round down to the step; within a billionth of a step counts as on it
    step = config.rounding_step_amount
    limit = ops.floor(computed / step + 1e-9) * step if step > 0 else computed
    below_minimum = ((limit < config.min_limit_amount) | (limit <= 0)) & (need > 0)
    no_need = need <= 0
    beyond_floor = (grade > config.floor_grade) & not_(defaulted)
    el_rate_too_high = (
        ops.full_like(defaulted, False)
        if config.expected_loss_budget_share is None
        else (el_rate > config.expected_loss_budget_share) & not_(defaulted)
    )
    hard_decline = defaulted | beyond_floor | el_rate_too_high
    limit = where(below_minimum | hard_decline, 0.0, limit)

    # in default: grade D, PD 1.0, expected loss = LGD x what it owes us now
    grade = where(defaulted, policy.scale.default_grade, grade)
    pd_reported = where(defaulted, 1.0, pd_12m)
    expected_loss = where(defaulted, config.lgd * ops.maximum(exposure, 0.0), el_rate * limit)

    over_request = has_request & (request > limit)
    within_tolerance = (
        over_request & (limit > 0) & (request <= limit * (1.0 + config.refer_tolerance_share))
    )
    beyond_tolerance = over_request & not_(within_tolerance)
    zero_limit = limit <= 0
    missing_data = missing_sales | missing_terms | missing_revenue
    refer_grade = ops.isin(grade, config.refer_grades)
    exposure_above = exposure > limit

    # first match wins: decline, refer (missing data), decline (no limit), counter-offer, refer
    decision = where(
        hard_decline,
        DECLINE,
        where(
            missing_data,
            REFER,
            where(
                zero_limit,
                DECLINE,
                where(
                    beyond_tolerance,
                    COUNTER_OFFER,
                    where(refer_grade | within_tolerance | exposure_above, REFER, APPROVE),
                ),
            ),
        ),
    )
    live = not_(hard_decline)
    capped = capped_by_el | capped_by_revenue | capped_by_max
    covers_need = not_(below_minimum | capped | missing_sales | no_need)
    flags = (
        defaulted,  # IN_DEFAULT
        beyond_floor,  # GRADE_BELOW_FLOOR
        el_rate_too_high,  # EXPECTED_LOSS_RATE_ABOVE_BUDGET
        live & missing_revenue,  # MISSING_ANNUAL_REVENUE
        live & missing_sales,  # MISSING_EXPECTED_SALES
        live & missing_terms,  # MISSING_PAYMENT_TERMS
        live & beyond_tolerance & not_(zero_limit),  # REQUEST_ABOVE_LIMIT
        live & within_tolerance,  # REQUEST_ABOVE_LIMIT_WITHIN_TOLERANCE
        live & refer_grade,  # GRADE_IN_REFER_BAND
        exposure_above,  # CURRENT_EXPOSURE_ABOVE_LIMIT
        live & no_need & not_(missing_sales),  # NO_CREDIT_NEED
        live & below_minimum,  # LIMIT_BELOW_MINIMUM
        live & capped_by_el,  # LIMIT_CAPPED_BY_EXPECTED_LOSS
        live & capped_by_revenue,  # LIMIT_CAPPED_BY_REVENUE
        live & capped_by_max,  # LIMIT_CAPPED_BY_MAXIMUM
        live & covers_need,  # LIMIT_COVERS_NEED
        live & has_request & not_(over_request | zero_limit),  # REQUEST_WITHIN_LIMIT
    )
    return LimitParts(
        pd_reported=pd_reported, grade=grade, decision=decision, limit=limit,
        expected_loss=expected_loss, need=need, computed=computed, el_cap=el_cap,
        revenue_cap=revenue_cap, exposure=exposure, terms_used=terms_used, flags=flags,
    )
