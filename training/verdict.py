"""The answer a run comparison opens with: which run is better on which segment, beyond noise,
and what the promotion gate concluded if it judged these runs' versions.

"Beyond noise" uses the seeded bootstrap 95 % intervals every segment's ROC AUC is logged with
(``<segment>_roc_auc_low`` / ``_high``, :func:`training.evaluation.segment_metrics`): a run is
better on a segment only when its interval lies wholly above the other run's. That is
conservative (two intervals may overlap while the paired difference is still significant), so
"within noise" means "not shown to differ", never "equal". A segment with too few events is
named as such and not judged. Calibration (ECE) is reported beside the ranking, not judged.

Plain data in, plain data out: :mod:`training.comparison` reads MLflow and calls this.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from creditrisk.training.evaluation import bootstrap_auc_interval, events_shortfall

SEGMENTS: tuple[tuple[str, str], ...] = (
    ("default_test", "default model, all customers"),
    ("default_test_applicants", "default model, applicants"),
    ("default_test_existing", "default model, existing customers"),
    ("default_oot_applicants", "default model, applicants (all out-of-time onboardings)"),
    ("late_test", "late-payment model"),
    ("open_invoice_test", "open-invoice model"),
)
"""(metric stem, the segment as a credit analyst names it), in the order the verdict lists
them; stems a run did not log are skipped."""
RANKING = "roc_auc"
MAX_ROWS_FOR_INTERVAL = 50_000
"""A run logged without an interval gets one from its evaluation frame, up to this many rows
(the vectorised bootstrap holds resamples x rows in memory)."""
HEADLINE_SUFFIXES = ("roc_auc", "ece", "brier")
EXTRA_HEADLINES = ("late_test_days_late_mae",)


@dataclass(frozen=True)
class SegmentVerdict:
    """One segment judged between a reference run and another run."""

    segment: str
    metric: str
    reference: float
    other: float
    outcome: str
    """``better``, ``worse``, ``within noise``, ``not enough events`` or ``no interval``."""
    detail: str


@dataclass(frozen=True)
class GateRecord:
    """The promotion gate's decision on the versions of the compared runs (newest record)."""

    decision: str
    from_version: str
    to_version: str
    summary: str
    checks: tuple[str, ...]


@dataclass(frozen=True)
class Verdict:
    """The comparison's answer: ``other`` judged against ``reference`` per segment."""

    reference: str
    other: str
    segments: tuple[SegmentVerdict, ...] = ()
    gate: GateRecord | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def headline(self) -> str:
        better = [s.segment for s in self.segments if s.outcome == "better"]
        worse = [s.segment for s in self.segments if s.outcome == "worse"]
        if not self.segments:
            return f"{self.other} vs {self.reference}: no segment with a ROC AUC in both runs"
        if not better and not worse:
            return (f"{self.other} vs {self.reference}: no difference beyond noise on any "
                    "segment (bootstrap 95 % intervals overlap)")
        parts = []
        if better:
            parts.append(f"better on {'; '.join(better)}")
        if worse:
            parts.append(f"worse on {'; '.join(worse)}")
        return f"{self.other} vs {self.reference}: {', '.join(parts)} (beyond noise)"

    def lines(self) -> list[str]:
        """The verdict as text lines: headline, one line per segment, the gate, notes."""
        out = [self.headline()]
        out += [f"- {s.segment}: {s.outcome}, {s.detail}" for s in self.segments]
        if self.gate is not None:
            out.append(f"gate: {self.gate.decision} v{self.gate.from_version or '-'} -> "
                       f"v{self.gate.to_version}: {self.gate.summary}")
            out += [f"  {check}" for check in self.gate.checks]
        else:
            out.append("gate: no promotion decision recorded for these runs' versions")
        out += list(self.notes)
        return out


def _interval(metrics: Mapping[str, float], name: str) -> tuple[float, float] | None:
    low, high = metrics.get(f"{name}_low"), metrics.get(f"{name}_high")
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return None
    return float(low), float(high)


def _number(metrics: Mapping[str, float], name: str) -> float:
    value = metrics.get(name)
    return float(value) if value is not None else math.nan


