"""The record of every training run and every promotion, kept in MLflow.

Split by topic: :mod:`.names` (shared names and metric groups, no MLflow import),
:mod:`.store` (where the store is, experiments, errors),
:mod:`.runs` (one training run and its artifacts), :mod:`.registry` (versions, aliases,
promotion records); this module is their one public face.

This package is the only part of ``training`` that writes to MLflow; everything else hands it
plain values (dicts of metrics, matplotlib figures, DataFrames). Usage inside a training command::

    tracking.configure("sqlite:///mlflow.db")
    with tracking.training_run(tracking.TRAINING_EXPERIMENT, "lgbm", {"model": "pd"}) as run_id:
        tracking.log_config(config)
        tracking.log_lineage(digest, as_of_start, as_of_end, row_counts, label_rates)
        tracking.log_metrics(metrics, prefix="default_test")
        tracking.log_figures({"default_roc": roc_figure(...)})
        tracking.log_evaluation_frame("default_test", frame)
        model_uri = tracking.log_model(bundle, name="bundle", signature=..., input_example=...)
    version = tracking.register_model(run_id, "bundle", "creditrisk")
    tracking.set_alias("creditrisk", tracking.CHALLENGER_ALIAS, version)

The store is whatever ``configure`` was given (MLflow keeps it process-wide). The registry needs
a database-backed store: a SQLite file is the default; a tracking server URL works the same.
For a SQLite store the artifacts go next to the database file (``<dir>/mlartifacts/<experiment>``),
never to the current working directory.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from creditrisk.training.tracking.names import (
    CHALLENGER_ALIAS,
    CHAMPION_ALIAS,
    CONFIG_ARTIFACT,
    DATASET_DIGEST_MAX_CHARS,
    DEFAULT_MODEL_NAME,
    EVALUATION_COLUMNS,
    EVALUATION_DIR,
    EVIDENCE_ARTIFACT,
    LINEAGE_ARTIFACT,
    METRIC_GROUPS,
    PARAM_VALUE_MAX_CHARS,
    PLOTS_DIR,
    PREVIOUS_ALIAS,
    PROMOTIONS_EXPERIMENT,
    TRAINING_EXPERIMENT,
    metric_name,
    mlflow_metric_key,
)

if TYPE_CHECKING:
    from creditrisk.training.tracking.registry import (
        alias_version,
        delete_alias,
        model_version,
        promotion_evidence,
        record_promotion,
        register_model,
        set_alias,
        set_version_tags,
    )
    from creditrisk.training.tracking.runs import (
        evaluation_frame_names,
        load_evaluation_frame,
        log_config,
        log_evaluation_frame,
        log_figures,
        log_lineage,
        log_metrics,
        log_model,
        training_run,
    )
    from creditrisk.training.tracking.store import (
        ModelVersionRef,
        TrackingError,
        configure,
        ensure_experiment,
        experiment_artifact_root,
        flatten_config,
        plain,
        sqlite_artifact_root,
    )

# The names above come from .names at once (no MLflow import: the CLI's --help reads them);
# everything that needs MLflow is imported on first use (PEP 562), from the module below.
_LAZY = {
    **dict.fromkeys(
        ("alias_version", "delete_alias", "model_version", "promotion_evidence",
         "record_promotion", "register_model", "set_alias", "set_version_tags"),
        "registry",
    ),
    **dict.fromkeys(
        ("evaluation_frame_names", "load_evaluation_frame", "log_config",
         "log_evaluation_frame", "log_figures", "log_lineage", "log_metrics", "log_model",
         "training_run"),
        "runs",
    ),
    **dict.fromkeys(
        ("ModelVersionRef", "TrackingError", "configure", "ensure_experiment",
         "experiment_artifact_root", "flatten_config", "plain", "sqlite_artifact_root"),
        "store",
    ),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "CHALLENGER_ALIAS",
    "CHAMPION_ALIAS",
    "CONFIG_ARTIFACT",
    "DATASET_DIGEST_MAX_CHARS",
    "DEFAULT_MODEL_NAME",
    "EVALUATION_COLUMNS",
    "EVALUATION_DIR",
    "EVIDENCE_ARTIFACT",
    "LINEAGE_ARTIFACT",
    "METRIC_GROUPS",
    "PARAM_VALUE_MAX_CHARS",
    "PLOTS_DIR",
    "PREVIOUS_ALIAS",
    "PROMOTIONS_EXPERIMENT",
    "TRAINING_EXPERIMENT",
    "ModelVersionRef",
    "TrackingError",
    "alias_version",
    "configure",
    "delete_alias",
    "ensure_experiment",
    "evaluation_frame_names",
    "experiment_artifact_root",
    "flatten_config",
    "load_evaluation_frame",
    "log_config",
    "log_evaluation_frame",
    "log_figures",
    "log_lineage",
    "log_metrics",
    "log_model",
    "metric_name",
    "mlflow_metric_key",
    "model_version",
    "plain",
    "promotion_evidence",
    "record_promotion",
    "register_model",
    "set_alias",
    "set_version_tags",
    "sqlite_artifact_root",
    "training_run",
]
