"""Decide, log, answer: the one step every decision handler ends with.

A handler computes its outputs with the business modules, then calls :func:`log_decision`,
which writes the decision log row (committed before it returns) and gives back the fields
every decision answer carries: ``decision_id``, ``model_name``, ``model_version``,
``policy_version``. The handler splats them into its response model, so no answer can leave
without its log row or its versions.
"""

from __future__ import annotations

from typing import Any

from fastapi import Response
from pydantic import BaseModel

from creditrisk.serving.api.errors import JSON_MEDIA_TYPE
from creditrisk.serving.api.schemas import ApplicationOut, OrderCheckOut
from creditrisk.serving.api_keys import ApiKeyIdentity
from creditrisk.serving.decision_log import DecisionLog, DecisionRecord, StoredDecision
from creditrisk.serving.model_holder import LoadedModel
from creditrisk.serving.registry import ServedBundle


def json_answer(answer: BaseModel) -> Response:
    """``answer`` (already a validated response model) as the JSON response FastAPI would
    send for it: returning a ``Response`` skips FastAPI's second validation and
    serialisation of the route's ``response_model`` (which still documents the answer)."""
    return Response(answer.__pydantic_serializer__.to_json(answer), media_type=JSON_MEDIA_TYPE)


def decision_record(
    kind: str,
    *,
    caller: ApiKeyIdentity,
    model: LoadedModel,
    served: ServedBundle,
    policy_version: str,
    request: Any,
    outputs: Any,
    customer_id: str | None = None,
    features: Any = None,
    reasons: Any = None,
    idempotency_key: str | None = None,
) -> DecisionRecord:
    """The decision-log record of one answer."""
    return DecisionRecord(
        kind=kind,
        api_key_id=caller.key_id,
        model_name=served.model_name,
        model_version=model.version,
        policy_version=policy_version,
        customer_id=customer_id,
        request=request,
        features=features,
        outputs=outputs,
        reasons=reasons,
        idempotency_key=idempotency_key,
    )


def stamp(record: DecisionRecord, decision_id: str) -> dict[str, Any]:
    """The fields every decision answer carries."""
    return {
        "decision_id": decision_id,
        "model_name": record.model_name,
        "model_version": record.model_version,
        "policy_version": record.policy_version,
    }


def stored_stamp(stored: StoredDecision) -> dict[str, Any]:
    """:func:`stamp` of a decision read back from the log."""
    return {
        "decision_id": stored.decision_id,
        "model_name": stored.model_name,
        "model_version": stored.model_version,
        "policy_version": stored.policy_version,
    }


def replayed_application(stored: StoredDecision) -> ApplicationOut:
    """The answer first given for an application (a POST repeated with its Idempotency-Key)."""
    reasons = stored.reasons or {}
    return ApplicationOut(
        **stored_stamp(stored),
        **stored.outputs,
        reasons=reasons.get("decision", []),
        top_factors=reasons.get("factors", []),
        external_reference=(stored.request or {}).get("external_reference"),
    )


def replayed_order_check(stored: StoredDecision) -> OrderCheckOut:
    """The answer first given for an order check (repeated with its Idempotency-Key)."""
    return OrderCheckOut(
        **stored_stamp(stored),
        **stored.outputs,
        customer_id=stored.customer_id,
        reasons=(stored.reasons or {}).get("decision", []),
        order_reference=(stored.request or {}).get("order_reference"),
    )


def log_decision(log: DecisionLog, record: DecisionRecord) -> dict[str, Any]:
    """Write ``record`` (blocking: from a ``def`` handler); the answer's stamp."""
    return stamp(record, log.record(record))


async def log_decision_async(log: DecisionLog, record: DecisionRecord) -> dict[str, Any]:
    """:func:`log_decision` from an ``async def`` handler (the insert runs in a thread)."""
    return stamp(record, await log.record_async(record))
