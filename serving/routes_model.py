"""``GET /v1/model`` (read): which bundle is served, how it scored in training, its features."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import APIRouter

from creditrisk.models.spec import FeatureSpec
from creditrisk.serving.decisions import dumps_json
from creditrisk.serving.dependencies import ModelDep, ReadCaller
from creditrisk.serving.registry import served_bundle
from creditrisk.serving.schemas import FeatureOut, ModelOut

router = APIRouter(prefix="/v1", tags=["model"])


def feature_list(spec: FeatureSpec) -> list[FeatureOut]:
    """The spec's features with their analyst descriptions and risk directions."""
    return [
        FeatureOut(name=name, description=description, direction=direction)
        for name, description, direction in zip(
            spec.names, spec.descriptions, spec.monotone, strict=True
        )
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


@router.get("/model", response_model=ModelOut)
async def model_info(caller: ReadCaller, model: ModelDep) -> ModelOut:
    """Model name and version, training run and metrics, policy version, features."""
    served = served_bundle(model)
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
        metadata=json_safe(bundle.metadata),
    )
