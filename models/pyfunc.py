"""The MLflow pyfunc around :class:`models.bundle.CreditRiskBundle`: a bundle that travels.

Input: application rows (:data:`models.bundle.APPLICATION_COLUMNS`; ``external_score`` and
``expected_monthly_sales`` may be left out or null). Output: what the service answers for the
same applicant (:data:`PYFUNC_OUTPUTS`): PD, grade label and name, decision, limit, expected
loss, currency, the decision's reason codes *and* sentences, the top factors. Each row goes
through the service's own path (:meth:`CreditRiskBundle.score_applicant`), so ``mlflow models
serve`` and the API give the same answer; bad input is a 400 naming the row and field, never a
stack trace.

The model carries its own code and requirements (:func:`log_options`): logged as MLflow 3
recommends ("models from code": a small script, not a pickled class), with the ``creditrisk``
package copied in as ``code_paths`` and ``requirements.txt`` pinning the installed versions of
the libraries the bundle needs (never ``creditrisk`` itself, which no package index has). A
machine that never saw this repository serves it from a virtual environment built from that
file alone. The bundle is pickled as one artifact (trusted: written by our own training runs)
and loaded once per process.
"""

from __future__ import annotations

import math
import pickle
import shutil
from datetime import date
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from mlflow.pyfunc.model import PythonModel

from creditrisk.models.bundle import (
    APPLICATION_COLUMNS,
    CreditRiskBundle,
    MissingDefaultModel,
    format_factors,
)

if TYPE_CHECKING:
    from mlflow.models import ModelSignature

BUNDLE_ARTIFACT = "bundle"
BUNDLE_FILE = "bundle.pkl"

OPTIONAL_INPUTS: tuple[str, ...] = ("external_score", "expected_monthly_sales")
"""Application fields an applicant may leave out (null or absent column)."""
TEXT_INPUTS: tuple[str, ...] = ("country", "industry", "founded_on", "as_of")
"""Inputs sent as text (the dates as ISO ``YYYY-MM-DD``); every other input is a number."""

PYFUNC_OUTPUTS: tuple[tuple[str, str], ...] = (
    ("pd_12m", "double"),
    ("grade", "string"),
    ("grade_name", "string"),
    ("decision", "string"),
    ("recommended_limit", "double"),
    ("expected_loss", "double"),
    ("currency", "string"),
    ("decision_reasons", "string"),
    ("decision_reason_texts", "string"),
    ("top_factors", "string"),
)
"""(column, MLflow type) of each output row: the service's answer. ``decision_reasons`` are
the codes joined by ','; ``decision_reason_texts`` the sentences, one per line, same order."""

MONEY_DECIMALS = 2
"""Amounts are answered in cents, as the service answers them."""

BUNDLE_DISTRIBUTIONS: tuple[str, ...] = (
    "numpy", "pandas", "pyarrow", "scipy", "scikit-learn", "lightgbm", "optbinning",
    "matplotlib", "pyyaml", "pydantic", "cachetools",
)
"""The libraries loading and scoring a bundle imports (the model and policy code, LightGBM,
the scorecard's optbinning): pinned in the model's requirements at their installed versions."""

MODEL_CODE = (
    '"""The creditrisk bundle as an MLflow model from code (written by models/pyfunc.py)."""\n'
    "from mlflow.models import set_model\n\n"
    "from creditrisk.models.pyfunc import CreditRiskPyfunc\n\n"
    "set_model(CreditRiskPyfunc())\n"
)
"""The script MLflow logs as the model ("models from code"): no pickled Python class."""


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


class ApplicationRowError(ValueError):
    """One application row the bundle cannot score: names the row and the field."""

    def __init__(self, row: int, field: str, problem: str) -> None:
        super().__init__(f"row {row}, {field}: {problem}")
        self.row = row
        self.field = field
        self.problem = problem


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _day(value: Any, *, row: int, field: str) -> date:
    if isinstance(value, date):
        return value
    text = "" if _missing(value) else str(value)[:10]
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ApplicationRowError(row, field, f"{value!r} is not a date such as 2025-12-31"
                                  ) from None


