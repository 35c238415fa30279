"""The promotion gate: a challenger replaces the champion only if it is not worse on the
champion's own out-of-time test set, by the configured margins.

Both versions score the same rows (the evaluation frame logged by the champion's training
run), with the same scoring code, so the comparison is like for like even when the challenger
was trained on newer data. Scoring is pluggable: ``promote`` takes a ``score_fn`` that turns a
model version and a frame into probabilities (the CLI passes the pyfunc-bundle scorer).

Beyond the pooled metrics the gate checks what matters to the users of the model:

* **per segment** - on frames that mark applicants (``is_applicant``), the ROC AUC of the
  applicants and of the existing customers separately may not drop beyond ``max_auc_drop``
  (a better pooled AUC can hide a worse applicant model); a segment with fewer than
  ``min_segment_events`` events is recorded as "not enough events (n)" and not judged;
* **declared risk directions** - with a ``behaviour_fn`` (the CLI passes
  :func:`training.scoring.direction_violations`), a challenger whose PD rises when an
  applicant input moves the way the catalog declares safe is refused.

Every decision, accepted or refused, is recorded (who, when, from which version to which,
the evidence with every check). The aliases move only when the gate passes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from creditrisk.training import tracking
from creditrisk.training.errors import TrainingError
from creditrisk.training.evaluation import (
    DEFAULT_ECE_BINS,
    MIN_EVENTS,
    binary_metrics,
    not_enough_events,
    outcome_array,
)
from creditrisk.training.tracking import ModelVersionRef

DEFAULT_GATE_FRAMES = ("default_test",)

# score_fn(model version, evaluation frame name, frame) -> probability per row of the frame
ScoreFn = Callable[[ModelVersionRef, str, pd.DataFrame], np.ndarray]
# behaviour_fn(model version) -> descriptions of its declared-direction violations ([] = none)
BehaviourFn = Callable[[ModelVersionRef], Sequence[str]]
SEGMENT_COLUMN = "is_applicant"
SEGMENTS = (("applicants", True), ("existing", False))
MAX_VIOLATIONS_IN_EVIDENCE = 10


class PromotionError(TrainingError, RuntimeError):
    """The promotion cannot be evaluated at all (no such version, no challenger, the champion's
    test set is missing). A challenger that is worse is not an error: it is a refusal."""


@dataclass(frozen=True)
class GateMargins:
    """How much worse than the champion the challenger may be, on the champion's test set.

    max_auc_drop: ROC AUC may fall by at most this much. max_ece_increase and
    max_brier_increase: calibration error and Brier score may rise by at most this much. The
    probabilities are used in money arithmetic (expected loss), hence calibration checks.
    """

    max_auc_drop: float = 0.005
    max_ece_increase: float = 0.002
    max_brier_increase: float = 0.001
    ece_bins: int = DEFAULT_ECE_BINS
    min_segment_events: int = MIN_EVENTS
    """A segment (applicants, existing customers) is judged only with this many events."""

    def __post_init__(self) -> None:
        for name in ("max_auc_drop", "max_ece_increase", "max_brier_increase"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"margin {name} must be a finite number >= 0, got {value!r}")
        if self.min_segment_events < 1:
            raise ValueError(
                f"min_segment_events must be at least 1, got {self.min_segment_events!r}"
            )


@dataclass(frozen=True)
class GateCheck:
    """One comparison: the metric on the same rows for both models, the bound the challenger
    had to meet (``allowed``), whether higher is better, and the verdict."""

    metric: str
    champion: float
    challenger: float
    allowed: float
    higher_is_better: bool
    passed: bool
    note: str = ""
    """Why a check was not judged (e.g. "not enough events (12)") or what it found."""

    def describe(self) -> str:
        if self.note:
            verdict = "ok" if self.passed else "REFUSED"
            return f"{self.metric}: {self.note} {verdict}"
        sign = ">=" if self.higher_is_better else "<="
        verdict = "ok" if self.passed else "WORSE"
        return (
            f"{self.metric}: challenger {self.challenger:.4f} vs champion {self.champion:.4f} "
            f"(must be {sign} {self.allowed:.4f}) {verdict}"
        )


@dataclass(frozen=True)
class GateDecision:
    """The gate's verdict: passed only if every check passed."""

    passed: bool
    checks: tuple[GateCheck, ...]
    summary: str
    champion_metrics: Mapping[str, float] = field(default_factory=dict)
    challenger_metrics: Mapping[str, float] = field(default_factory=dict)

    def evidence(self) -> dict[str, Any]:
        """JSON-ready record of the decision."""
        return {
            "passed": self.passed,
            "summary": self.summary,
            "checks": [asdict(check) for check in self.checks],
            "champion_metrics": dict(self.champion_metrics),
            "challenger_metrics": dict(self.challenger_metrics),
        }


