"""``/v1/customers/{customer_id}/...``: an existing customer from its live ledger.

- ``GET .../risk`` (read): PD, grade, late-payment outlook of the open invoices, exposure,
  overdue, current vs recommended limit, reasons. Decision-logged (``customer_risk``).
- ``POST .../orders/check`` (score): release or hold an order. Decision-logged
  (``order_check``).
- ``GET .../invoices/predictions`` (read): open invoices with p_late and expected payment
  dates. Logged (``invoice_predictions``): collectors act on it.

Every handler reads the ledger and writes the decision log, so each is a plain ``def`` (runs
in the threadpool). ``?as_of=`` (or the body's ``as_of``) defaults to the service's today.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from creditrisk.serving import customer_risk
from creditrisk.serving.decisions import DecisionRecord
from creditrisk.serving.dependencies import DbDep, DecisionLogDep, ModelDep, ReadCaller, ScoreCaller
from creditrisk.serving.registry import served_bundle
from creditrisk.serving.schemas import (
    EARLIEST_AS_OF,
    LATEST_AS_OF,
    CustomerRiskOut,
    DecisionReasonOut,
    FactorOut,
    InvoicePredictionOut,
    InvoicePredictionsOut,
    OrderCheckIn,
    OrderCheckOut,
)

router = APIRouter(prefix="/v1/customers", tags=["customers"])

CustomerIdPath = Annotated[
    str, Path(min_length=1, max_length=64, description="The customer's id in the ledger.")
]
AsOfQuery = Annotated[
    date | None,
    Query(ge=EARLIEST_AS_OF, le=LATEST_AS_OF, description="Decision date (default: today)."),
]


def service_today(request: Request) -> date:
    """Today by the app's clock (``app.state.clock``, UTC): the default decision date."""
    now = request.app.state.clock()
    return date(now.year, now.month, now.day)


@router.get("/{customer_id}/risk", response_model=CustomerRiskOut)
def customer_risk_of(
    caller: ReadCaller,
    customer_id: CustomerIdPath,
    model: ModelDep,
    db: DbDep,
    decisions: DecisionLogDep,
    request: Request,
    as_of: AsOfQuery = None,
) -> CustomerRiskOut:
    """Re-rate an existing customer from its ledger as of today (or ``as_of``)."""
    served = served_bundle(model)
    day = as_of or service_today(request)
    state = customer_risk.load_customer(served, db, customer_id, as_of=day)
    factors = customer_risk.explain_customer(served, state)
    limit = customer_risk.recommend_customer_limit(served, state)
    invoices = customer_risk.predict_open_invoices(served, state.ledger, as_of=day)
    late = customer_risk.summarize_late_payment(invoices)
    lgd = served.bundle.policy.limits.lgd
    outputs: dict[str, Any] = {
        "as_of": day,
        "pd_12m": state.pd_12m,
        "grade": state.grade,
        "in_default": state.in_default,
        "exposure": state.exposure,
        "overdue_amount": state.overdue_amount,
        "worst_days_past_due": state.worst_days_past_due,
        "open_invoice_count": late.open_invoice_count,
        "p_late_open_exposure_weighted": late.p_late_exposure_weighted,
        "p_late_open_invoice_mean": late.p_late_invoice_mean,
        "expected_loss": round(state.pd_12m * lgd * state.exposure, 2),
        "current_limit": state.credit_limit,
        "recommended_limit": limit.recommended_limit,
        "limit_decision": limit.decision,
        "expected_monthly_sales": float(customer_risk.expected_monthly_sales(state.features)[0]),
    }
    reasons = [reason.to_dict() for reason in limit.reasons]
    factor_dicts = [factor.to_dict() for factor in factors]
    decision_id = decisions.record(
        DecisionRecord(
            kind="customer_risk",
            api_key_id=caller.key_id,
            model_name=served.model_name,
            model_version=model.version,
            policy_version=limit.policy_version,
            customer_id=customer_id,
            request={"customer_id": customer_id, "as_of": day},
            features=state.feature_record(),
            outputs=outputs,
            reasons={"decision": reasons, "factors": factor_dicts},
        )
    )
    return CustomerRiskOut(
        decision_id=decision_id,
        customer_id=customer_id,
        reasons=[DecisionReasonOut(**reason) for reason in reasons],
        top_factors=[FactorOut(**factor) for factor in factor_dicts],
        model_name=served.model_name,
        model_version=model.version,
        policy_version=limit.policy_version,
        **outputs,
    )