def judge_segment(
    segment: str, stem: str, reference: Mapping[str, float], other: Mapping[str, float]
) -> SegmentVerdict | None:
    """The ranking of one segment in two runs (None when neither run logged it)."""
    name = f"{stem}_{RANKING}"
    shortfalls = [events_shortfall(m, name) for m in (reference, other)]
    if all(m.get(name) is None for m in (reference, other)) and all(
        s is None for s in shortfalls
    ):
        return None
    a, b = _number(reference, name), _number(other, name)
    if any(s is not None for s in shortfalls):
        events = min(s for s in shortfalls if s is not None)
        return SegmentVerdict(segment, name, a, b, "not enough events",
                              f"{events:.0f} in the smaller run, not judged")
    if not (math.isfinite(a) and math.isfinite(b)):
        return SegmentVerdict(segment, name, a, b, "no interval",
                              "not judged: the metric is missing in one run")
    ece = ""
    ece_a, ece_b = _number(reference, f"{stem}_ece"), _number(other, f"{stem}_ece")
    if math.isfinite(ece_a) and math.isfinite(ece_b):
        ece = f"; ECE {ece_b:.4f} vs {ece_a:.4f}"
    ia, ib = _interval(reference, name), _interval(other, name)
    if ia is None or ib is None:
        return SegmentVerdict(segment, name, a, b, "no interval",
                              f"ROC AUC {b:.4f} vs {a:.4f} (no bootstrap interval logged){ece}")
    shown = f"ROC AUC {b:.4f} [{ib[0]:.3f}, {ib[1]:.3f}] vs {a:.4f} [{ia[0]:.3f}, {ia[1]:.3f}]"
    if ib[0] > ia[1]:
        outcome = "better"
    elif ib[1] < ia[0]:
        outcome = "worse"
    else:
        outcome = "within noise"
    return SegmentVerdict(segment, name, a, b, outcome, f"{shown}{ece}")


def with_intervals(
    metrics_by_run: Mapping[str, Mapping[str, float]],
    curves: Mapping[str, Mapping[str, tuple[Any, Any]]],
) -> dict[str, dict[str, float]]:
    """The runs' metrics plus a bootstrap 95 % ROC AUC interval (same seed and resamples as
    training's) for every evaluation frame a run logged without one (the pooled test sets:
    training logs intervals per segment only), computed from the frame's outcomes and scores."""
    out = {label: dict(values) for label, values in metrics_by_run.items()}
    for frame, series in curves.items():
        name = f"{frame}_{RANKING}"
        for label, (y_true, score) in series.items():
            values = out.get(label)
            if values is None or f"{name}_low" in values or name not in values:
                continue
            if not 0 < len(y_true) <= MAX_ROWS_FOR_INTERVAL:
                continue
            low, high = bootstrap_auc_interval(y_true, score)
            values[f"{name}_low"], values[f"{name}_high"] = low, high
    return out


def judge(
    metrics_by_run: Mapping[str, Mapping[str, float]], gate: GateRecord | None = None
) -> Verdict:
    """The last run judged against the first, segment by segment (:data:`SEGMENTS`)."""
    labels = list(metrics_by_run)
    reference, other = labels[0], labels[-1]
    segments = tuple(
        verdict
        for stem, segment in SEGMENTS
        if (verdict := judge_segment(segment, stem, metrics_by_run[reference],
                                     metrics_by_run[other])) is not None
    )
    notes: tuple[str, ...] = ()
    if len(labels) > 2:
        notes = (f"judged: the last run against the first; the {len(labels) - 2} run(s) in "
                 "between are in the tables",)
    return Verdict(reference, other, segments, gate, notes)


def headline_names(available: Sequence[str]) -> list[str]:
    """The metrics a reader looks at first: ROC AUC, ECE and Brier of every segment (in the
    verdict's order), then the late-payment days error."""
    names = [f"{stem}_{suffix}" for stem, _ in SEGMENTS for suffix in HEADLINE_SUFFIXES]
    names += list(EXTRA_HEADLINES)
    present = set(available)
    return [name for name in names if name in present]


def headline_table(metrics: pd.DataFrame, wanted: Sequence[str] | None = None) -> pd.DataFrame:
    """The comparison's metrics table cut to its headline rows (or to ``wanted``, the rows
    the user asked for with ``--metric``, already selected by the comparison)."""
    if wanted:
        return metrics
    return metrics.loc[headline_names(list(metrics.index))]


def gate_record(evidence: Mapping[str, Any], tags: Mapping[str, str]) -> GateRecord:
    """A promotion record (its tags and evidence.json) as the verdict shows it."""
    from creditrisk.training.promotion import GateCheck

    decided = evidence.get("evidence", evidence)  # evidence.json: the tags + "evidence"
    checks = tuple(GateCheck(**check).describe() for check in decided.get("checks", []))
    return GateRecord(
        decision=str(tags.get("decision", "")),
        from_version=str(tags.get("from_version", "")),
        to_version=str(tags.get("to_version", "")),
        summary=str(decided.get("summary", "")),
        checks=checks,
    )
