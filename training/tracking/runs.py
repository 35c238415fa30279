"""One training run in MLflow: open it, log configuration, lineage, metrics, figures,
evaluation frames and the model; read evaluation frames back (the promotion gate re-scores
them). Part of :mod:`training.tracking` (import it from there)."""


from __future__ import annotations

import tempfile
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import yaml
from matplotlib.figure import Figure
from mlflow import MlflowClient
from mlflow.data.code_dataset_source import CodeDatasetSource
from mlflow.data.meta_dataset import MetaDataset
from mlflow.exceptions import MlflowException

from creditrisk.training.tracking.names import (
    CONFIG_ARTIFACT,
    DATASET_DIGEST_MAX_CHARS,
    EVALUATION_COLUMNS,
    EVALUATION_DIR,
    LINEAGE_ARTIFACT,
    PLOTS_DIR,
    SAFE_NAME,
    mlflow_metric_key,
)
from creditrisk.training.tracking.store import (
    TrackingError,
    ensure_experiment,
    flatten_config,
    plain,
)

# --------------------------------------------------------------------------- training run


@contextmanager
def training_run(
    experiment: str, run_name: str, tags: Mapping[str, str] | None = None
) -> Iterator[str]:
    """Open one MLflow run (yields its id); the ``log_*`` functions below write to it. The run
    ends FINISHED, or FAILED if the block raises.

    Re-entrant: inside an open run of the same experiment (a caller that opened the run before
    fitting, so that its duration is the whole training) it names and tags that run and yields
    its id; the outer block ends it."""
    experiment_id = ensure_experiment(experiment)
    active = mlflow.active_run()
    if active is not None and active.info.experiment_id == experiment_id:
        mlflow.set_tags({**dict(tags or {}), "mlflow.runName": run_name})
        yield str(active.info.run_id)
        return
    with mlflow.start_run(
        experiment_id=experiment_id, run_name=run_name, tags=dict(tags or {})
    ) as run:
        yield str(run.info.run_id)


def _active_run_id() -> str:
    run = mlflow.active_run()
    if run is None:
        raise TrackingError("no active MLflow run: call this inside `with training_run(...)`")
    return str(run.info.run_id)


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
    """Numbers of the run (``prefix_`` + key). NaN is kept (a metric undefined on this data).
    Logged under the grouped MLflow key (:func:`.names.mlflow_metric_key`: ``default_test_auc``
    as ``default/test_auc``) so the MLflow UI shows one section per model; read them back by
    name with :func:`.names.metric_name`."""
    _active_run_id()
    values: dict[str, float] = {}
    for key, value in metrics.items():
        try:
            values[mlflow_metric_key(f"{prefix}_{key}" if prefix else key)] = float(value)
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


NO_INPUT_EXAMPLE_WARNING = r".*An input example was not provided when logging the model"
"""MLflow's reminder, when a model is logged with a signature and no input example."""


def log_model(python_model: Any, *, name: str = "bundle", **options: Any) -> str:
    """Log a pyfunc model (``mlflow.pyfunc.log_model``; ``options`` are passed on: signature,
    input_example, artifacts, code_paths, pip_requirements...). Returns its model URI.

    A model logged without ``input_example`` is one that cannot answer any example (a
    late-only bundle cannot score an application: MLflow's check of the example would fail
    and warn). It is logged with its signature alone, which is what MLflow advises for that
    case, and MLflow's reminder to add an example is not printed."""
    _active_run_id()
    with warnings.catch_warnings():
        if options.get("input_example") is None:
            warnings.filterwarnings("ignore", message=NO_INPUT_EXAMPLE_WARNING,
                                    category=UserWarning)
        info = mlflow.pyfunc.log_model(name=name, python_model=python_model, **options)
    return str(info.model_uri)


def _check_name(name: str, what: str) -> None:
    if not SAFE_NAME.match(name):
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

