"""A bundle pickled before the layers moved under ``creditrisk.`` is refused at load with a
message naming the retraining command, never a ``ModuleNotFoundError`` traceback."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from creditrisk.models.spec import FeatureSpec
from creditrisk.serving.api.errors import status_of
from creditrisk.serving.errors import IncompatibleBundle
from creditrisk.serving.model_holder import ModelHolder, ModelRef
from creditrisk.serving.registry import (
    MLMODEL_FILE,
    PYTHON_MODEL_FILE,
    ModelRegistry,
    pickled_modules,
)

# What an old pickle holds: protocol 4, the class by its pre-namespace path, then NEWOBJ.
OLD_PYFUNC = (
    b"\x80\x04\x8c\x0dmodels.pyfunc\x94\x8c\x10CreditRiskPyfunc\x94\x93\x94)\x81\x94."
)
OLD_BUNDLE_PROTOCOL_0 = b"cmodels.bundle\nCreditRiskBundle\n)\x81."


def test_the_old_class_paths_are_read_from_the_pickle_without_running_it() -> None:
    assert pickled_modules(OLD_PYFUNC) == {"models.pyfunc"}
    assert pickled_modules(OLD_BUNDLE_PROTOCOL_0) == {"models.bundle"}
    current = pickle.dumps([FeatureSpec, FeatureSpec], protocol=pickle.HIGHEST_PROTOCOL)
    assert pickled_modules(current) == {"creditrisk.models.spec"}  # negative control


@pytest.mark.parametrize("payload", [OLD_PYFUNC, OLD_BUNDLE_PROTOCOL_0])
def test_a_pre_namespace_bundle_file_is_refused_naming_the_retraining_command(
    tmp_path: Path, payload: bytes
) -> None:
    path = tmp_path / "bundle.pkl"
    path.write_bytes(payload)
    with pytest.raises(IncompatibleBundle) as info:
        ModelRegistry(f"sqlite:///{tmp_path / 'mlflow.db'}").load(str(path))
    message = str(info.value)
    assert "creditrisk train" in message
    assert "creditrisk promote" in message
    assert "models." in message
    assert str(path) in message
    assert status_of(info.value) == (503, "model_load_failed")


def test_a_pre_namespace_mlflow_model_directory_is_refused_before_mlflow_unpickles_it(
    tmp_path: Path,
) -> None:
    model_dir = tmp_path / "model"
    (model_dir / "artifacts").mkdir(parents=True)
    (model_dir / MLMODEL_FILE).write_text("flavors: {}\n")
    (model_dir / PYTHON_MODEL_FILE).write_bytes(OLD_PYFUNC)
    (model_dir / "artifacts" / "bundle.pkl").write_bytes(OLD_BUNDLE_PROTOCOL_0)
    with pytest.raises(IncompatibleBundle, match="creditrisk train, then creditrisk promote"):
        ModelRegistry(f"sqlite:///{tmp_path / 'mlflow.db'}").load(str(model_dir))


def test_the_holder_passes_the_refusal_on_and_keeps_serving_the_old_bundle(
    tmp_path: Path,
) -> None:
    """The reason reaches the operator (admin reload, start-up log) unwrapped."""
    from datetime import UTC, datetime

    old = tmp_path / "old.pkl"
    old.write_bytes(OLD_PYFUNC)
    registry = ModelRegistry(f"sqlite:///{tmp_path / 'mlflow.db'}")
    wanted = {"ref": ModelRef("good", "1")}
    holder = ModelHolder(
        loader=lambda uri: "good bundle" if uri == "good" else registry.load(uri),
        clock=lambda: datetime(2026, 1, 1, tzinfo=UTC),
        resolver=lambda: wanted["ref"],
    )
    holder.refresh()
    wanted["ref"] = ModelRef(str(old), "2")
    with pytest.raises(IncompatibleBundle):
        holder.refresh()
    assert holder.current is not None
    assert holder.current.bundle == "good bundle"