@router.post("/{customer_id}/orders/check", response_model=OrderCheckOut)
def check_order(
    caller: ScoreCaller,
    customer_id: CustomerIdPath,
    body: OrderCheckIn,
    model: ModelDep,
    db: DbDep,
    decisions: DecisionLogDep,
    request: Request,
) -> OrderCheckOut:
    """Release or hold a new order for an existing customer, naming why."""
    served = served_bundle(model)
    day = body.as_of or service_today(request)
    state = customer_risk.load_customer(served, db, customer_id, as_of=day)
    order = customer_risk.check_customer_order(served, state, order_amount=body.order_amount)
    outputs: dict[str, Any] = {
        "as_of": day,
        "action": order.action,
        "order_amount": body.order_amount,
        "open_exposure": state.exposure,
        "new_exposure": order.new_exposure_amount,
        "credit_limit": state.credit_limit,
        "limit_excess": order.limit_excess_amount,
        "worst_days_past_due": state.worst_days_past_due,
        "in_default": state.in_default,
        "pd_12m": state.pd_12m,
        "grade": state.grade,
        "expected_loss": order.expected_loss_amount,
    }
    reasons = [reason.to_dict() for reason in order.reasons]
    decision_id = decisions.record(
        DecisionRecord(
            kind="order_check",
            api_key_id=caller.key_id,
            model_name=served.model_name,
            model_version=model.version,
            policy_version=order.policy_version,
            customer_id=customer_id,
            request={"customer_id": customer_id, **body.model_dump(mode="json")},
            features=state.feature_record(),
            outputs=outputs,
            reasons={"decision": reasons},
        )
    )
    return OrderCheckOut(
        decision_id=decision_id,
        customer_id=customer_id,
        reasons=[DecisionReasonOut(**reason) for reason in reasons],
        model_name=served.model_name,
        model_version=model.version,
        policy_version=order.policy_version,
        order_reference=body.order_reference,
        **outputs,
    )


@router.get("/{customer_id}/invoices/predictions", response_model=InvoicePredictionsOut)
def predict_invoices(
    caller: ReadCaller,
    customer_id: CustomerIdPath,
    model: ModelDep,
    db: DbDep,
    decisions: DecisionLogDep,
    request: Request,
    as_of: AsOfQuery = None,
) -> InvoicePredictionsOut:
    """The customer's open invoices: probability of late payment, expected payment dates."""
    served = served_bundle(model)
    day = as_of or service_today(request)
    state = customer_risk.load_customer(served, db, customer_id, as_of=day)
    invoices = customer_risk.invoice_records(
        customer_risk.predict_open_invoices(served, state.ledger, as_of=day)
    )
    policy_version = served.bundle.policy.version
    decision_id = decisions.record(
        DecisionRecord(
            kind="invoice_predictions",
            api_key_id=caller.key_id,
            model_name=served.model_name,
            model_version=model.version,
            policy_version=policy_version,
            customer_id=customer_id,
            request={"customer_id": customer_id, "as_of": day},
            outputs={"as_of": day, "invoices": invoices},
        )
    )
    return InvoicePredictionsOut(
        decision_id=decision_id,
        customer_id=customer_id,
        as_of=day,
        invoices=[InvoicePredictionOut(**invoice) for invoice in invoices],
        model_name=served.model_name,
        model_version=model.version,
        policy_version=policy_version,
    )
