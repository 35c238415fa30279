"""Side-by-side view of training runs for analysts: which runs exist, which is better on which
segment (:mod:`training.verdict`), how their metrics and configurations differ; the HTML
report is drawn by :mod:`training.report` (``write_html_report`` is re-exported here).

Reads MLflow (through the store set by ``tracking.configure``) and never writes to it.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from creditrisk.training import tracking
from creditrisk.training.errors import TrainingError
from creditrisk.training.evaluation import events_shortfall, not_enough_events
from creditrisk.training.verdict import (
    GateRecord,
    Verdict,
    gate_record,
    judge,
    with_intervals,
)

KEY_METRIC_SUFFIXES = ("roc_auc", "ece", "brier", "mae_days")
MAX_KEY_METRICS = 8
NOT_SET = "(not set)"
RUN_ID_LENGTH = 32
SHORT_ID_LENGTH = 8

Curve = tuple[np.ndarray, np.ndarray]


class ComparisonError(TrainingError, LookupError):
    """A run or experiment that cannot be found, or an ambiguous run id prefix."""


@dataclass(frozen=True)
class ComparisonResult:
    """Several runs side by side.

    - runs: one row per run (label, run_id, run_name, experiment_id, start_time, status,
      model_version).
    - metrics: one row per metric, one column per run label (plus ``difference`` = second -
      first when exactly two runs are compared).
    - config_diff: one row per parameter whose value differs, one column per run label.
    - curves: evaluation frame name -> run label -> (y_true, score), from each run's logged
      ``evaluation/<name>.parquet``.
    """

    runs: pd.DataFrame
    metrics: pd.DataFrame
    config_diff: pd.DataFrame
    curves: dict[str, dict[str, Curve]] = field(default_factory=dict)
    tracking_uri: str = ""
    verdict: Verdict | None = None
    """The answer first: the last run judged against the first (:mod:`training.verdict`)."""
    grades: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Observed vs predicted default rate per grade (:func:`training.report.grade_table`)."""


def run_label(run_name: str | None, run_id: str) -> str:
    """How a run is named in tables and legends: ``name (first 8 characters of the id)``."""
    return f"{run_name or 'run'} ({run_id[:SHORT_ID_LENGTH]})"


def _start_time(milliseconds: int | None) -> pd.Timestamp:
    if milliseconds is None:
        return pd.NaT
    return pd.Timestamp(milliseconds, unit="ms", tz="UTC")


def _registered_versions(run_ids: Sequence[str]) -> dict[str, str]:
    """run id -> ``name vN @alias`` of the registered versions created from it."""
    if not run_ids:
        return {}
    client = MlflowClient()
    quoted = ", ".join(f"'{run_id}'" for run_id in run_ids)
    try:
        versions = client.search_model_versions(f"run_id IN ({quoted})")
        # version search does not return aliases: read them from each registered model
        aliases: dict[tuple[str, str], list[str]] = {}
        for name in sorted({str(version.name) for version in versions}):
            for alias, number in client.get_registered_model(name).aliases.items():
                aliases.setdefault((name, str(number)), []).append(alias)
    except MlflowException:
        return {}
    found: dict[str, list[str]] = {}
    for version in versions:
        tags = "".join(
            f" @{a}" for a in sorted(aliases.get((str(version.name), str(version.version)), []))
        )
        found.setdefault(str(version.run_id), []).append(f"{version.name} v{version.version}{tags}")
    return {run_id: ", ".join(sorted(labels)) for run_id, labels in found.items()}


def key_metrics(names: Sequence[str], *, limit: int = MAX_KEY_METRICS) -> list[str]:
    """Headline metrics for a listing: for each key suffix (roc_auc, ece, brier, mae_days), the
    names with the fewest prefix words, so ``default_test_roc_auc`` is shown and the segment
    variant ``default_test_applicants_roc_auc`` is not. At most ``limit``, by suffix order."""
    chosen: list[str] = []
    for suffix in KEY_METRIC_SUFFIXES:
        prefixes = {
            name: name[: -len(suffix)].strip("_") for name in names if name.endswith(suffix)
        }
        if not prefixes:
            continue
        fewest = min(prefix.count("_") for prefix in prefixes.values())
        chosen.extend(sorted(n for n, prefix in prefixes.items() if prefix.count("_") == fewest))
    return chosen[:limit]