@dataclass(frozen=True)
class PromotionOutcome:
    """What ``promote`` did: the gate decision, the versions involved, the record's run id."""

    decision: GateDecision
    model_name: str
    from_version: str | None
    to_version: str
    record_run_id: str

    @property
    def passed(self) -> bool:
        return self.decision.passed


def evaluate_gate(
    champion_frame: pd.DataFrame,
    challenger_scores: Any,
    champion_scores: Any,
    margins: GateMargins,
    *,
    label: str = "",
) -> GateDecision:
    """Compare two sets of probabilities on the champion's test rows (``champion_frame`` holds
    the outcome in ``y_true``). A metric that cannot be computed (NaN, e.g. a single-class test
    set) fails its check: the gate never passes on missing evidence."""
    y = outcome_array(champion_frame["y_true"].to_numpy())
    champion = binary_metrics(y, champion_scores, ece_bins=margins.ece_bins)
    challenger = binary_metrics(y, challenger_scores, ece_bins=margins.ece_bins)
    prefix = f"{label}." if label else ""
    rules = (
        ("roc_auc", True, margins.max_auc_drop),
        ("ece", False, margins.max_ece_increase),
        ("brier", False, margins.max_brier_increase),
    )
    checks = []
    for metric, higher_is_better, margin in rules:
        allowed = champion[metric] - margin if higher_is_better else champion[metric] + margin
        value = challenger[metric]
        ok = value >= allowed if higher_is_better else value <= allowed
        checks.append(
            GateCheck(
                metric=f"{prefix}{metric}",
                champion=champion[metric],
                challenger=value,
                allowed=allowed,
                higher_is_better=higher_is_better,
                passed=bool(ok) and not math.isnan(value) and not math.isnan(allowed),
            )
        )
    if SEGMENT_COLUMN in champion_frame.columns:
        checks += segment_checks(
            y, champion_frame[SEGMENT_COLUMN].to_numpy(dtype=bool),
            np.asarray(challenger_scores, dtype=np.float64),
            np.asarray(champion_scores, dtype=np.float64), margins, prefix=prefix,
        )
    return _decide(tuple(checks), len(y), champion, challenger, prefix)


def segment_checks(
    y: np.ndarray,
    is_applicant: np.ndarray,
    challenger_scores: np.ndarray,
    champion_scores: np.ndarray,
    margins: GateMargins,
    *,
    prefix: str = "",
) -> list[GateCheck]:
    """ROC AUC per segment (applicants, existing customers): may drop by at most
    ``max_auc_drop``; a segment with fewer than ``min_segment_events`` events is recorded as
    not judged."""
    checks = []
    for name, flag in SEGMENTS:
        rows = is_applicant == flag
        events = int(y[rows].sum())
        metric = f"{prefix}{name}.roc_auc"
        if events < margins.min_segment_events:
            checks.append(GateCheck(metric, math.nan, math.nan, math.nan, True, True,
                                    note=f"{not_enough_events(events)}, not judged"))
            continue
        champion = binary_metrics(y[rows], champion_scores[rows])["roc_auc"]
        challenger = binary_metrics(y[rows], challenger_scores[rows])["roc_auc"]
        allowed = champion - margins.max_auc_drop
        checks.append(GateCheck(metric, champion, challenger, allowed, True,
                                bool(challenger >= allowed) and not math.isnan(challenger)))
    return checks


def direction_check(
    champion_violations: Sequence[str], challenger_violations: Sequence[str]
) -> GateCheck:
    """Refuses a challenger whose PD rises when an applicant input moves the declared safe
    way (any violation fails; the champion's count is shown for reference)."""
    found = len(challenger_violations)
    shown = "; ".join(challenger_violations[:MAX_VIOLATIONS_IN_EVIDENCE])
    note = (f"{found} violation(s) of declared risk directions: {shown}" if found
            else "no violation of declared risk directions")
    return GateCheck("applicants.risk_direction_violations", float(len(champion_violations)),
                     float(found), 0.0, False, found == 0, note=note)


