"""The MLflow store behind every training record: where it is, its experiments, the shared
names (experiments, aliases, artifact paths), :class:`TrackingError` and plain values.

Part of :mod:`training.tracking` (import it from there)."""


from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient

from creditrisk.training.errors import TrainingError
from creditrisk.training.tracking.names import PARAM_VALUE_MAX_CHARS

# Set by configure(): the store it was given and an explicit artifact root for it, if any.
_configured: dict[str, str | None] = {"tracking_uri": None, "artifact_root": None}


class TrackingError(TrainingError, RuntimeError):
    """An MLflow record that is missing or cannot be written (names the run, model or file)."""


@dataclass(frozen=True)
class ModelVersionRef:
    """One registered model version: its name, version number, the training run it came from,
    its aliases (champion, challenger, previous) and tags."""

    name: str
    version: str
    run_id: str | None
    aliases: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def uri(self) -> str:
        """``models:/<name>/<version>``, loadable with ``mlflow.pyfunc.load_model``."""
        return f"models:/{self.name}/{self.version}"



# --------------------------------------------------------------------------- store


def configure(tracking_uri: str, *, artifact_root: str | Path | None = None) -> None:
    """Point tracking and registry at one store. For a ``sqlite:///`` file the artifact root
    defaults to ``mlartifacts`` next to the database file; pass ``artifact_root`` to override
    (for a tracking server, leave it None and the server decides)."""
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    _configured["tracking_uri"] = tracking_uri
    _configured["artifact_root"] = (
        Path(artifact_root).resolve().as_uri() if artifact_root is not None else None
    )


def experiment_artifact_root() -> str | None:
    """Where new experiments of the current store put their artifacts (None: MLflow decides)."""
    current = mlflow.get_tracking_uri()
    if _configured["artifact_root"] and _configured["tracking_uri"] == current:
        return _configured["artifact_root"]
    root = sqlite_artifact_root(current)
    return root.as_uri() if root is not None else None


def sqlite_artifact_root(tracking_uri: str) -> Path | None:
    """``sqlite:///dir/mlflow.db`` -> ``dir/mlartifacts`` (absolute); None for other stores."""
    prefix = "sqlite:///"
    if not tracking_uri.startswith(prefix):
        return None
    database = tracking_uri[len(prefix) :].split("?", 1)[0]
    if not database or database == ":memory:":
        return None
    return Path(database).resolve().parent / "mlartifacts"


def ensure_experiment(name: str) -> str:
    """The id of experiment ``name``, created (with the configured artifact root) if missing,
    restored if it was deleted."""
    client = MlflowClient()
    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        root = experiment_artifact_root()
        location = f"{root}/{_slug(name)}" if root else None
        return client.create_experiment(name, artifact_location=location)
    if experiment.lifecycle_stage == "deleted":
        client.restore_experiment(experiment.experiment_id)
    return str(experiment.experiment_id)


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-]+", "-", name).strip("-") or "experiment"


def plain(value: Any) -> Any:
    """A config value as plain YAML/JSON data: dates as ISO text, paths as text, tuples as
    lists, numpy scalars as Python numbers, enums as their value."""
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [plain(item) for item in items]
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def flatten_config(config: Mapping[str, Any], *, separator: str = ".") -> dict[str, str]:
    """Nested config -> ``{"model.learning_rate": "0.05", ...}``: MLflow params are flat text.
    Lists become JSON text; values longer than MLflow's limit are cut with a marker."""
    flat: dict[str, str] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping) and value:
            for key, item in value.items():
                walk(f"{prefix}{separator}{key}" if prefix else str(key), item)
            return
        value = plain(value)
        text = json.dumps(value) if isinstance(value, list | dict) else str(value)
        if len(text) > PARAM_VALUE_MAX_CHARS:
            text = text[: PARAM_VALUE_MAX_CHARS - 14] + " ...(truncated)"
        flat[prefix] = text

    for key, item in config.items():
        walk(str(key), item)
    return flat
