"""The pyfunc answers like the service and travels: optional inputs really optional, reason
sentences beside the codes, bad rows named, a typed signature, requirements without
``creditrisk`` and the package code carried in the model."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from creditrisk.models.bundle import APPLICATION_COLUMNS, CreditRiskBundle
from creditrisk.models.pyfunc import (
    OPTIONAL_INPUTS,
    PYFUNC_OUTPUTS,
    ApplicationRowError,
    package_code,
    requirements,
    score_rows,
    signature,
)
from tests.serving.bundle_fixture import (
    example_applications,
    synthetic_ledger,
    train_bundle,
    training_frames,
)


@pytest.fixture(scope="module")
def bundle() -> CreditRiskBundle:
    frames = training_frames(synthetic_ledger(n_customers=400), max_invoices=3_000)
    return train_bundle(frames, rounds=10)


def test_rows_are_scored_as_the_service_scores_them(bundle: CreditRiskBundle) -> None:
    rows = example_applications()
    out = score_rows(bundle, rows)
    assert out.columns.tolist() == [name for name, _ in PYFUNC_OUTPUTS]
    for i, row in enumerate(rows.to_dict(orient="records")):
        attributes = {k: (None if isinstance(v, float) and math.isnan(v) else v)
                      for k, v in row.items() if k != "as_of"}
        attributes["founded_on"] = date.fromisoformat(row["founded_on"])
        score = bundle.score_applicant(attributes, as_of=date.fromisoformat(row["as_of"]))
        assert out.loc[i, "pd_12m"] == pytest.approx(score.pd_12m, abs=1e-12)
        assert out.loc[i, "grade"] == str(score.grade)
        assert out.loc[i, "decision"] == score.decision
        assert out.loc[i, "decision_reasons"] == ",".join(c for c, _ in score.decision_reasons)
        texts = out.loc[i, "decision_reason_texts"].split("\n")
        assert texts == [t for _, t in score.decision_reasons]
        assert all(text.strip() for text in texts)


def test_optional_inputs_may_be_left_out(bundle: CreditRiskBundle) -> None:
    rows = example_applications()
    with_nulls = rows.assign(**dict.fromkeys(OPTIONAL_INPUTS, math.nan))
    without = rows.drop(columns=list(OPTIONAL_INPUTS))
    pd.testing.assert_frame_equal(score_rows(bundle, without), score_rows(bundle, with_nulls))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"founded_on": "2031-02-30"}, "founded_on"),
        ({"founded_on": "2026-06-01", "as_of": "2025-12-31"}, "founded_on"),
        ({"as_of": None}, "as_of"),
        ({"country": None}, "country"),
    ],
)
def test_a_bad_row_is_named_with_its_field(
    bundle: CreditRiskBundle, change: dict[str, object], field: str
) -> None:
    rows = example_applications()
    bad = pd.DataFrame([rows.iloc[0].to_dict(), {**rows.iloc[1].to_dict(), **change}])
    with pytest.raises(ApplicationRowError, match=rf"^row 1, {field}: ") as caught:
        score_rows(bundle, bad)
    assert caught.value.field == field


def test_signature_is_typed_with_optional_inputs_and_no_integer_column() -> None:
    sig = signature()
    inputs = {spec.name: spec for spec in sig.inputs.inputs}
    assert list(inputs) == list(APPLICATION_COLUMNS)
    assert {name for name, spec in inputs.items() if not spec.required} == set(OPTIONAL_INPUTS)
    types = {str(spec.type) for spec in [*sig.inputs.inputs, *sig.outputs.inputs]}
    assert not {"integer", "long"} & {t.split(".")[-1].lower() for t in types}


def test_the_model_carries_its_code_and_pins_what_it_needs(tmp_path: Path) -> None:
    pinned = requirements()
    assert not any(line.split("==")[0] == "creditrisk" for line in pinned)
    names = {line.split("==")[0] for line in pinned}
    assert {"mlflow", "lightgbm", "pandas", "numpy", "scikit-learn"} <= names
    assert all("==" in line for line in pinned)
    code = package_code(tmp_path)
    assert (code / "__init__.py").is_file()
    assert (code / "models" / "pyfunc.py").is_file()
    assert not (code / "models").is_symlink()  # the layers are copied, not linked
    assert not (code / "cli").exists()  # the command line does not travel
