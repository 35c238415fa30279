"""``POST /v1/applications`` (score): a new customer asks for credit.

The handler scores the applicant (:func:`creditrisk.serving.applications.score_applicant`,
the bundle's dict fast path), writes the decision to the decision log and answers with the
decision id.

``async def``: scoring is pure CPU from memory and runs on the event loop; the decision row
is written by :meth:`creditrisk.serving.decision_log.DecisionLog.record_async` (on the loop
for a file SQLite database, else a worker thread) and the answer is sent after its commit.
A plain ``def`` handler measured the same throughput with twice the p99 (16 threads
contending for the GIL with the loop). The handler asks FastAPI for two things only (the
body and :data:`ScoringContextDep`: the ``score`` caller with its decision context, one
node): every dependency node costs CPU per request.
The answer is validated once as :class:`ApplicationOut` and sent as its JSON
(:func:`json_answer`), not validated a second time by FastAPI's response model.

A well-formed request (a JSON body that validates, no ``Idempotency-Key``) has its arguments
bound by :func:`plain_application_arguments` instead of FastAPI's dependency solving
(:mod:`creditrisk.serving.api.fast_route`); anything else, every refusal included, goes
FastAPI's way.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from creditrisk.serving.api.answers import (
    decision_record,
    json_answer,
    log_decision_async,
    replayed_application,
)
from creditrisk.serving.api.auth import bearer_scheme, header_scheme
from creditrisk.serving.api.dependencies import (
    IdempotencyKeyHeader,
    ScoringContextDep,
    plausible_as_of,
    scoring_context,
)
from creditrisk.serving.api.error_responses import ROUTE_ERRORS, error_responses
from creditrisk.serving.api.fast_route import PlainArgumentsRoute
from creditrisk.serving.api.schemas import ApplicationIn, ApplicationOut
from creditrisk.serving.applications import score_applicant
from creditrisk.serving.decision_log import IDEMPOTENCY_KEY_HEADER
from creditrisk.serving.money import reporting_currency

router = APIRouter(prefix="/v1", tags=["decisions"], route_class=PlainArgumentsRoute)


@router.post(
    "/applications",
    response_model=ApplicationOut,
    responses=error_responses(*ROUTE_ERRORS, 400, 409, 413, 422),
)
async def score_application(
    scoring: ScoringContextDep,
    body: ApplicationIn,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    """Score a new applicant: PD, grade, decision, recommended limit and the reasons. A
    retry with the same ``Idempotency-Key`` gets the first decision back."""
    caller, context = scoring.caller, scoring.context
    decisions, served = context.decisions, context.served
    if idempotency_key is not None:
        first = await decisions.first_async(caller.key_id, idempotency_key, body)
        if first is not None:
            return json_answer(replayed_application(first))
    plausible_as_of(body.as_of, context.latest_as_of, location="body")
    as_of = body.as_of or context.today
    score = score_applicant(served, body.model_dump(), as_of=as_of)
    policy = served.bundle.policy
    outputs: dict[str, Any] = {
        "as_of": as_of,
        "pd_12m": score.pd_12m,
        "grade": str(score.grade),
        "grade_name": policy.scale.band(score.grade).name,
        "decision": score.decision,
        "recommended_limit": round(score.recommended_limit, 2),
        "expected_loss": round(score.expected_loss, 2),
        "currency": reporting_currency(policy),
    }
    reasons = [{"code": code, "text": text} for code, text in score.decision_reasons]
    factors = [factor.to_dict() for factor in score.factors]
    record = decision_record(
        "application",
        caller=caller,
        model=context.model,
        served=served,
        policy_version=score.policy_version,
        request=body,
        features=score.features,
        outputs=outputs,
        reasons={"decision": reasons, "factors": factors},
        idempotency_key=idempotency_key,
    )
    answer = ApplicationOut.model_validate({
        **await log_decision_async(decisions, record),
        **outputs,
        "reasons": reasons,
        "top_factors": factors,
        "external_reference": body.external_reference,
    })
    return json_answer(answer)


async def plain_application_arguments(request: Request) -> dict[str, Any] | None:
    """:func:`score_application`'s arguments as FastAPI would bind them, for a request with
    an ``application/json`` body that is a valid :class:`ApplicationIn` and no
    ``Idempotency-Key``: the ``score`` caller is authenticated the same way (the same
    schemes, :func:`scoring_context`; its 401/403/503 raised as FastAPI would raise them,
    after the body was read and parsed and before it is validated). None for anything else:
    FastAPI then solves the request itself, refusals included."""
    headers = request.headers
    if headers.get("content-type") != "application/json" or IDEMPOTENCY_KEY_HEADER in headers:
        return None
    try:
        raw = await request.body()
    except HTTPException:
        raise  # the body limit's 413 or a duplicate key's 422, as FastAPI re-raises them
    except Exception:  # FastAPI answers 400 for a body it cannot read: let it
        return None
    if not raw:
        return None
    try:
        payload = await request.json()
    except ValueError:
        return None  # FastAPI parses it again and answers 422 json_invalid
    if not isinstance(payload, dict):
        return None
    try:
        body = ApplicationIn.model_validate(payload)
    except ValidationError:
        return None
    scoring = await scoring_context(request, await bearer_scheme(request),
                                    await header_scheme(request))
    return {"scoring": scoring, "body": body, "idempotency_key": None}


# a function attribute PlainArgumentsRoute reads (mypy knows no attributes on functions)
score_application.plain_arguments = plain_application_arguments  # type: ignore[attr-defined]
