"""Decision words and reason sentences of the credit policy: every constant in one place.

Limit decisions (:mod:`models.limits`), exactly four:

* ``approve`` - the requested limit is granted in full (no request: the recommended limit
  stands);
* ``counter_offer`` - a lower limit than requested is offered; the text names both amounts;
  never without a request;
* ``refer`` - an analyst must look; the text says why;
* ``decline`` - no credit; the text never calls the recommended limit a counter-offer.

Order actions (:mod:`models.orders`): ``release`` or ``hold``. Reason templates are keyed by
code; the order of the dict is the order reasons are listed in an answer. Amounts in the
templates are written by :func:`models.money.money_text` (``EUR 82,508.48``).
"""

from __future__ import annotations

__all__ = [
    "APPROVE",
    "COUNTER_OFFER",
    "DECISIONS",
    "DECLINE",
    "HOLD",
    "LIMIT_REASONS",
    "LIMIT_REASON_CODES",
    "ORDER_ACTIONS",
    "ORDER_HOLD_CODES",
    "ORDER_REASONS",
    "ORDER_REASON_CODES",
    "REFER",
    "RELEASE",
]

APPROVE, COUNTER_OFFER, REFER, DECLINE = "approve", "counter_offer", "refer", "decline"
DECISIONS: tuple[str, ...] = (APPROVE, COUNTER_OFFER, REFER, DECLINE)

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
    "MISSING_ANNUAL_REVENUE": (
        "Annual revenue unknown: the revenue cap could not be applied; an analyst checks it"
    ),
    "MISSING_EXPECTED_SALES": (
        "Expected monthly sales unknown: the credit need is taken from the requested limit "
        "({requested}); an analyst checks it"
    ),
    "MISSING_PAYMENT_TERMS": (
        "Payment terms unknown: {terms_days} days assumed; an analyst checks them"
    ),
    "REQUEST_ABOVE_LIMIT": (
        "Requested {requested} exceeds the recommended limit {limit} by {request_excess}, "
        "more than the {tolerance} tolerance: {limit} is offered instead of {requested}"
    ),
    "REQUEST_ABOVE_LIMIT_WITHIN_TOLERANCE": (
        "Requested {requested} exceeds the recommended limit {limit} by {request_excess}, within "
        "the {tolerance} tolerance: an analyst decides whether to grant it"
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
        "Limit covers the credit need {need}: expected monthly sales {sales} x {terms_days} "
        "days of terms / {month_days} days a month + {buffer} buffer"
    ),
    "REQUEST_WITHIN_LIMIT": (
        "Requested {requested} is granted in full (within the recommended limit {limit})"
    ),
}
LIMIT_REASON_CODES: tuple[str, ...] = tuple(LIMIT_REASONS)


RELEASE, HOLD = "release", "hold"
ORDER_ACTIONS: tuple[str, ...] = (RELEASE, HOLD)

ORDER_REASONS: dict[str, str] = {
    "IN_DEFAULT": (
        "Customer is in default (90+ days past due, written off or insolvent): every order is held"
    ),
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
