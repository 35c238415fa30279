"""The one error base of ``training``: every error a training, comparison or promotion step
raises on purpose derives from :class:`TrainingError`, so the CLI (the edge) translates all of
them into a clear message without a traceback.

Hierarchy (each also keeps the built-in base it always had, so existing ``except`` clauses
still match)::

    TrainingError
    ├── SplitError          (ValueError)    training.split: no out-of-time split possible
    ├── DatasetError        (ValueError)    training.datasets: labels or snapshots unusable
    ├── TrainingDataError   (ValueError)    training.fitting: a split too small or one class
    ├── EvaluationError     (ValueError)    training.evaluation: inputs that cannot be scored
    ├── TrackingError       (RuntimeError)  training.tracking: MLflow store, runs, registry
    ├── ComparisonError     (LookupError)   training.comparison: no such run to compare
    └── PromotionError      (RuntimeError)  training.promotion: the gate cannot be evaluated

A challenger that is worse than the champion is not an error: the gate refuses it and records
the evidence (:class:`training.promotion.GateDecision`).
"""

from __future__ import annotations


class TrainingError(Exception):
    """Base of every deliberate error of the training package (see the module docstring)."""
