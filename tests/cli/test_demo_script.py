"""`make demo` runs scripts/demo.sh: every file it names exists and every option value it
passes is one the code accepts (a moved mapping or a removed model kind broke it silently)."""

from __future__ import annotations

import re
import typing
from pathlib import Path

from creditrisk.training.config import TrainingConfig

REPO = Path(__file__).resolve().parents[2]
SCRIPT = (REPO / "scripts" / "demo.sh").read_text()


def test_the_demo_mapping_file_exists() -> None:
    mappings = re.findall(r"--mapping\s+(\S+)", SCRIPT)
    assert mappings
    for mapping in mappings:
        assert (REPO / mapping).is_file(), mapping


def test_the_demo_model_kinds_are_accepted_by_the_training_config() -> None:
    kinds = re.findall(r"--model-kind\s+(\S+)", SCRIPT)
    assert kinds
    hints = typing.get_type_hints(TrainingConfig)
    accepted = set(typing.get_args(hints["model_kind"]))
    assert accepted, "model_kind is no longer a Literal: update this test"
    assert set(kinds) <= accepted
