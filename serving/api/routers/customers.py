"""``/v1/customers/{customer_id}/...``: an existing customer from its live ledger.

- ``GET .../risk`` (read): PD, grade, late-payment outlook of the open invoices, exposure,
  overdue, current vs recommended limit, reasons. Decision-logged (``customer_risk``).
- ``POST .../orders/check`` (score): release or hold an order. Decision-logged
  (``order_check``).
- ``GET .../invoices/predictions`` (read): open invoices with p_late and expected payment
  dates. Logged (``invoice_predictions``): collectors act on it.

The rating itself is :mod:`creditrisk.serving.rating` and :mod:`creditrisk.serving.open_invoices`;
these handlers only translate. Every handler reads the ledger and writes the decision log, so
each is a plain ``def`` (runs in the threadpool). ``?as_of=`` (or the body's ``as_of``)
defaults to the service's today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Response
from sqlalchemy import Engine

from creditrisk.serving import open_invoices, rating
from creditrisk.serving.api.answers import (
    decision_record,
    json_answer,
    log_decision,
    log_decision_async,
    replayed_order_check,
)
from creditrisk.serving.api.dependencies import (
    AsOfQuery,
    CustomerIdPath,
    DbDep,
    DecisionContextDep,
    IdempotencyKeyHeader,
    ReadCaller,
    ReadingContextDep,
    ScoreCaller,
    plausible_as_of,
)
from creditrisk.serving.api.error_responses import ROUTE_ERRORS, error_responses
from creditrisk.serving.api.schemas import (
    CustomerRiskOut,
    DecisionReasonOut,
    InvoicePredictionOut,
    InvoicePredictionsOut,
    OrderCheckIn,
    OrderCheckOut,
)
from creditrisk.serving.money import cents, optional_cents, reporting_currency
from creditrisk.serving.registry import ServedBundle
from creditrisk.serving.rescoring import readers

router = APIRouter(prefix="/v1/customers", tags=["customers"])


@router.get(
    "/{customer_id}/risk",
    response_model=CustomerRiskOut,
    responses=error_responses(*ROUTE_ERRORS, 404, 422),
)
async def customer_risk_of(
    reading: ReadingContextDep,
    customer_id: CustomerIdPath,
    as_of: AsOfQuery = None,
) -> Response:
    """Re-rate an existing customer from its ledger as of today (or ``as_of``)."""
    caller, context = reading.caller, reading.context
    plausible_as_of(as_of, context.latest_as_of)
    day = as_of or context.today
    risk = await anyio.to_thread.run_sync(
        rate_for_risk, context.served, reading.engine, customer_id, day
    )
    record = decision_record(
        "customer_risk",
        caller=caller,
        model=context.model,
        served=context.served,
        policy_version=risk.policy_version,
        customer_id=customer_id,
        request={"customer_id": customer_id, "as_of": day},
        features=risk.features,
        outputs=risk.outputs,
        reasons={"decision": risk.reasons, "factors": risk.factors},
    )
    return json_answer(CustomerRiskOut.model_validate({  # validated once (json_answer)
        **await log_decision_async(context.decisions, record),
        **risk.outputs,
        "customer_id": customer_id,
        "reasons": risk.reasons,
        "top_factors": risk.factors,
        "grade_history": risk.grade_history,
    }))


@dataclass(frozen=True, slots=True)
class RiskAnswer:
    """What ``GET .../risk`` answers and logs, computed in one worker thread."""

    outputs: dict[str, Any]
    reasons: list[dict[str, Any]]
    factors: list[dict[str, Any]]
    features: dict[str, Any]
    policy_version: str
    grade_history: list[dict[str, Any]]


def rate_for_risk(served: ServedBundle, db: Engine, customer_id: str, day: date) -> RiskAnswer:
    """The customer's risk answer as of ``day``: its rows read and rated, the limit, the
    late-payment outlook, the top factors and the grade history (every blocking database
    read of the request, so the handler hops to a worker thread once)."""
    state = rating.load_customer(served, db, customer_id, as_of=day)
    factors = rating.explain_customer(served, state)
    limit = rating.recommend_customer_limit(served, state)
    late = rating.late_payment_outlook(served, state)
    outputs: dict[str, Any] = {
        "as_of": day,
        "pd_12m": state.pd_12m,
        "model_pd_12m": state.model_pd_12m,
        "grade": state.grade,
        "grade_name": state.grade_name,
        "in_default": state.in_default,
        "currency": reporting_currency(served.bundle.policy),
        "exposure": cents(state.exposure),
        "overdue_amount": cents(state.overdue_amount),
        "worst_days_past_due": state.worst_days_past_due,
        "open_invoice_count": late.open_invoice_count,
        "p_late_open_exposure_weighted": late.p_late_exposure_weighted,
        "p_late_open_invoice_mean": late.p_late_invoice_mean,
        "expected_loss": rating.expected_loss(served, state),
        "current_limit": optional_cents(state.credit_limit),
        "recommended_limit": cents(limit.recommended_limit),
        "limit_decision": limit.decision,
        "expected_monthly_sales": cents(float(rating.expected_monthly_sales(state.record)[0])),
    }
    return RiskAnswer(
        outputs=outputs,
        reasons=[reason.to_dict() for reason in limit.reasons],
        factors=[factor.to_dict() for factor in factors],
        features=state.feature_record(),
        policy_version=limit.policy_version,
        grade_history=readers.customer_grade_history(db, customer_id),
    )


@router.post(
    "/{customer_id}/orders/check",
    response_model=OrderCheckOut,
    responses=error_responses(*ROUTE_ERRORS, 400, 404, 409, 413, 422),
)
def check_order(
    caller: ScoreCaller,
    customer_id: CustomerIdPath,
    body: OrderCheckIn,
    context: DecisionContextDep,
    db: DbDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> OrderCheckOut:
    """Release or hold a new order for an existing customer, naming why. A retry with the
    same ``Idempotency-Key`` gets the first decision back."""
    model, served, decisions = context.model, context.served, context.decisions
    today, latest = context.today, context.latest_as_of
    request = {"customer_id": customer_id, **body.model_dump(mode="json")}
    if idempotency_key is not None:
        first = decisions.first(caller.key_id, idempotency_key, request)
        if first is not None:
            return replayed_order_check(first)
    plausible_as_of(body.as_of, latest, location="body")
    day = body.as_of or today
    state = rating.load_customer(served, db, customer_id, as_of=day)
    order = rating.check_customer_order(served, state, order_amount=body.order_amount)
    outputs: dict[str, Any] = {
        "as_of": day,
        "action": order.action,
        "currency": reporting_currency(served.bundle.policy),
        "order_amount": cents(body.order_amount),
        "open_exposure": cents(state.exposure),
        "new_exposure": cents(order.new_exposure_amount),
        "credit_limit": optional_cents(state.credit_limit),
        "limit_excess": optional_cents(order.limit_excess_amount),
        "worst_days_past_due": state.worst_days_past_due,
        "in_default": state.in_default,
        "pd_12m": state.pd_12m,
        "grade": state.grade,
        "expected_loss": cents(order.expected_loss_amount),
    }
    reasons = [reason.to_dict() for reason in order.reasons]
    record = decision_record(
        "order_check",
        caller=caller,
        model=model,
        served=served,
        policy_version=order.policy_version,
        customer_id=customer_id,
        request=request,
        features=state.feature_record(),
        outputs=outputs,
        reasons={"decision": reasons},
        idempotency_key=idempotency_key,
    )
    return OrderCheckOut(
        **log_decision(decisions, record),
        **outputs,
        customer_id=customer_id,
        reasons=[DecisionReasonOut(**reason) for reason in reasons],
        order_reference=body.order_reference,
    )


@router.get(
    "/{customer_id}/invoices/predictions",
    response_model=InvoicePredictionsOut,
    responses=error_responses(*ROUTE_ERRORS, 404, 422),
)
def predict_invoices(
    caller: ReadCaller,
    customer_id: CustomerIdPath,
    context: DecisionContextDep,
    db: DbDep,
    as_of: AsOfQuery = None,
) -> InvoicePredictionsOut:
    """The customer's open invoices: probability of late payment, expected payment dates."""
    model, served, decisions = context.model, context.served, context.decisions
    today, latest = context.today, context.latest_as_of
    plausible_as_of(as_of, latest)
    day = as_of or today
    state = rating.load_customer(served, db, customer_id, as_of=day)
    invoices = open_invoices.invoice_records(
        open_invoices.predict_open_invoices(served, state.ledger, as_of=day)
    )
    currency = reporting_currency(served.bundle.policy)
    record = decision_record(
        "invoice_predictions",
        caller=caller,
        model=model,
        served=served,
        policy_version=served.bundle.policy.version,
        customer_id=customer_id,
        request={"customer_id": customer_id, "as_of": day},
        outputs={"as_of": day, "currency": currency, "invoices": invoices},
    )
    return InvoicePredictionsOut(
        **log_decision(decisions, record),
        customer_id=customer_id,
        as_of=day,
        currency=currency,
        invoices=[InvoicePredictionOut(**invoice) for invoice in invoices],
    )
