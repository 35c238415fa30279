"""Installing the distribution claims exactly one top-level import name, ``creditrisk``: no
generic ``models`` or ``features`` in a shared environment. Built as a real wheel."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SKIP = {".git", ".venv", "demo", "build", "dist", ".mypy_cache", ".ruff_cache", ".pytest_cache",
        ".hypothesis", "mlruns", "__pycache__", "benchmarks", "tests", "docs"}


def _top_level_names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    return {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}


@pytest.mark.slow
def test_the_wheel_installs_only_the_creditrisk_package(tmp_path: Path) -> None:
    source = tmp_path / "source"
    shutil.copytree(REPO, source, symlinks=True,
                    ignore=lambda _dir, names: [n for n in names if n in SKIP or n.endswith(
                        (".egg-info", ".db"))])
    out = tmp_path / "wheel"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(out), str(source)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (wheel,) = out.glob("creditrisk-*.whl")
    assert _top_level_names(wheel) == {"creditrisk"}
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    # the layers, their data files and the migrations travel inside the namespace
    for expected in ("creditrisk/models/bundle.py", "creditrisk/features/catalog.py",
                     "creditrisk/serving/__init__.py", "creditrisk/ledger/mappings/canonical.yaml",
                     "creditrisk/migrations/versions/0001_ledger.py", "creditrisk/cli/__init__.py",
                     "creditrisk/models/policy.yaml"):
        assert expected in names, expected


def test_a_bare_layer_name_is_not_importable_from_the_installed_package() -> None:
    """The editable install maps only ``creditrisk``; ``import models`` must not resolve to
    this project from outside the repository root."""
    code = "import importlib.util, sys; print(importlib.util.find_spec('models') is None)"
    result = subprocess.run([sys.executable, "-c", code], cwd="/", capture_output=True,
                            text=True, timeout=60, check=True)
    assert result.stdout.strip() == "True"


def test_packaged_data_files_load_outside_the_repository() -> None:
    """Data shipped in the package (the default policy, the report template, the mappings)
    is found through ``creditrisk.*`` even where the repository root is not on sys.path
    (``make demo`` failed on ``resources.files("models")``)."""
    code = (
        "from creditrisk.models.policy import Policy; print(Policy.default().version)\n"
        "from creditrisk.ledger.mapping import load_mapping; load_mapping('canonical')\n"
        "from creditrisk.training.comparison import report_template\n"
        "print('$title' in report_template())\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd="/", capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-1] == "True"
