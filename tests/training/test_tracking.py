"""MLflow tracking on a temporary SQLite store: a run keeps config, lineage, metrics, plots and
test-set predictions; the registry holds versions with movable aliases; promotions are recorded."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import yaml
from mlflow import MlflowClient
from mlflow.pyfunc import PythonModel

from creditrisk.training import tracking
from creditrisk.training.plots import roc_figure


class DoubleFirstColumn(PythonModel):
    """A trivial pyfunc model: twice the first input column."""

    def predict(self, context, model_input: pd.DataFrame, params=None) -> list[float]:
        return (model_input.iloc[:, 0] * 2.0).tolist()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One SQLite store for the module (creating its schema takes a second or two)."""
    directory = tmp_path_factory.mktemp("mlflow")
    previous = mlflow.get_tracking_uri()
    tracking.configure(f"sqlite:///{directory / 'mlflow.db'}")
    yield directory
    mlflow.set_tracking_uri(previous)


def evaluation_frame(rows: int = 50, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    score = rng.random(rows)
    return pd.DataFrame(
        {
            "row_id": pd.array([f"c{i}" for i in range(rows)], dtype="string"),
            "as_of": pd.to_datetime(["2025-06-30"] * rows),
            "y_true": (rng.random(rows) < score).astype(np.int64),
            "score": score,
            "utilisation": rng.random(rows),
        }
    )


def test_flatten_config_makes_dotted_text_params() -> None:
    config = {
        "model": {"learning_rate": 0.05, "monotone": [1, -1]},
        "as_of": date(2025, 1, 31),
        "seed": np.int64(7),
        "empty": {},
    }
    assert tracking.flatten_config(config) == {
        "model.learning_rate": "0.05",
        "model.monotone": "[1, -1]",
        "as_of": "2025-01-31",
        "seed": "7",
        "empty": "{}",
    }


def test_artifacts_live_next_to_the_database_not_the_working_directory(store: Path) -> None:
    experiment_id = tracking.ensure_experiment("where-artifacts-go")
    location = MlflowClient().get_experiment(experiment_id).artifact_location
    assert location == (store / "mlartifacts" / "where-artifacts-go").as_uri()


def test_a_run_keeps_config_lineage_metrics_plots_and_predictions(store: Path) -> None:
    frame = evaluation_frame()
    config = {"model": {"num_leaves": 15, "learning_rate": 0.05}, "horizon_months": 12}
    with tracking.training_run("tracking-test", "lgbm", {"model": "default"}) as run_id:
        tracking.log_config(config)
        tracking.log_lineage(
            "sha256:abc123",
            date(2023, 1, 31),
            date(2025, 6, 30),
            {"train": 900, "calibration": 100, "test": 50},
            {"train": 0.031, "calibration": 0.028, "test": 0.04},
        )
        tracking.log_metrics({"roc_auc": 0.81, "ece": float("nan")}, prefix="default_test")
        tracking.log_figures({"default_roc": roc_figure({"m": (frame["y_true"], frame["score"])})})
        tracking.log_evaluation_frame("default_test", frame)

    run = MlflowClient().get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["model.num_leaves"] == "15"
    assert run.data.params["lineage.ledger_digest"] == "sha256:abc123"
    assert run.data.params["lineage.rows.test"] == "50"
    assert run.data.tags["as_of_end"] == "2025-06-30"
    assert run.data.tags["model"] == "default"
    # grouped by model in MLflow (one UI section per model), read back by name
    assert run.data.metrics["default/test_roc_auc"] == pytest.approx(0.81)
    assert np.isnan(run.data.metrics["default/test_ece"])
    assert tracking.metric_name("default/test_roc_auc") == "default_test_roc_auc"
    assert run.inputs is not None
    assert {(i.dataset.name, i.tags[0].value) for i in run.inputs.dataset_inputs} == {
        ("ledger-train", "train"),
        ("ledger-calibration", "calibration"),
        ("ledger-test", "test"),
    }
    artifacts = {a.path for a in MlflowClient().list_artifacts(run_id)}
    assert {"config.yaml", "plots", "evaluation", "lineage"} <= artifacts
    assert [a.path for a in MlflowClient().list_artifacts(run_id, "plots")] == [
        "plots/default_roc.png"
    ]
    config_text = Path(
        mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="config.yaml")
    )
    assert yaml.safe_load(config_text.read_text()) == config

    assert tracking.evaluation_frame_names(run_id) == ["default_test"]
    loaded = tracking.load_evaluation_frame(run_id, "default_test")
    pd.testing.assert_frame_equal(loaded, frame)
    only = tracking.load_evaluation_frame(run_id, "default_test", columns=["y_true", "score"])
    assert only.columns.tolist() == ["y_true", "score"]


def test_metric_keys_group_by_model_and_read_back_by_name() -> None:
    for name in ("default_test_roc_auc", "late_test_ece", "open_invoice_test_coverage_p10_p90",
                 "default_oot_applicants_events"):
        key = tracking.mlflow_metric_key(name)
        assert key.split("/")[0] in tracking.METRIC_GROUPS
        assert tracking.metric_name(key) == name
    assert tracking.mlflow_metric_key("open_invoice_test_ece") == "open_invoice/test_ece"
    assert tracking.mlflow_metric_key("seconds") == "seconds"  # not a model metric: unchanged
    assert tracking.metric_name("other/thing") == "other/thing"


