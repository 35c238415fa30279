"""The record of every training run and every promotion, kept in MLflow.

This is the only module of ``training`` that writes to MLflow; everything else hands it plain
values (dicts of metrics, matplotlib figures, DataFrames). Usage inside a training command::

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

import json
import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import yaml
from matplotlib.figure import Figure
from mlflow import MlflowClient
from mlflow.data.code_dataset_source import CodeDatasetSource
from mlflow.data.meta_dataset import MetaDataset
from mlflow.exceptions import MlflowException

from creditrisk.training.errors import TrainingError

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
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")

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


# --------------------------------------------------------------------------- training run


@contextmanager
def training_run(
    experiment: str, run_name: str, tags: Mapping[str, str] | None = None
) -> Iterator[str]:
    """Open one MLflow run (yields its id); the ``log_*`` functions below write to it. The run
    ends FINISHED, or FAILED if the block raises."""
    experiment_id = ensure_experiment(experiment)
    with mlflow.start_run(
        experiment_id=experiment_id, run_name=run_name, tags=dict(tags or {})
    ) as run:
        yield str(run.info.run_id)


def _active_run_id() -> str:
    run = mlflow.active_run()
    if run is None:
        raise TrackingError("no active MLflow run: call this inside `with training_run(...)`")
    return str(run.info.run_id)


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


def log_config(config: Mapping[str, Any]) -> None:
    """The run's configuration: flattened into params (searchable, diffable) and kept whole as
    ``config.yaml`` (re-runnable)."""
    _active_run_id()
    mlflow.log_params(flatten_config(config))
    mlflow.log_text(yaml.safe_dump(plain(config), sort_keys=False), CONFIG_ARTIFACT)


def log_lineage(
    ledger_digest: str,
    as_of_start: date | str,
    as_of_end: date | str,
    row_counts: Mapping[str, int],
    label_rates: Mapping[str, float],
    *,
    dataset_name: str = "ledger",
) -> None:
    """Which data the run learned from: the ledger's digest, the as-of range of the snapshots,
    rows and event rate per split (train, calibration, test, ...).

    Written as params (``lineage.*``), tags (ledger_digest, as_of_start, as_of_end, for search),
    ``lineage/dataset.json``, and one MLflow dataset input per split (metadata only, no rows
    copied) so the MLflow UI shows the dataset column.
    """
    _active_run_id()
    start, end = str(plain(as_of_start)), str(plain(as_of_end))
    params = {
        "lineage.ledger_digest": ledger_digest,
        "lineage.as_of_start": start,
        "lineage.as_of_end": end,
    }
    params |= {f"lineage.rows.{split}": str(int(count)) for split, count in row_counts.items()}
    params |= {
        f"lineage.label_rate.{split}": f"{float(rate):.6g}" for split, rate in label_rates.items()
    }
    mlflow.log_params(params)
    mlflow.set_tags({"ledger_digest": ledger_digest, "as_of_start": start, "as_of_end": end})
    lineage = {
        "dataset": dataset_name,
        "ledger_digest": ledger_digest,
        "as_of_start": start,
        "as_of_end": end,
        "row_counts": {split: int(count) for split, count in row_counts.items()},
        "label_rates": {split: float(rate) for split, rate in label_rates.items()},
    }
    mlflow.log_dict(lineage, LINEAGE_ARTIFACT)
    for split, count in row_counts.items():
        source = CodeDatasetSource(
            tags={
                "ledger_digest": ledger_digest,
                "as_of_start": start,
                "as_of_end": end,
                "split": split,
                "rows": str(int(count)),
            }
        )
        dataset = MetaDataset(  # type: ignore[abstract]  # MLflow's class, usable as documented
            source, name=f"{dataset_name}-{split}", digest=ledger_digest[:DATASET_DIGEST_MAX_CHARS]
        )
        mlflow.log_input(dataset, context=split)


def log_metrics(metrics: Mapping[str, float], *, prefix: str = "") -> None:
    """Numbers of the run (``prefix_`` + key). NaN is kept (a metric undefined on this data)."""
    _active_run_id()
    values: dict[str, float] = {}
    for key, value in metrics.items():
        try:
            values[f"{prefix}_{key}" if prefix else key] = float(value)
        except (TypeError, ValueError) as exc:
            raise TrackingError(f"metric {key!r} is not a number: {value!r}") from exc
    mlflow.log_metrics(values)


def log_figures(figures: Mapping[str, Figure]) -> None:
    """Each figure as ``plots/<name>.png``."""
    _active_run_id()
    for name, figure in figures.items():
        _check_name(name, "figure")
        mlflow.log_figure(figure, f"{PLOTS_DIR}/{name}.png")


def log_evaluation_frame(name: str, frame: pd.DataFrame) -> None:
    """Test-set predictions as ``evaluation/<name>.parquet`` so that any later comparison or
    promotion gate can recompute curves and metrics, or re-score the same rows with another
    model. Needs at least row_id, as_of, y_true and score; keep the feature columns as well when
    the frame is to be re-scored (the champion's out-of-time set)."""
    _active_run_id()
    _check_name(name, "evaluation frame")
    missing = [column for column in EVALUATION_COLUMNS if column not in frame.columns]
    if missing:
        raise TrackingError(f"evaluation frame {name!r} lacks columns {missing}")
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / f"{name}.parquet"
        frame.to_parquet(path, index=False)
        mlflow.log_artifact(str(path), artifact_path=EVALUATION_DIR)


def log_model(python_model: Any, *, name: str = "bundle", **options: Any) -> str:
    """Log a pyfunc model (``mlflow.pyfunc.log_model``; ``options`` are passed on: signature,
    input_example, artifacts, code_paths, pip_requirements...). Returns its model URI."""
    _active_run_id()
    info = mlflow.pyfunc.log_model(name=name, python_model=python_model, **options)
    return str(info.model_uri)


def _check_name(name: str, what: str) -> None:
    if not _SAFE_NAME.match(name):
        raise TrackingError(f"{what} name {name!r} must use only letters, digits, '_', '.', '-'")


# --------------------------------------------------------------------------- reading runs


def evaluation_frame_names(run_id: str) -> list[str]:
    """Names of the evaluation frames a run logged (``evaluation/<name>.parquet``)."""
    artifacts = MlflowClient().list_artifacts(run_id, EVALUATION_DIR)
    return sorted(
        Path(item.path).stem
        for item in artifacts
        if not item.is_dir and item.path.endswith(".parquet")
    )


def load_evaluation_frame(
    run_id: str, name: str, *, columns: list[str] | None = None
) -> pd.DataFrame:
    """The evaluation frame ``name`` logged by run ``run_id`` (optionally only some columns)."""
    _check_name(name, "evaluation frame")
    with tempfile.TemporaryDirectory() as directory:
        try:
            local = mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=f"{EVALUATION_DIR}/{name}.parquet", dst_path=directory
            )
        except (MlflowException, OSError) as exc:
            raise TrackingError(f"run {run_id} has no evaluation frame {name!r}: {exc}") from exc
        return pd.read_parquet(local, columns=columns)


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
