"""What the promotion gate needs from a registered bundle: its scores on a logged evaluation
frame, and its declared-direction violations on applicant inputs."""

from __future__ import annotations

from functools import lru_cache

import mlflow.pyfunc
import numpy as np
import pandas as pd

from creditrisk.models.behaviour import probe_applications, risk_direction_violations
from creditrisk.models.bundle import CreditRiskBundle
from creditrisk.training.evaluation import EvaluationError
from creditrisk.training.tracking import ModelVersionRef


@lru_cache(maxsize=8)
def load_registered_bundle(uri: str) -> CreditRiskBundle:
    """The bundle behind ``models:/NAME/VERSION`` (cached: versions are immutable)."""
    model = mlflow.pyfunc.load_model(uri)
    python_model = model.unwrap_python_model()
    bundle = getattr(python_model, "bundle", None)
    if not isinstance(bundle, CreditRiskBundle):
        raise TypeError(f"{uri} is not a creditrisk bundle")
    return bundle


def score_evaluation_frame(
    version: ModelVersionRef, frame_name: str, frame: pd.DataFrame
) -> np.ndarray:
    """PD (``default_test``) or P(late) (``late_test``) of ``version`` on a logged frame."""
    bundle = load_registered_bundle(version.uri)
    if frame_name.startswith("default"):
        if not bundle.has_default_model:
            raise EvaluationError(
                f"{version.uri} has no default model (a late-only bundle: "
                f"{bundle.metadata.get('default_model_skipped', 'trained without one')}); it "
                f"cannot be judged on {frame_name!r} against a champion that has one")
        return bundle.predict_pd_12m(frame)
    if frame_name.startswith("late"):
        return bundle.late_model.predict_proba(bundle.invoice_spec.encode(frame))
    raise ValueError(f"no scorer for evaluation frame {frame_name!r}")


def direction_violations(version: ModelVersionRef) -> list[str]:
    """The promotion gate's behaviour check: every declared-direction violation of
    ``version``'s applicant scoring on seeded probe applications inside its training ranges,
    as sentences (empty when every declared direction holds)."""
    bundle = load_registered_bundle(version.uri)
    if not bundle.has_default_model:
        return []  # a late-only bundle scores no applicant: it declares no direction to break
    as_of = str(bundle.metadata.get("data_end", "2025-01-01"))
    found = risk_direction_violations(bundle, probe_applications(bundle, as_of=as_of))
    return [violation.describe() for violation in found]