def test_a_run_opened_before_fitting_is_the_one_the_logging_writes_to(store: Path) -> None:
    """The pipeline opens the run before fitting (its duration is the whole training); the
    logging step's ``training_run`` names and tags that same run instead of opening another."""
    with tracking.training_run("span", "provisional") as outer:
        with tracking.training_run("span", "lightgbm-2025-06-30", {"model_kind": "lgbm"}) as inner:
            tracking.log_metrics({"roc_auc": 0.8}, prefix="default_test")
        assert inner == outer
        assert mlflow.active_run() is not None  # the inner block did not end it
    run = MlflowClient().get_run(outer)
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "lightgbm-2025-06-30"
    assert run.data.tags["model_kind"] == "lgbm"
    assert run.data.metrics["default/test_roc_auc"] == pytest.approx(0.8)
    assert len(MlflowClient().search_runs([run.info.experiment_id])) == 1


def test_a_failing_training_block_marks_the_run_failed(store: Path) -> None:
    with (
        pytest.raises(ZeroDivisionError),
        tracking.training_run("tracking-test", "broken") as run_id,
    ):
        _ = 1 / 0
    assert MlflowClient().get_run(run_id).info.status == "FAILED"


def test_evaluation_frame_must_carry_outcome_and_score(store: Path) -> None:
    with tracking.training_run("tracking-test", "incomplete"):
        with pytest.raises(tracking.TrackingError, match=r"lacks columns \['y_true'\]"):
            tracking.log_evaluation_frame("default_test", evaluation_frame().drop(columns="y_true"))
        with pytest.raises(tracking.TrackingError, match="must use only letters"):
            tracking.log_evaluation_frame("../escape", evaluation_frame())


def test_logging_outside_a_run_is_refused(store: Path) -> None:
    with pytest.raises(tracking.TrackingError, match="no active MLflow run"):
        tracking.log_metrics({"roc_auc": 0.5})


def test_missing_evaluation_frame_names_run_and_frame(store: Path) -> None:
    with tracking.training_run("tracking-test", "no-frame") as run_id:
        tracking.log_metrics({"x": 1.0})
    with pytest.raises(
        tracking.TrackingError, match=f"run {run_id} has no evaluation frame 'late_test'"
    ):
        tracking.load_evaluation_frame(run_id, "late_test")


def test_register_a_pyfunc_model_and_move_aliases(store: Path) -> None:
    versions = []
    for name in ("first", "second"):
        with tracking.training_run("tracking-test", name) as run_id:
            uri = tracking.log_model(
                DoubleFirstColumn(), name="bundle", input_example=pd.DataFrame({"x": [1.0, 2.0]})
            )
            assert uri.startswith("models:/")
        versions.append(tracking.register_model(run_id, "bundle", "tracking-model"))
    assert versions == ["1", "2"]
    assert tracking.alias_version("tracking-model", tracking.CHAMPION_ALIAS) is None

    tracking.set_alias("tracking-model", tracking.CHAMPION_ALIAS, "1")
    tracking.set_alias("tracking-model", tracking.CHALLENGER_ALIAS, "2")
    champion = tracking.alias_version("tracking-model", "champion")
    assert champion is not None
    assert champion.version == "1"
    assert champion.aliases == ("champion",)
    assert champion.uri == "models:/tracking-model/1"
    assert champion.run_id == MlflowClient().get_model_version("tracking-model", "1").run_id

    tracking.set_alias("tracking-model", tracking.CHAMPION_ALIAS, "2")
    tracking.delete_alias("tracking-model", tracking.CHALLENGER_ALIAS)
    assert MlflowClient().get_registered_model("tracking-model").aliases == {"champion": 2}

    model = mlflow.pyfunc.load_model("models:/tracking-model@champion")
    assert list(model.predict(pd.DataFrame({"x": [1.5, 3.0]}))) == [3.0, 6.0]

    with pytest.raises(tracking.TrackingError, match="has no version '9'"):
        tracking.model_version("tracking-model", "9")


def test_record_promotion_keeps_who_when_from_to_and_evidence(store: Path) -> None:
    client = MlflowClient()
    client.create_registered_model("record-model")
    for _ in range(2):
        client.create_model_version("record-model", source=str(store / "nowhere"))
    decided_at = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
    run_id = tracking.record_promotion(
        "record-model",
        from_version="1",
        to_version="2",
        actor="analyst-a",
        decided_at=decided_at,
        promoted=True,
        evidence={"checks": [{"metric": "roc_auc", "passed": True}], "as_of": date(2025, 6, 30)},
    )
    record = client.get_run(run_id)
    assert record.data.tags["actor"] == "analyst-a"
    assert record.data.tags["decision"] == "promoted"
    assert record.info.start_time == int(decided_at.timestamp() * 1000)
    assert client.get_experiment(record.info.experiment_id).name == tracking.PROMOTIONS_EXPERIMENT
    evidence = tracking.promotion_evidence(run_id)
    assert evidence["evidence"]["checks"][0]["metric"] == "roc_auc"
    assert evidence["evidence"]["as_of"] == "2025-06-30"
    assert evidence["from_version"] == "1"

    to_tags = client.get_model_version("record-model", "2").tags
    assert to_tags["promotion.decision"] == "promoted"
    assert to_tags["promotion.actor"] == "analyst-a"
    assert to_tags["promotion.decided_at"] == "2026-01-15T09:30:00+00:00"
    assert to_tags["promotion.record_run_id"] == run_id
    assert client.get_model_version("record-model", "1").tags["replaced_by_version"] == "2"
