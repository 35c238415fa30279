"""``GET /v1/decisions/{decision_id}`` (read): a decision from the decision log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from creditrisk.serving.api.dependencies import DecisionLogDep, ReadCaller
from creditrisk.serving.api.error_responses import ROUTE_ERRORS, error_responses
from creditrisk.serving.api.schemas import DecisionOut
from creditrisk.serving.decision_log import DECISION_ID_PATTERN

router = APIRouter(prefix="/v1/decisions", tags=["decisions"])


@router.get(
    "/{decision_id}",
    response_model=DecisionOut,
    responses=error_responses(*ROUTE_ERRORS, 404, 422),
)
def read_decision(
    decision_id: Annotated[str, Path(pattern=DECISION_ID_PATTERN, description="32 hex chars")],
    caller: ReadCaller,
    log: DecisionLogDep,
) -> DecisionOut:
    """A decision from the log: inputs, features used, outputs, reasons, versions, caller."""
    stored = log.get(decision_id)
    return DecisionOut(
        decision_id=stored.decision_id,
        created_at=stored.created_at,
        kind=stored.kind,
        customer_id=stored.customer_id,
        api_key_id=stored.api_key_id,
        model_name=stored.model_name,
        model_version=stored.model_version,
        policy_version=stored.policy_version,
        request=stored.request,
        features=stored.features,
        outputs=stored.outputs,
        reasons=stored.reasons,
    )
