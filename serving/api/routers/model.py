"""The model resource.

``GET /v1/model`` (read) says which bundle is served, how it scored in training, its features,
the applicant inputs' accepted ranges and its default definition; ``POST /v1/admin/reload``
(admin) re-resolves the alias now."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query

from creditrisk.features.applicant import FIELD_FEATURES
from creditrisk.models.applicant_inputs import REFUSED_OUTSIDE_RANGE, input_ranges
from creditrisk.models.spec import FeatureSpec
from creditrisk.serving.api.dependencies import (
    AdminCaller,
    HolderDep,
    MetricsDep,
    ModelDep,
    ReadCaller,
    ServedDep,
)
from creditrisk.serving.api.error_responses import ROUTE_ERRORS, error_responses
from creditrisk.serving.api.schemas import (
    ApplicantInputOut,
    DefaultDefinitionOut,
    FeatureOut,
    ModelOut,
    ReloadOut,
)
from creditrisk.serving.decision_log import dumps_json
from creditrisk.serving.model_holder import refresh_in_thread

logger = logging.getLogger("creditrisk.model")

router = APIRouter(prefix="/v1", tags=["model"])


def feature_list(spec: FeatureSpec) -> list[FeatureOut]:
    """The spec's features with their analyst descriptions and risk directions."""
    return [
        FeatureOut(name=name, description=description, direction=direction)
        for name, description, direction in zip(
            spec.names, spec.descriptions, spec.monotone, strict=True
        )
    ]


def applicant_inputs(spec: FeatureSpec) -> list[ApplicantInputOut]:
    """Each numeric applicant input's training range, and whether a value outside it is
    refused (422) or held at the edge."""
    return [
        ApplicantInputOut(
            field=field,
            feature=FIELD_FEATURES[field],
            low=low,
            high=high,
            outside_range="refused" if field in REFUSED_OUTSIDE_RANGE else "held at the edge",
        )
        for field, (low, high) in input_ranges(spec).items()
    ]


def json_safe(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Bundle metadata as JSON values (numpy and dates converted; anything else as text)."""
    out: dict[str, Any] = {}
    for key, value in metadata.items():
        try:
            out[str(key)] = orjson.loads(dumps_json(value))
        except TypeError:
            out[str(key)] = str(value)
    return out


@router.get("/model", response_model=ModelOut, responses=error_responses(*ROUTE_ERRORS))
async def model_info(caller: ReadCaller, model: ModelDep, served: ServedDep) -> ModelOut:
    """Model name and version, training run and metrics, policy version, features."""
    bundle = served.bundle
    return ModelOut(
        model_name=served.model_name,
        model_version=model.version,
        policy_version=bundle.policy.version,
        source_uri=model.ref.uri,
        run_id=served.run_id,
        training_metrics=dict(served.training_metrics),
        customer_features=feature_list(bundle.customer_spec),
        invoice_features=feature_list(bundle.invoice_spec),
        applicant_inputs=applicant_inputs(bundle.customer_spec),
        default_definition=DefaultDefinitionOut(
            days_past_due=bundle.default_definition.days_past_due,
            event_types=list(bundle.default_definition.event_types),
        ),
        metadata=json_safe(bundle.metadata),
    )


@router.post(
    "/admin/reload",
    response_model=ReloadOut,
    tags=["admin"],
    responses=error_responses(*ROUTE_ERRORS, 422),
)
async def reload_model(
    caller: AdminCaller,
    holder: HolderDep,
    metrics: MetricsDep,
    force: Annotated[bool, Query(description="reload even if the version did not move")] = False,
) -> ReloadOut:
    """Re-resolve the model alias now and swap in the new bundle if it moved (admin only)."""
    outcome = await refresh_in_thread(holder, metrics, force=force)
    logger.info("admin reload by key %s: %s", caller.key_id, outcome)
    return ReloadOut(
        previous_version=outcome.previous_version,
        current_version=outcome.current_version,
        changed=outcome.changed,
    )