def _decide(
    checks: tuple[GateCheck, ...],
    rows: int,
    champion: Mapping[str, float],
    challenger: Mapping[str, float],
    prefix: str,
) -> GateDecision:
    passed = all(check.passed for check in checks)
    failed = [check.metric for check in checks if not check.passed]
    summary = (
        f"challenger is not worse than the champion on {rows} rows of the champion's test set"
        if passed
        else f"challenger is worse than the champion on {', '.join(failed)} ({rows} rows)"
    )
    return GateDecision(
        passed=passed,
        checks=checks,
        summary=summary,
        champion_metrics={f"{prefix}{key}": value for key, value in champion.items()},
        challenger_metrics={f"{prefix}{key}": value for key, value in challenger.items()},
    )


def combine(decisions: Sequence[GateDecision]) -> GateDecision:
    """One verdict over several test sets (e.g. default and late-payment): all must pass."""
    checks = tuple(check for decision in decisions for check in decision.checks)
    return GateDecision(
        passed=all(decision.passed for decision in decisions),
        checks=checks,
        summary="; ".join(decision.summary for decision in decisions),
        champion_metrics={k: v for d in decisions for k, v in d.champion_metrics.items()},
        challenger_metrics={k: v for d in decisions for k, v in d.challenger_metrics.items()},
    )


def _scores(
    score_fn: ScoreFn, version: ModelVersionRef, name: str, frame: pd.DataFrame
) -> np.ndarray:
    scores = np.asarray(score_fn(version, name, frame), dtype=np.float64).ravel()
    if len(scores) != len(frame):
        raise PromotionError(
            f"scoring {version.name} v{version.version} on {name!r} gave {len(scores)} values "
            f"for {len(frame)} rows"
        )
    return scores


def promote(
    model_name: str,
    challenger_version: str | None = None,
    *,
    score_fn: ScoreFn,
    actor: str,
    now: datetime,
    margins: GateMargins | None = None,
    frames: Sequence[str] = DEFAULT_GATE_FRAMES,
    behaviour_fn: BehaviourFn | None = None,
) -> PromotionOutcome:
    """Run the gate for ``challenger_version`` (default: the version aliased ``challenger``)
    against the current champion, move the aliases if it passes, record the decision.

    - No champion yet: the challenger becomes champion (evidence notes there was no gate).
    - Otherwise, for each evaluation frame name in ``frames`` logged by the champion's run,
      both versions score those rows with ``score_fn``; the gate compares them with ``margins``
      (pooled, and per segment where the frame marks applicants).
    - ``behaviour_fn`` given: the challenger must break no declared risk direction.
    - Passed: alias ``champion`` -> challenger, ``previous`` -> the old champion, and the
      ``challenger`` alias is removed if it pointed at the promoted version.
    - Refused: aliases untouched. Both outcomes are recorded by ``tracking.record_promotion``.
    """
    gate_margins = margins or GateMargins()
    challenger = _challenger(model_name, challenger_version)
    champion = tracking.alias_version(model_name, tracking.CHAMPION_ALIAS)
    if champion is not None and champion.version == challenger.version:
        raise PromotionError(
            f"version {challenger.version} of {model_name!r} is already the champion"
        )
    evidence: dict[str, Any] = {
        "margins": asdict(gate_margins),
        "challenger_run_id": challenger.run_id,
        "champion_run_id": champion.run_id if champion else None,
    }
    if champion is None:
        decision = GateDecision(
            passed=True,
            checks=(),
            summary=f"first champion: {model_name!r} had no champion, version "
            f"{challenger.version} judged without a comparison",
        )
    else:
        decision, rescoring = _gate(champion, challenger, score_fn, gate_margins, frames)
        evidence["frames"] = rescoring
    if behaviour_fn is not None:
        check = direction_check(behaviour_fn(champion) if champion else (),
                                behaviour_fn(challenger))
        summary = ("declared risk directions hold" if check.passed
                   else "challenger breaks declared risk directions on applicant inputs")
        decision = combine([decision, GateDecision(check.passed, (check,), summary)])
    else:
        evidence["risk_directions"] = "not checked (no behaviour_fn given)"
    evidence |= decision.evidence()
    if decision.passed:
        _move_aliases(model_name, champion, challenger)
    record_run_id = tracking.record_promotion(
        model_name,
        from_version=champion.version if champion else None,
        to_version=challenger.version,
        actor=actor,
        decided_at=now,
        promoted=decision.passed,
        evidence=evidence,
    )
    return PromotionOutcome(
        decision=decision,
        model_name=model_name,
        from_version=champion.version if champion else None,
        to_version=challenger.version,
        record_run_id=record_run_id,
    )


