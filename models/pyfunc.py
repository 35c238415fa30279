"""The MLflow pyfunc wrapper around :class:`models.bundle.CreditRiskBundle`.

Input: application rows (:data:`models.bundle.APPLICATION_COLUMNS`); output: the decision
columns (:data:`models.bundle.APPLICATION_OUTPUTS`). The bundle is pickled as one artifact
(trusted: it is written by our own training runs) and loaded once per process.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pandas as pd
from mlflow.pyfunc.model import PythonModel

from creditrisk.models.bundle import CreditRiskBundle

BUNDLE_ARTIFACT = "bundle"
BUNDLE_FILE = "bundle.pkl"


def save_bundle(bundle: CreditRiskBundle, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    bundle._template = None  # rebuilt lazily where it is loaded
    with path.open("wb") as fh:
        pickle.dump(bundle, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return path


def load_bundle(path: Path) -> CreditRiskBundle:
    with Path(path).open("rb") as fh:
        bundle = pickle.load(fh)  # noqa: S301 - our own artifact, written by training
    if not isinstance(bundle, CreditRiskBundle):
        raise TypeError(f"{path} does not hold a CreditRiskBundle")
    return bundle


class CreditRiskPyfunc(PythonModel):
    """``predict`` scores application rows with the bundle's default model and policy."""

    bundle: CreditRiskBundle | None = None

    def load_context(self, context: Any) -> None:
        self.bundle = load_bundle(Path(context.artifacts[BUNDLE_ARTIFACT]))

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
        if self.bundle is None:
            self.load_context(context)
        assert self.bundle is not None
        return self.bundle.score_applications(pd.DataFrame(model_input))
