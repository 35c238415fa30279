"""Run listing and comparison for analysts: metrics side by side, only the differing config,
and a standalone HTML report with each run's curves, from the runs' logged evaluation frames."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from creditrisk.cli import runs as runs_cli
from creditrisk.training import tracking
from creditrisk.training.comparison import (
    ComparisonError,
    compare_runs,
    config_differences,
    key_metrics,
    list_runs,
    metrics_table,
    resolve_run_id,
    write_html_report,
)
from creditrisk.training.evaluation import (
    binary_metrics,
    bootstrap_auc_interval,
    calibration_table,
    calibration_table_by_edges,
    tail_resolving_edges,
)
from creditrisk.training.verdict import judge, with_intervals

EXPERIMENT = "comparison-test"


def logged_run(name: str, learning_rate: float, noise: float, seed: int) -> str:
    rng = np.random.default_rng(seed)
    rows = 3_000
    p_true = rng.beta(1, 10, size=rows)
    y = (rng.random(rows) < p_true).astype(np.int64)
    score = np.clip(p_true + rng.normal(0, noise, rows), 0, 1)
    frame = pd.DataFrame(
        {
            "row_id": [f"c{i}" for i in range(rows)],
            "as_of": pd.Timestamp("2025-06-30"),
            "y_true": y,
            "score": score,
        }
    )
    with tracking.training_run(EXPERIMENT, name) as run_id:
        tracking.log_config(
            {"model": {"learning_rate": learning_rate, "num_leaves": 31}, "seed": 7}
        )
        low, high = bootstrap_auc_interval(y, score, resamples=200, seed=seed)
        tracking.log_metrics(binary_metrics(y, score) | {"roc_auc_low": low, "roc_auc_high": high},
                             prefix="default_test")
        tracking.log_metrics({"mae_days": 4.0 + noise}, prefix="late_test")
        tracking.log_evaluation_frame("default_test", frame)
    return run_id


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    """(tracking uri, run id of a good model, run id of a noisier one) in a fresh store."""
    directory = tmp_path_factory.mktemp("mlflow")
    previous = mlflow.get_tracking_uri()
    uri = f"sqlite:///{directory / 'mlflow.db'}"
    tracking.configure(uri)
    good = logged_run("good", 0.05, 0.01, seed=1)
    noisy = logged_run("noisy", 0.10, 0.2, seed=2)
    client = MlflowClient()
    client.create_registered_model("comparison-model")
    client.create_model_version("comparison-model", source=str(directory / "bundle"), run_id=good)
    tracking.set_alias("comparison-model", tracking.CHAMPION_ALIAS, "1")
    yield uri, good, noisy
    mlflow.set_tracking_uri(previous)


def test_list_runs_newest_first_with_key_metrics_and_registered_version(
    two_runs: tuple[str, str, str],
) -> None:
    _, good, noisy = two_runs
    runs = list_runs(EXPERIMENT)
    assert runs["run_id"].tolist() == [noisy, good]
    assert runs.columns[:5].tolist() == [
        "run_id",
        "run_name",
        "start_time",
        "status",
        "model_version",
    ]
    assert {"default_test_roc_auc", "default_test_ece", "late_test_mae_days"} <= set(runs.columns)
    assert (
        runs.set_index("run_name").loc["good", "model_version"] == "comparison-model v1 @champion"
    )
    assert runs.set_index("run_name").loc["noisy", "model_version"] == ""
    chosen = list_runs(EXPERIMENT, metrics=["default_test_ks"])
    assert chosen.columns[-1] == "default_test_ks"
    assert chosen.shape == (2, 6)


def test_list_runs_of_an_unknown_experiment_says_so(two_runs: tuple[str, str, str]) -> None:
    with pytest.raises(ComparisonError, match="no experiment 'nope'"):
        list_runs("nope")


def test_key_metrics_prefer_headline_over_segment_names() -> None:
    names = [
        "default_test_applicants_roc_auc",
        "default_test_roc_auc",
        "late_test_roc_auc",
        "default_test_oracle_model_roc_auc",
        "default_test_ks",
        "default_test_existing_ece",
        "default_test_ece",
        "late_test_mae_days",
    ]
    assert key_metrics(names) == [
        "default_test_roc_auc",
        "late_test_roc_auc",
        "default_test_ece",
        "late_test_mae_days",
    ]
    assert key_metrics(names, limit=2) == ["default_test_roc_auc", "late_test_roc_auc"]


def test_compare_two_runs_side_by_side(two_runs: tuple[str, str, str]) -> None:
    _, good, noisy = two_runs
    result = compare_runs([good, noisy])
    assert result.runs["run_id"].tolist() == [good, noisy]
    labels = result.runs["label"].tolist()
    assert labels == [f"good ({good[:8]})", f"noisy ({noisy[:8]})"]
    # 10 binary metrics + the AUC interval + 1 days-late metric, per run plus the difference
    assert result.metrics.shape == (13, 3)
    assert result.metrics.columns.tolist() == [*labels, "difference"]
    auc = result.metrics.loc["default_test_roc_auc"]
    assert auc["difference"] == pytest.approx(auc[labels[1]] - auc[labels[0]])
    assert auc[labels[0]] > auc[labels[1]]  # the less noisy model ranks better
    # only the learning rate differs; num_leaves and seed are equal and left out
    assert result.config_diff.index.tolist() == ["model.learning_rate"]
    assert result.config_diff.loc["model.learning_rate"].tolist() == ["0.05", "0.1"]
    assert set(result.curves) == {"default_test"}
    assert set(result.curves["default_test"]) == set(labels)


def test_metric_globs_select_a_family(two_runs: tuple[str, str, str]) -> None:
    _, good, noisy = two_runs
    result = compare_runs(
        [good, noisy], metrics=["late_test_*", "default_test_roc_auc"], curves=False
    )
    assert result.metrics.index.tolist() == ["late_test_mae_days", "default_test_roc_auc"]
    assert result.curves == {}


def test_config_differences_show_missing_parameters() -> None:
    diff = config_differences({"a": {"x": "1", "y": "2"}, "b": {"x": "1"}})
    assert diff.index.tolist() == ["y"]
    assert diff.loc["y"].tolist() == ["2", "(not set)"]


def test_html_report_is_standalone_with_overlaid_curves(
    two_runs: tuple[str, str, str], tmp_path: Path
) -> None:
    _, good, noisy = two_runs
    path = write_html_report(compare_runs([good, noisy]), tmp_path / "report" / "compare.html")
    text = path.read_text()
    images = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,', text)
    assert images == ["default_test_roc", "default_test_precision_recall", "default_test_gains",
                      "default_test_calibration"]
    assert "model.learning_rate" in text
    assert "default_test_roc_auc" in text
    assert 'src="http' not in text  # nothing fetched from elsewhere
    # the answer first, the details folded away
    verdict, headline, first_details = (text.index("<h2>Verdict</h2>"),
                                        text.index("<h2>Headline metrics</h2>"),
                                        text.index("<details>"))
    assert verdict < headline < first_details < text.index("<img")
    assert text.index("model.learning_rate") > first_details
    assert "worse on default model, all customers" in text
    assert text.index("per grade</h2>") < first_details


def test_run_ids_resolve_from_unique_prefixes(two_runs: tuple[str, str, str]) -> None:
    _, good, _ = two_runs
    assert resolve_run_id(good[:8]) == good
    with pytest.raises(ComparisonError, match="no run id starts with 'zzzz'"):
        resolve_run_id("zzzz")
    with pytest.raises(ComparisonError, match="at least two runs"):
        compare_runs([good])


def test_cli_compare_prints_tables_and_writes_the_report(
    two_runs: tuple[str, str, str], tmp_path: Path
) -> None:
    uri, good, noisy = two_runs
    html = tmp_path / "cli.html"
    result = CliRunner().invoke(
        runs_cli.app,
        ["compare", good, noisy[:10], "--html", str(html), "--tracking-uri", uri],
        terminal_width=200,
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("verdict")
    # the noisy run (second) against the good one (first): worse beyond noise
    words = " ".join(result.output.split())  # the console wraps at its width
    assert "worse on default model, all customers (beyond noise)" in words
    assert "gate: no promotion decision recorded" in words
    assert "default_test_roc_auc" in result.output
    assert "1 parameter(s) differ" in words
    assert str(html.resolve()) in result.output.replace("\n", "")
    assert "model.learning_rate" in html.read_text()


def test_cli_list_shows_the_runs(two_runs: tuple[str, str, str]) -> None:
    uri, good, noisy = two_runs
    result = CliRunner().invoke(
        runs_cli.app,
        ["list", "--experiment", EXPERIMENT, "--tracking-uri", uri],
        terminal_width=250,
    )
    assert result.exit_code == 0, result.output
    assert good[:8] in result.output  # short ids: any unique prefix works in `compare`
    assert noisy[:8] in result.output
    assert good not in result.output
    missing = CliRunner().invoke(
        runs_cli.app, ["list", "--experiment", "nope", "--tracking-uri", uri]
    )
    assert missing.exit_code == 1


def test_segment_metric_on_too_few_events_shows_the_count_not_a_number() -> None:
    table = metrics_table(
        {
            "old": {"default_test_roc_auc": 0.8, "default_test_applicants_events": 7.0},
            "new": {"default_test_roc_auc": 0.82, "default_test_applicants_events": 31.0,
                    "default_test_applicants_roc_auc": 0.71},
        }
    )
    row = table.loc["default_test_applicants_roc_auc"]
    assert row["old"] == "not enough events (7)"
    assert row["new"] == pytest.approx(0.71)
    assert np.isnan(row["difference"])
    only_few = metrics_table({"a": {"default_test_applicants_events": 3.0}})
    assert only_few.loc["default_test_applicants_roc_auc", "a"] == "not enough events (3)"


def test_verdict_names_the_better_run_per_segment_only_beyond_noise() -> None:
    ref = {"default_test_roc_auc": 0.80, "default_test_roc_auc_low": 0.78,
           "default_test_roc_auc_high": 0.82,
           "default_test_applicants_roc_auc": 0.70, "default_test_applicants_roc_auc_low": 0.60,
           "default_test_applicants_roc_auc_high": 0.80,
           "default_test_existing_events": 9.0,
           "late_test_roc_auc": 0.75}
    new = {"default_test_roc_auc": 0.86, "default_test_roc_auc_low": 0.84,
           "default_test_roc_auc_high": 0.88,
           "default_test_applicants_roc_auc": 0.72, "default_test_applicants_roc_auc_low": 0.62,
           "default_test_applicants_roc_auc_high": 0.82,
           "default_test_existing_events": 12.0,
           "late_test_roc_auc": 0.70}
    verdict = judge({"old": ref, "new": new})
    outcomes = {s.segment: s.outcome for s in verdict.segments}
    assert outcomes == {
        "default model, all customers": "better",
        "default model, applicants": "within noise",
        "default model, existing customers": "not enough events",
        "late-payment model": "no interval",
    }
    assert verdict.headline().startswith("new vs old: better on default model, all customers")
    assert "worse" not in verdict.headline()  # 0.70 < 0.75 without intervals is not judged
    swapped = judge({"new": new, "old": ref})
    assert {s.segment: s.outcome for s in swapped.segments}["default model, all customers"] == (
        "worse")


def test_calibration_bins_resolve_the_tail() -> None:
    """Equal-frequency bins put the rare high PDs in one last bin; log-odds ranges give them
    points of their own, and every row still lands in exactly one range."""
    rng = np.random.default_rng(3)
    p = rng.beta(0.5, 30, size=20_000)
    y = (rng.random(len(p)) < p).astype(np.int64)
    edges = tail_resolving_edges(p, 10)
    assert len(edges) == 11
    assert edges[0] == p.min()
    assert edges[-1] == p.max()
    table = calibration_table_by_edges(y, p, edges)
    assert table["n"].sum() == len(p)
    top_decile = np.quantile(p, 0.9)
    tail_points = int((table["p_max"] > top_decile).sum())
    assert tail_points >= 3  # the riskiest 10 % of rows: several points
    equal_frequency = calibration_table(y, p, 10)
    assert int((equal_frequency["p_max"] > top_decile).sum()) == 1  # the old view: one


def test_per_grade_table_sets_observed_beside_predicted_for_each_run(
    two_runs: tuple[str, str, str],
) -> None:
    _, good, noisy = two_runs
    result = compare_runs([good, noisy])
    grades = result.grades
    labels = result.runs["label"].tolist()
    assert grades.columns.tolist() == [f"{label} {what}" for label in labels
                                       for what in ("rows", "observed", "predicted")]
    assert grades[f"{labels[0]} rows"].sum() == 3_000  # every test row in exactly one grade
    assert grades.index.is_monotonic_increasing  # master-scale order, best grade first
    filled = grades.dropna()
    assert (filled[f"{labels[0]} predicted"].diff().dropna() > 0).all()  # PD rises by grade


def test_a_pooled_test_set_logged_without_an_interval_gets_one_from_its_frame() -> None:
    rng = np.random.default_rng(5)
    y = (rng.random(2_000) < 0.2).astype(np.int64)
    good, poor = y + rng.normal(0, 0.5, 2_000), y + rng.normal(0, 3.0, 2_000)
    good_p, poor_p = 1 / (1 + np.exp(-good)), 1 / (1 + np.exp(-poor))
    metrics = {"a": {"late_test_roc_auc": 0.9}, "b": {"late_test_roc_auc": 0.6}}
    curves = {"late_test": {"a": (y, good_p), "b": (y, poor_p)}}
    filled = with_intervals(metrics, curves)
    assert filled["a"]["late_test_roc_auc_low"] < filled["a"]["late_test_roc_auc_high"]
    assert "late_test_roc_auc_low" not in metrics["a"]  # the runs' own numbers are not touched
    (late,) = judge(filled).segments
    assert late.outcome == "worse"
