"""The promotion gate: a challenger replaces the champion only if it is not worse on the
champion's own out-of-time test set; aliases move only when it passes; every decision is
recorded, refusals included."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import typer
from mlflow import MlflowClient
from typer.testing import CliRunner

from creditrisk.cli import runs as runs_cli
from creditrisk.training import tracking
from creditrisk.training.comparison import promotion_history
from creditrisk.training.promotion import (
    GateMargins,
    PromotionError,
    evaluate_gate,
    promote,
)
from creditrisk.training.tracking import ModelVersionRef

NOW = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)
ROWS = 3_000


def out_of_time_frame(seed: int = 3) -> pd.DataFrame:
    """An out-of-time test set: the true probability ``x`` is the feature a good model uses."""
    rng = np.random.default_rng(seed)
    x = rng.beta(1, 12, size=ROWS)
    return pd.DataFrame(
        {
            "row_id": [f"c{i}" for i in range(ROWS)],
            "as_of": pd.Timestamp("2025-06-30"),
            "y_true": (rng.random(ROWS) < x).astype(np.int64),
            "score": x,
            "x": x,
        }
    )


def score_by_kind(version: ModelVersionRef, frame_name: str, frame: pd.DataFrame) -> np.ndarray:
    """Test scorer: each registered version carries a ``kind`` tag saying how it scores."""
    x = frame["x"].to_numpy()
    kind = version.tags["kind"]
    if kind == "good":
        return x
    if kind == "random":
        return np.random.default_rng(0).random(len(frame))
    if kind == "overconfident":  # same ranking, probabilities three times too high
        return np.clip(3 * x, 0, 1)
    raise AssertionError(kind)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("mlflow")
    previous = mlflow.get_tracking_uri()
    uri = f"sqlite:///{directory / 'mlflow.db'}"
    tracking.configure(uri)
    yield uri
    mlflow.set_tracking_uri(previous)


def add_version(model_name: str, kind: str, *, frame_seed: int, late_only: bool = False) -> str:
    """A training run that logged its test frame, registered as a new version of the model
    (``late_only``: a bundle without a default model, so no ``default_test`` frame)."""
    with tracking.training_run("promotion-test", f"{model_name}-{kind}") as run_id:
        frame_name = "late_test" if late_only else "default_test"
        tracking.log_evaluation_frame(frame_name, out_of_time_frame(frame_seed))
    client = MlflowClient()
    if not client.search_registered_models(f"name = '{model_name}'"):
        client.create_registered_model(model_name)
    version = client.create_model_version(
        model_name, source=f"runs:/{run_id}/bundle", run_id=run_id, tags={"kind": kind}
    )
    return str(version.version)


def aliases(model_name: str) -> dict[str, int]:
    return dict(MlflowClient().get_registered_model(model_name).aliases)


# --------------------------------------------------------------------------- the gate itself


def test_gate_accepts_an_equal_challenger() -> None:
    frame = out_of_time_frame()
    decision = evaluate_gate(frame, frame["x"], frame["x"], GateMargins())
    assert decision.passed
    assert [check.metric for check in decision.checks] == ["roc_auc", "ece", "brier"]
    assert all(check.passed for check in decision.checks)


def test_gate_refuses_random_scores() -> None:
    frame = out_of_time_frame()
    noise = np.random.default_rng(0).random(ROWS)
    decision = evaluate_gate(frame, noise, frame["x"], GateMargins())
    assert not decision.passed
    auc = decision.checks[0]
    assert auc.metric == "roc_auc"
    assert not auc.passed
    assert auc.allowed == pytest.approx(auc.champion - 0.005)
    assert "roc_auc" in decision.summary


def test_gate_refuses_a_badly_calibrated_challenger_with_the_same_ranking() -> None:
    frame = out_of_time_frame()
    decision = evaluate_gate(frame, np.clip(3 * frame["x"], 0, 1), frame["x"], GateMargins())
    verdicts = {check.metric: check.passed for check in decision.checks}
    assert verdicts == {"roc_auc": True, "ece": False, "brier": False}
    assert not decision.passed


def test_gate_allows_a_drop_within_the_margin_only() -> None:
    frame = out_of_time_frame()
    y = frame["y_true"].to_numpy()
    slightly_worse = frame["x"].to_numpy().copy()
    # swap a few event/non-event scores to lose a little AUC, keeping calibration
    events, non_events = np.flatnonzero(y == 1)[:5], np.flatnonzero(y == 0)[-5:]
    slightly_worse[events], slightly_worse[non_events] = (
        slightly_worse[non_events],
        slightly_worse[events],
    )
    loose = evaluate_gate(frame, slightly_worse, frame["x"], GateMargins(max_auc_drop=0.05))
    strict = evaluate_gate(frame, slightly_worse, frame["x"], GateMargins(max_auc_drop=0.0))
    assert loose.checks[0].passed
    assert not strict.checks[0].passed


def test_gate_never_passes_on_a_test_set_with_one_outcome_class() -> None:
    frame = out_of_time_frame().assign(y_true=0)
    decision = evaluate_gate(frame, frame["x"], frame["x"], GateMargins())
    assert not decision.passed  # AUC is undefined: no evidence the challenger is not worse


def test_negative_margins_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"max_auc_drop must be a finite number >= 0, got -0\.1"):
        GateMargins(max_auc_drop=-0.1)


# --------------------------------------------------------------------------- promote()


def test_first_promotion_passes_without_a_champion(store: str) -> None:
    first = add_version("first-model", "good", frame_seed=1)
    tracking.set_alias("first-model", tracking.CHALLENGER_ALIAS, first)
    outcome = promote("first-model", score_fn=score_by_kind, actor="ana", now=NOW)
    assert outcome.passed
    assert outcome.from_version is None
    assert outcome.to_version == first
    assert "first champion" in outcome.decision.summary
    assert aliases("first-model") == {"champion": int(first)}  # challenger alias consumed
    record = tracking.promotion_evidence(outcome.record_run_id)
    assert record["decision"] == "promoted"
    assert record["actor"] == "ana"


def test_worse_challenger_is_refused_and_aliases_stay(store: str) -> None:
    champion = add_version("refuse-model", "good", frame_seed=1)
    tracking.set_alias("refuse-model", tracking.CHAMPION_ALIAS, champion)
    challenger = add_version("refuse-model", "random", frame_seed=2)
    tracking.set_alias("refuse-model", tracking.CHALLENGER_ALIAS, challenger)

    outcome = promote("refuse-model", score_fn=score_by_kind, actor="ana", now=NOW)

    assert not outcome.passed
    assert aliases("refuse-model") == {"champion": int(champion), "challenger": int(challenger)}
    tags = MlflowClient().get_model_version("refuse-model", challenger).tags
    assert tags["promotion.decision"] == "refused"
    assert tags["promotion.from_version"] == champion
    history = promotion_history("refuse-model")
    assert history[["from_version", "to_version", "decision", "actor"]].values.tolist() == [
        [champion, challenger, "refused", "ana"]
    ]
    record = tracking.promotion_evidence(outcome.record_run_id)
    assert record["decision"] == "refused"
    assert record["evidence"]["passed"] is False
    failed = [c["metric"] for c in record["evidence"]["checks"] if not c["passed"]]
    assert "default_test.roc_auc" in failed
    assert record["evidence"]["frames"]["default_test"]["rows"] == ROWS


def test_equal_challenger_is_promoted_on_the_champions_own_test_set(store: str) -> None:
    champion = add_version("accept-model", "good", frame_seed=1)
    tracking.set_alias("accept-model", tracking.CHAMPION_ALIAS, champion)
    challenger = add_version("accept-model", "good", frame_seed=2)  # its own test set differs
    tracking.set_alias("accept-model", tracking.CHALLENGER_ALIAS, challenger)
    seen: list[tuple[str, list[str]]] = []

    def recording_scorer(version: ModelVersionRef, name: str, frame: pd.DataFrame) -> np.ndarray:
        seen.append((version.version, frame["x"].head(3).round(6).astype(str).tolist()))
        return score_by_kind(version, name, frame)

    outcome = promote("accept-model", score_fn=recording_scorer, actor="ben", now=NOW)

    assert outcome.passed, outcome.decision.summary
    champion_rows = out_of_time_frame(1)["x"].head(3).round(6).astype(str).tolist()
    assert seen == [(champion, champion_rows), (challenger, champion_rows)]
    assert aliases("accept-model") == {"champion": int(challenger), "previous": int(champion)}
    client = MlflowClient()
    assert (
        client.get_model_version("accept-model", champion).tags["replaced_by_version"] == challenger
    )
    record = tracking.promotion_evidence(outcome.record_run_id)
    assert record["from_version"] == champion
    assert record["to_version"] == challenger
    assert record["evidence"]["frames"]["default_test"]["champion_rescore_max_abs_diff"] == 0.0


def test_promotion_needs_a_challenger_and_a_different_version(store: str) -> None:
    champion = add_version("lonely-model", "good", frame_seed=1)
    tracking.set_alias("lonely-model", tracking.CHAMPION_ALIAS, champion)
    with pytest.raises(PromotionError, match="no version aliased 'challenger'"):
        promote("lonely-model", score_fn=score_by_kind, actor="ana", now=NOW)
    with pytest.raises(
        PromotionError, match=f"version {champion} of 'lonely-model' is already the champion"
    ):
        promote("lonely-model", champion, score_fn=score_by_kind, actor="ana", now=NOW)
    other = add_version("lonely-model", "good", frame_seed=2)
    with pytest.raises(PromotionError, match="no evaluation frame 'late_test'"):
        promote(
            "lonely-model",
            other,
            score_fn=score_by_kind,
            actor="ana",
            now=NOW,
            frames=("late_test",),
        )


def test_cli_promote_exit_code_tells_refusal_from_promotion(store: str, tmp_path: Path) -> None:
    champion = add_version("cli-model", "good", frame_seed=1)
    tracking.set_alias("cli-model", tracking.CHAMPION_ALIAS, champion)
    worse = add_version("cli-model", "overconfident", frame_seed=2)
    app = typer.Typer()
    app.command("promote")(runs_cli.make_promote_command(score_by_kind))
    app.command("unused")(lambda: None)  # two commands: keep `promote` as a sub-command
    base = ["promote", "--model-name", "cli-model", "--tracking-uri", store, "--actor", "cli"]

    refused = CliRunner().invoke(app, [*base, "--version", worse])
    assert refused.exit_code == 1, refused.output
    assert "refused" in refused.output
    assert "ece" in refused.output

    loosened = CliRunner().invoke(
        app, [*base, "--version", worse, "--max-ece-increase", "1", "--max-brier-increase", "1"]
    )
    assert loosened.exit_code == 0, loosened.output
    assert aliases("cli-model")["champion"] == int(worse)

    missing = CliRunner().invoke(app, [*base, "--version", "99"])
    assert missing.exit_code == 2
    assert "has no version '99'" in missing.output

    history = CliRunner().invoke(
        runs_cli.app, ["promotions", "--model-name", "cli-model", "--tracking-uri", store]
    )
    assert history.exit_code == 0, history.output
    assert "refused" in history.output
    assert "promoted" in history.output


# --------------------------------------------------------------------------- segments


def segmented_frame() -> pd.DataFrame:
    """The out-of-time frame with every sixth row an applicant (44 applicant events)."""
    frame = out_of_time_frame()
    return frame.assign(is_applicant=np.arange(len(frame)) % 6 == 0)


def test_gate_refuses_a_challenger_worse_on_applicants_although_better_pooled() -> None:
    """Per-segment check: a better pooled AUC must not hide a worse applicant model."""
    frame = segmented_frame()
    x = frame["x"].to_numpy()
    applicants = frame["is_applicant"].to_numpy()
    champion = np.clip(x * np.exp(np.random.default_rng(9).normal(0, 1.2, len(x))), 0, 1)
    challenger = x.copy()  # sharp on existing customers, shuffled (useless) on applicants
    challenger[applicants] = x[np.random.default_rng(4).permutation(np.flatnonzero(applicants))]
    lenient = GateMargins(max_ece_increase=1.0, max_brier_increase=1.0)
    decision = evaluate_gate(frame, challenger, champion, lenient, label="default_test")
    checks = {check.metric: check for check in decision.checks}
    assert checks["default_test.roc_auc"].passed  # pooled: the challenger is better
    assert checks["default_test.roc_auc"].challenger > checks["default_test.roc_auc"].champion
    assert checks["default_test.existing.roc_auc"].passed
    assert not checks["default_test.applicants.roc_auc"].passed
    assert not decision.passed
    recorded = {c["metric"]: c for c in decision.evidence()["checks"]}
    assert recorded["default_test.applicants.roc_auc"]["passed"] is False


def test_segment_with_too_few_events_is_recorded_but_not_judged() -> None:
    frame = segmented_frame()
    applicants = frame["is_applicant"].to_numpy()
    decision = evaluate_gate(frame, frame["x"], frame["x"],
                             GateMargins(min_segment_events=45))  # 44 applicant events
    checks = {check.metric: check for check in decision.checks}
    skipped = checks["applicants.roc_auc"]
    assert skipped.passed
    assert skipped.note == "not enough events (44), not judged"
    assert "not enough events (44)" in skipped.describe()
    assert int(frame.loc[applicants, "y_true"].sum()) == 44
    assert not np.isnan(checks["existing.roc_auc"].challenger)
    with pytest.raises(ValueError, match="min_segment_events must be at least 1"):
        GateMargins(min_segment_events=0)


def test_a_late_only_champion_is_replaced_by_a_first_default_model_but_never_the_reverse(
    store: str,
) -> None:
    """A ledger too short for the default model gives a late-only champion; the first full
    bundle later passes the default frame without comparison (said so), while a late-only
    challenger against a full champion is refused: it would drop PD scoring."""
    late_only = add_version("grow-model", "good", frame_seed=1, late_only=True)
    tracking.set_alias("grow-model", tracking.CHAMPION_ALIAS, late_only)
    full = add_version("grow-model", "good", frame_seed=2)
    tracking.set_alias("grow-model", tracking.CHALLENGER_ALIAS, full)
    outcome = promote("grow-model", score_fn=score_by_kind, actor="ana", now=NOW)
    assert outcome.passed, outcome.decision.summary
    assert "has no default model" in outcome.decision.summary
    assert aliases("grow-model") == {"champion": int(full), "previous": int(late_only)}

    shrink = add_version("grow-model", "good", frame_seed=3, late_only=True)
    tracking.set_alias("grow-model", tracking.CHALLENGER_ALIAS, shrink)
    refused = promote("grow-model", score_fn=score_by_kind, actor="ana", now=NOW)
    assert not refused.passed
    assert "would drop PD scoring" in refused.decision.summary
    assert aliases("grow-model")["champion"] == int(full)