def _challenger(model_name: str, version: str | None) -> ModelVersionRef:
    if version is not None:
        try:
            return tracking.model_version(model_name, version)
        except tracking.TrackingError as exc:
            raise PromotionError(str(exc)) from exc
    found = tracking.alias_version(model_name, tracking.CHALLENGER_ALIAS)
    if found is None:
        raise PromotionError(
            f"model {model_name!r} has no version aliased {tracking.CHALLENGER_ALIAS!r}; "
            "name the version to promote"
        )
    return found


def _gate(
    champion: ModelVersionRef,
    challenger: ModelVersionRef,
    score_fn: ScoreFn,
    margins: GateMargins,
    frames: Sequence[str],
) -> tuple[GateDecision, dict[str, Any]]:
    if champion.run_id is None:
        raise PromotionError(f"champion {champion.name} v{champion.version} has no training run")
    decisions = []
    rescoring: dict[str, Any] = {}
    for name in frames:
        missing = _model_missing(champion, challenger, name)
        if missing is not None:
            decisions.append(missing)
            rescoring[name] = {"rows": 0, "compared": False}
            continue
        try:
            frame = tracking.load_evaluation_frame(champion.run_id, name)
        except tracking.TrackingError as exc:
            raise PromotionError(
                f"champion {champion.name} v{champion.version} (run {champion.run_id}) has no "
                f"evaluation frame {name!r} to judge the challenger on"
            ) from exc
        champion_scores = _scores(score_fn, champion, name, frame)
        challenger_scores = _scores(score_fn, challenger, name, frame)
        decisions.append(
            evaluate_gate(frame, challenger_scores, champion_scores, margins, label=name)
        )
        logged = frame["score"].to_numpy(dtype=np.float64)
        rescoring[name] = {
            "rows": len(frame),
            # re-scoring the champion should reproduce what its training run logged
            "champion_rescore_max_abs_diff": float(np.max(np.abs(logged - champion_scores)))
            if len(frame)
            else 0.0,
        }
    return combine(decisions), rescoring


def _has_frame(version: ModelVersionRef, name: str) -> bool:
    return version.run_id is not None and name in tracking.evaluation_frame_names(version.run_id)


def _model_missing(
    champion: ModelVersionRef, challenger: ModelVersionRef, name: str
) -> GateDecision | None:
    """A late-only bundle (no default model: a ledger too short or without default events)
    has no ``default_*`` evaluation frame. A challenger that adds the model the champion
    lacks passes this frame without a comparison (said so in the evidence); a challenger that
    drops a model the champion has is refused. ``None``: both have it, compare as usual."""
    if not name.startswith("default"):
        return None
    champion_has, challenger_has = _has_frame(champion, name), _has_frame(challenger, name)
    if champion_has == challenger_has or (champion_has and challenger.run_id is None):
        return None
    if challenger_has:
        return GateDecision(
            passed=True, checks=(),
            summary=f"{name}: the champion (v{champion.version}) has no default model; the "
            f"challenger's is its first, judged without a comparison")
    return GateDecision(
        passed=False, checks=(),
        summary=f"{name}: the challenger (v{challenger.version}) has no default model while "
        f"the champion (v{champion.version}) has one; promoting it would drop PD scoring")


def _move_aliases(
    model_name: str, champion: ModelVersionRef | None, challenger: ModelVersionRef
) -> None:
    if champion is not None:
        tracking.set_alias(model_name, tracking.PREVIOUS_ALIAS, champion.version)
    tracking.set_alias(model_name, tracking.CHAMPION_ALIAS, challenger.version)
    still_challenger = tracking.alias_version(model_name, tracking.CHALLENGER_ALIAS)
    if still_challenger is not None and still_challenger.version == challenger.version:
        tracking.delete_alias(model_name, tracking.CHALLENGER_ALIAS)
