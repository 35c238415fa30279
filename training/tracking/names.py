"""The shared names of the MLflow record (experiments, aliases, artifact paths, limits) and
how a metric is grouped in MLflow: plain constants, importable without MLflow (the CLI shows
them in ``--help``). Part of :mod:`training.tracking` (import it from there)."""

from __future__ import annotations

import re

TRAINING_EXPERIMENT = "creditrisk"
DEFAULT_MODEL_NAME = "creditrisk"
PROMOTIONS_EXPERIMENT = "promotions"
CHAMPION_ALIAS = "champion"
CHALLENGER_ALIAS = "challenger"
PREVIOUS_ALIAS = "previous"

CONFIG_ARTIFACT = "config.yaml"
LINEAGE_ARTIFACT = "lineage/dataset.json"
PLOTS_DIR = "plots"
EVALUATION_DIR = "evaluation"
EVIDENCE_ARTIFACT = "evidence.json"
EVALUATION_COLUMNS = ("row_id", "as_of", "y_true", "score")

PARAM_VALUE_MAX_CHARS = 6000
DATASET_DIGEST_MAX_CHARS = 32
SAFE_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")

METRIC_GROUPS = ("default", "late", "open_invoice")
"""The models whose metrics are grouped in MLflow: ``default_test_roc_auc`` is logged as
``default/test_roc_auc``, so the MLflow UI shows one section per model instead of a hundred
single-point charts in alphabetical order."""
METRIC_GROUP_SEPARATOR = "/"


def mlflow_metric_key(name: str) -> str:
    """The key a metric is logged under in MLflow (``default_test_auc`` -> ``default/test_auc``);
    names outside :data:`METRIC_GROUPS` are logged as they are."""
    for group in sorted(METRIC_GROUPS, key=len, reverse=True):
        if name.startswith(f"{group}_") and len(name) > len(group) + 1:
            return f"{group}{METRIC_GROUP_SEPARATOR}{name[len(group) + 1:]}"
    return name


def metric_name(key: str) -> str:
    """The metric's name in this code base from its MLflow key (inverse of
    :func:`mlflow_metric_key`); the code reads and writes names, only MLflow sees keys."""
    group, separator, rest = key.partition(METRIC_GROUP_SEPARATOR)
    if separator and group in METRIC_GROUPS and rest:
        return f"{group}_{rest}"
    return key
