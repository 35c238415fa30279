"""docs/training.example.yaml is the documented training configuration: it loads, equals the
defaults, and names every key the config has (so neither can drift from the other)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from creditrisk.training.config import TrainingConfig

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "training.example.yaml"


def _keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    out = set()
    for name, info in model.model_fields.items():
        annotation: Any = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            out |= _keys(annotation, f"{prefix}{name}.")
        else:
            out.add(f"{prefix}{name}")
    return out


def _flat(data: dict[str, Any], prefix: str = "") -> set[str]:
    out = set()
    for name, value in data.items():
        if isinstance(value, dict) and value and name != "lgbm_params":
            out |= _flat(value, f"{prefix}{name}.")
        else:
            out.add(f"{prefix}{name}")
    return out


def test_the_example_config_loads_and_equals_the_defaults() -> None:
    assert TrainingConfig.from_yaml(EXAMPLE) == TrainingConfig()


def test_the_example_config_names_every_key() -> None:
    written = _flat(yaml.safe_load(EXAMPLE.read_text()))
    assert written == _keys(TrainingConfig)