def score_rows(bundle: CreditRiskBundle, rows: pd.DataFrame) -> pd.DataFrame:
    """The service's answer for each application row (:data:`PYFUNC_OUTPUTS`).

    :class:`ApplicationRowError` for a missing required column or value, a bad date, a
    company founded after the decision date, or an input outside the trained range."""
    from creditrisk.models.applicant_inputs import ApplicantInputOutOfRange

    required = [c for c in APPLICATION_COLUMNS if c not in OPTIONAL_INPUTS]
    absent = [c for c in required if c not in rows.columns]
    if absent:
        raise ApplicationRowError(0, absent[0], f"column missing (required: {', '.join(absent)})")
    policy = bundle.policy
    out: list[dict[str, Any]] = []
    for row, record in enumerate(rows.to_dict(orient="records")):
        for name in required:
            if _missing(record.get(name)):
                raise ApplicationRowError(row, name, "is required")
        as_of = _day(record["as_of"], row=row, field="as_of")
        attributes = {name: (None if _missing(record.get(name)) else record.get(name))
                      for name in APPLICATION_COLUMNS if name != "as_of"}
        founded_on = _day(record["founded_on"], row=row, field="founded_on")
        attributes["founded_on"] = founded_on
        if founded_on > as_of:
            raise ApplicationRowError(row, "founded_on",
                                      f"must not be after the decision date {as_of}")
        try:
            score = bundle.score_applicant(attributes, as_of=as_of)
        except ApplicantInputOutOfRange as exc:
            raise ApplicationRowError(row, exc.field, str(exc)) from exc
        out.append({
            "pd_12m": score.pd_12m,
            "grade": str(score.grade),
            "grade_name": policy.scale.band(score.grade).name,
            "decision": score.decision,
            "recommended_limit": round(score.recommended_limit, MONEY_DECIMALS),
            "expected_loss": round(score.expected_loss, MONEY_DECIMALS),
            "currency": policy.currency,
            "decision_reasons": ",".join(code for code, _ in score.decision_reasons),
            "decision_reason_texts": "\n".join(text for _, text in score.decision_reasons),
            "top_factors": format_factors(score.factors),
        })
    return pd.DataFrame(out, columns=[name for name, _ in PYFUNC_OUTPUTS])


class CreditRiskPyfunc(PythonModel):
    """``predict`` scores application rows as the service does (:func:`score_rows`)."""

    bundle: CreditRiskBundle | None = None

    def load_context(self, context: Any) -> None:
        self.bundle = load_bundle(Path(context.artifacts[BUNDLE_ARTIFACT]))

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
        from mlflow.exceptions import MlflowException

        if self.bundle is None:
            self.load_context(context)
        assert self.bundle is not None
        try:
            return score_rows(self.bundle, pd.DataFrame(model_input))
        except ApplicationRowError as exc:  # a 400 naming row and field, without a stack trace
            raise MlflowException.invalid_parameter_value(str(exc)) from None
        except MissingDefaultModel as exc:  # a late-only bundle: a 503 saying why, as the API
            from mlflow.protos.databricks_pb2 import TEMPORARILY_UNAVAILABLE

            raise MlflowException(str(exc), error_code=TEMPORARILY_UNAVAILABLE) from None


def signature() -> ModelSignature:
    """Typed input and output schema: optional inputs marked optional, numbers as doubles (no
    integer column that could not hold a missing value), dates as ISO text."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    inputs = Schema([
        ColSpec("string" if name in TEXT_INPUTS else "double", name,
                required=name not in OPTIONAL_INPUTS)
        for name in APPLICATION_COLUMNS
    ])
    outputs = Schema([ColSpec(kind, name) for name, kind in PYFUNC_OUTPUTS])
    return ModelSignature(inputs=inputs, outputs=outputs)


def requirements() -> list[str]:
    """The model's ``requirements.txt``: MLflow and :data:`BUNDLE_DISTRIBUTIONS` at the versions
    installed here (so a fresh environment scores exactly as this one)."""
    pinned = []
    for name in ("mlflow", *BUNDLE_DISTRIBUTIONS):
        try:
            pinned.append(f"{name}=={version(name)}")
        except PackageNotFoundError:  # not installed here: the bundle cannot need it
            continue
    return pinned


def package_code(directory: Path) -> Path:
    """A copy of the installed ``creditrisk`` package in ``directory`` (symlinked layers copied
    as folders, no caches): the model's ``code_paths``, importable as ``creditrisk``."""
    import creditrisk

    source = Path(creditrisk.__file__).resolve().parent
    target = directory / "creditrisk"
    shutil.copytree(source, target, symlinks=False,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "cli"))
    return target


def log_options(bundle_path: Path, example: pd.DataFrame | None, workdir: Path
                ) -> dict[str, Any]:
    """Arguments for ``mlflow.pyfunc.log_model`` (:func:`training.tracking.log_model`) that
    make a bundle travel: the model-from-code script, the pickled bundle, the typed
    signature, an input example, the package code and pinned requirements. ``workdir`` (a
    temporary folder) holds the script and the code copy until the model is logged.

    ``example`` None: a late-only bundle, which cannot score an application (its ``predict``
    answers a 503 naming the missing default model): no example MLflow could check, and a
    signature of the inputs alone."""
    script = workdir / "creditrisk_model.py"
    script.write_text(MODEL_CODE, encoding="utf-8")
    code = package_code(workdir / "code")
    typed = signature()
    options: dict[str, Any] = {
        "python_model": str(script),
        "artifacts": {BUNDLE_ARTIFACT: str(bundle_path)},
        "signature": typed,
        "code_paths": [str(code)],
        "pip_requirements": requirements(),
    }
    if example is None:
        from mlflow.models import ModelSignature

        options["signature"] = ModelSignature(inputs=typed.inputs)
    else:
        options["input_example"] = example
    return options
