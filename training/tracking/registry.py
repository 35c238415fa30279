"""The model registry: register a run's bundle, look versions up, move aliases (champion,
challenger, previous), and keep the record of every promotion decision with its evidence.
Part of :mod:`training.tracking` (import it from there)."""


from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from creditrisk.training.tracking.names import EVIDENCE_ARTIFACT, PROMOTIONS_EXPERIMENT
from creditrisk.training.tracking.store import (
    ModelVersionRef,
    TrackingError,
    ensure_experiment,
    plain,
)

# --------------------------------------------------------------------------- registry


def register_model(
    run_id: str, artifact_path: str, model_name: str, *, tags: Mapping[str, str] | None = None
) -> str:
    """Register the model logged as ``artifact_path`` (its ``name``) in run ``run_id`` as a new
    version of ``model_name``; returns the version number as text."""
    run = MlflowClient().get_run(run_id)
    logged = mlflow.search_logged_models(
        experiment_ids=[run.info.experiment_id],
        filter_string=f"source_run_id = '{run_id}' AND name = '{artifact_path}'",
        output_format="list",
    )
    model_uri = f"models:/{logged[0].model_id}" if logged else f"runs:/{run_id}/{artifact_path}"
    try:
        version = mlflow.register_model(model_uri, model_name, tags=dict(tags or {}))
    except MlflowException as exc:
        raise TrackingError(
            f"cannot register {artifact_path!r} of run {run_id} as {model_name!r}: {exc}"
        ) from exc
    return str(version.version)


def model_version(model_name: str, version: str) -> ModelVersionRef:
    """One registered version; raises TrackingError if it does not exist."""
    try:
        found = MlflowClient().get_model_version(model_name, str(version))
    except MlflowException as exc:
        raise TrackingError(f"model {model_name!r} has no version {version!r}") from exc
    return _version_ref(found)


def alias_version(model_name: str, alias: str) -> ModelVersionRef | None:
    """The version the alias points to, or None when the alias (or the model) does not exist."""
    try:
        found = MlflowClient().get_model_version_by_alias(model_name, alias)
    except MlflowException:
        return None
    return _version_ref(found)


def _version_ref(found: Any) -> ModelVersionRef:
    return ModelVersionRef(
        name=str(found.name),
        version=str(found.version),
        run_id=str(found.run_id) if found.run_id else None,
        aliases=tuple(found.aliases or ()),
        tags=dict(found.tags or {}),
    )


def set_alias(model_name: str, alias: str, version: str) -> None:
    """Point ``alias`` (champion, challenger, previous) at ``version``; moves it if it exists."""
    try:
        MlflowClient().set_registered_model_alias(model_name, alias, str(version))
    except MlflowException as exc:
        raise TrackingError(
            f"cannot point alias {alias!r} of {model_name!r} at {version!r}: {exc}"
        ) from exc


def delete_alias(model_name: str, alias: str) -> None:
    """Remove ``alias`` from the model (no error if it is not set)."""
    if alias_version(model_name, alias) is not None:
        MlflowClient().delete_registered_model_alias(model_name, alias)


def set_version_tags(model_name: str, version: str, tags: Mapping[str, str]) -> None:
    """Tags on one registered version (shown in the registry UI)."""
    client = MlflowClient()
    for key, value in tags.items():
        client.set_model_version_tag(model_name, str(version), key, str(value))


def record_promotion(
    model_name: str,
    *,
    from_version: str | None,
    to_version: str,
    actor: str,
    decided_at: datetime,
    promoted: bool,
    evidence: Mapping[str, Any],
    experiment: str = PROMOTIONS_EXPERIMENT,
) -> str:
    """Keep the record of a promotion decision, accepted or refused: who, when, from which
    version to which, and the evidence. Returns the id of the run holding it.

    Written twice: a run in the ``promotions`` experiment (tags, and ``evidence.json``), and
    tags ``promotion.*`` on the candidate version (on the replaced champion too when accepted).
    A naive ``decided_at`` is taken as UTC.
    """
    when = decided_at if decided_at.tzinfo else decided_at.replace(tzinfo=UTC)
    decision = "promoted" if promoted else "refused"
    client = MlflowClient()
    experiment_id = ensure_experiment(experiment)
    tags = {
        "model_name": model_name,
        "from_version": from_version or "",
        "to_version": str(to_version),
        "actor": actor,
        "decided_at": when.isoformat(),
        "decision": decision,
    }
    run = client.create_run(
        experiment_id,
        start_time=int(when.timestamp() * 1000),
        tags=tags,
        run_name=f"{model_name} {f'v{from_version}' if from_version else 'none'} -> "
        f"v{to_version} {decision}",
    )
    run_id = str(run.info.run_id)
    client.log_dict(run_id, {**tags, "evidence": plain(evidence)}, EVIDENCE_ARTIFACT)
    client.set_terminated(run_id, "FINISHED", end_time=int(when.timestamp() * 1000))
    set_version_tags(
        model_name,
        str(to_version),
        {
            "promotion.decision": decision,
            "promotion.decided_at": when.isoformat(),
            "promotion.actor": actor,
            "promotion.from_version": from_version or "",
            "promotion.record_run_id": run_id,
        },
    )
    if promoted and from_version:
        set_version_tags(
            model_name,
            str(from_version),
            {"replaced_by_version": str(to_version), "replaced_at": when.isoformat()},
        )
    return run_id


def promotion_evidence(run_id: str) -> dict[str, Any]:
    """The evidence JSON of one promotion record."""
    with tempfile.TemporaryDirectory() as directory:
        local = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path=EVIDENCE_ARTIFACT, dst_path=directory
        )
        return dict(json.loads(Path(local).read_text()))