def list_runs(
    experiment: str = tracking.TRAINING_EXPERIMENT,
    *,
    metrics: Sequence[str] | None = None,
    max_runs: int = 50,
) -> pd.DataFrame:
    """The training runs of ``experiment``, newest first: run_id, run_name, start_time, status,
    model_version (registered versions and aliases) and key metrics (``metrics`` or a default
    choice of headline metrics)."""
    found = MlflowClient().get_experiment_by_name(experiment)
    if found is None:
        raise ComparisonError(f"no experiment {experiment!r} in {mlflow.get_tracking_uri()}")
    runs = mlflow.search_runs(
        experiment_ids=[found.experiment_id],
        order_by=["attributes.start_time DESC"],
        max_results=max_runs,
        output_format="list",
    )
    by_run = {run.info.run_id: run_metrics(run) for run in runs}
    all_metrics = sorted({name for values in by_run.values() for name in values})
    columns = (
        select_names(all_metrics, metrics) if metrics is not None else key_metrics(all_metrics)
    )
    versions = _registered_versions([run.info.run_id for run in runs])
    rows = [
        {
            "run_id": run.info.run_id,
            "run_name": run.info.run_name,
            "start_time": _start_time(run.info.start_time),
            "status": run.info.status,
            "model_version": versions.get(run.info.run_id, ""),
            **{name: by_run[run.info.run_id].get(name, np.nan) for name in columns},
        }
        for run in runs
    ]
    base = ["run_id", "run_name", "start_time", "status", "model_version"]
    return pd.DataFrame(rows, columns=[*base, *columns])


PROMOTION_COLUMNS = [
    "decided_at",
    "model_name",
    "from_version",
    "to_version",
    "decision",
    "actor",
    "record_run_id",
]


def promotion_history(
    model_name: str | None = None, *, experiment: str = tracking.PROMOTIONS_EXPERIMENT
) -> pd.DataFrame:
    """Every promotion decision recorded (accepted and refused), newest first: decided_at,
    model_name, from_version, to_version, decision, actor, record_run_id (its evidence.json)."""
    found = MlflowClient().get_experiment_by_name(experiment)
    if found is None:
        return pd.DataFrame(columns=PROMOTION_COLUMNS)
    runs = mlflow.search_runs(
        experiment_ids=[found.experiment_id],
        filter_string=f"tags.model_name = '{model_name}'" if model_name else "",
        order_by=["attributes.start_time DESC"],
        output_format="list",
    )
    rows = [
        {
            "decided_at": _start_time(run.info.start_time),
            **{key: run.data.tags.get(key, "") for key in PROMOTION_COLUMNS[1:-1]},
            "record_run_id": run.info.run_id,
        }
        for run in runs
    ]
    return pd.DataFrame(rows, columns=PROMOTION_COLUMNS)


def run_metrics(run: Any) -> dict[str, float]:
    """A run's metrics by their names in this code base (MLflow keeps them grouped by model,
    ``default/test_roc_auc``: :func:`training.tracking.metric_name`)."""
    return {tracking.metric_name(key): float(value) for key, value in run.data.metrics.items()}


def _gate_record(run_ids: Sequence[str]) -> GateRecord | None:
    """The newest promotion decision between versions registered from these runs."""
    client = MlflowClient()
    quoted = ", ".join(f"'{run_id}'" for run_id in run_ids)
    try:
        versions = client.search_model_versions(f"run_id IN ({quoted})")
        found = client.get_experiment_by_name(tracking.PROMOTIONS_EXPERIMENT)
        if not versions or found is None:
            return None
        records = mlflow.search_runs(experiment_ids=[found.experiment_id],
                                     order_by=["attributes.start_time DESC"],
                                     output_format="list")
    except MlflowException:
        return None
    ours = {(str(v.name), str(v.version)) for v in versions}
    for record in records:
        tags = record.data.tags
        name = tags.get("model_name", "")
        if (name, tags.get("to_version", "")) in ours and (
            not tags.get("from_version") or (name, tags["from_version"]) in ours
        ):
            evidence = tracking.promotion_evidence(record.info.run_id)
            return gate_record(evidence, tags)
    return None


def resolve_run_id(run_id_or_prefix: str) -> str:
    """A full run id from an id or a unique prefix of one (as shown by ``runs list``)."""
    if len(run_id_or_prefix) == RUN_ID_LENGTH:
        return run_id_or_prefix
    runs = mlflow.search_runs(search_all_experiments=True, output_format="list")
    matches = sorted(
        {run.info.run_id for run in runs if run.info.run_id.startswith(run_id_or_prefix)}
    )
    if not matches:
        raise ComparisonError(f"no run id starts with {run_id_or_prefix!r}")
    if len(matches) > 1:
        raise ComparisonError(f"run id prefix {run_id_or_prefix!r} is ambiguous: {matches}")
    return str(matches[0])


def compare_runs(
    run_ids: Sequence[str], *, metrics: Sequence[str] | None = None, curves: bool = True
) -> ComparisonResult:
    """Metrics side by side, the configuration parameters that differ, and (``curves``) each
    run's test-set outcomes and scores for the overlaid curves of the HTML report."""
    if len(run_ids) < 2:
        raise ComparisonError(f"compare needs at least two runs, got {list(run_ids)}")
    client = MlflowClient()
    runs = []
    for given in run_ids:
        run_id = resolve_run_id(given)
        try:
            runs.append(client.get_run(run_id))
        except MlflowException as exc:
            raise ComparisonError(f"no run {given!r} in {mlflow.get_tracking_uri()}") from exc
    labels = [run_label(run.info.run_name, run.info.run_id) for run in runs]
    if len(set(labels)) < len(labels):
        raise ComparisonError(f"the same run is given twice: {list(run_ids)}")
    versions = _registered_versions([run.info.run_id for run in runs])
    runs_table = pd.DataFrame(
        [
            {
                "label": label,
                "run_id": run.info.run_id,
                "run_name": run.info.run_name,
                "experiment_id": run.info.experiment_id,
                "start_time": _start_time(run.info.start_time),
                "status": run.info.status,
                "model_version": versions.get(run.info.run_id, ""),
            }
            for label, run in zip(labels, runs, strict=True)
        ]
    )
    by_label = {label: run_metrics(run) for label, run in zip(labels, runs, strict=True)}
    run_id_list = [run.info.run_id for run in runs]
    loaded = _load_curves(labels, run_id_list) if curves else {}
    scales = {label: run_scale(run.data.params) for label, run in zip(labels, runs, strict=True)}
    return ComparisonResult(
        runs=runs_table,
        metrics=metrics_table(by_label, metrics),
        config_diff=config_differences(
            {label: run.data.params for label, run in zip(labels, runs, strict=True)}
        ),
        curves=loaded,
        tracking_uri=mlflow.get_tracking_uri(),
        verdict=judge(with_intervals(by_label, loaded), _gate_record(run_id_list)),
        grades=grade_table(loaded.get(GRADED_FRAME, {}), scales),
    )


def metrics_table(
    metrics_by_run: dict[str, dict[str, float]], names: Sequence[str] | None = None
) -> pd.DataFrame:
    """Rows = metric names (all metrics of any run, or ``names``; a name with ``*``, ``?`` or
    ``[`` is a glob such as ``default_test_*``), columns = runs; with two runs a
    ``difference`` column (second - first).

    A segment metric left out of a run for too few events (only ``<segment>_events`` was
    logged) is shown as "not enough events (n)", never as a number; such a segment's ROC AUC
    row appears even when no run has a number for it.
    """
    available = sorted(
        {name for values in metrics_by_run.values() for name in values}
        | {key[: -len("events")] + "roc_auc" for values in metrics_by_run.values()
           for key in values if key.endswith("_events")}
    )
    chosen = available if names is None else select_names(available, names)
    numbers = pd.DataFrame(
        {
            label: [values.get(name, np.nan) for name in chosen]
            for label, values in metrics_by_run.items()
        },
        index=pd.Index(chosen, name="metric"),
        dtype="float64",
    )
    shortfalls = {
        (name, label): events
        for label, values in metrics_by_run.items()
        for name in chosen
        if (events := events_shortfall(values, name)) is not None
    }
    table: pd.DataFrame = numbers
    if shortfalls:
        table = numbers.astype(object)
        for (name, label), events in shortfalls.items():
            table.loc[name, label] = not_enough_events(events)
    if table.shape[1] == 2:
        table["difference"] = numbers.iloc[:, 1] - numbers.iloc[:, 0]
    return table


def select_names(available: Sequence[str], wanted: Sequence[str]) -> list[str]:
    """``wanted`` in order, each glob pattern expanded against ``available`` (sorted)."""
    chosen: list[str] = []
    for name in wanted:
        matches = fnmatch.filter(available, name) if any(c in name for c in "*?[") else [name]
        chosen.extend(match for match in sorted(matches) if match not in chosen)
    return chosen


def config_differences(params_by_run: dict[str, dict[str, str]]) -> pd.DataFrame:
    """Rows = parameters whose value is not the same in every run (a parameter missing from a
    run counts as different and shows ``(not set)``), columns = runs."""
    keys = sorted({key for params in params_by_run.values() for key in params})
    table = pd.DataFrame(
        {
            label: [params.get(key, NOT_SET) for key in keys]
            for label, params in params_by_run.items()
        },
        index=pd.Index(keys, name="parameter"),
        dtype="string",
    )
    differs = table.nunique(axis=1) > 1
    return table[differs]


def _load_curves(labels: Sequence[str], run_ids: Sequence[str]) -> dict[str, dict[str, Curve]]:
    curves: dict[str, dict[str, Curve]] = {}
    for label, run_id in zip(labels, run_ids, strict=True):
        for name in tracking.evaluation_frame_names(run_id):
            frame = tracking.load_evaluation_frame(run_id, name, columns=["y_true", "score"])
            curves.setdefault(name, {})[label] = (
                frame["y_true"].to_numpy(dtype=np.float64),
                frame["score"].to_numpy(dtype=np.float64),
            )
    return curves


# the report draws a ComparisonResult; imported last so that it can name the class
from creditrisk.training.report import (  # noqa: E402 - after ComparisonResult, see above
    GRADED_FRAME,
    describe,
    grade_table,
    render_html,
    report_figures,
    report_template,
    run_scale,
    write_html_report,
)

__all__ = [
    "ComparisonError",
    "ComparisonResult",
    "compare_runs",
    "config_differences",
    "describe",
    "key_metrics",
    "list_runs",
    "metrics_table",
    "promotion_history",
    "render_html",
    "report_figures",
    "report_template",
    "resolve_run_id",
    "run_label",
    "run_metrics",
    "select_names",
    "write_html_report",
]
