"""Imports point one way: features <- models <- training / serving; serving never imports
training; nothing imports the CLI package."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# package -> packages it must never import
FORBIDDEN: dict[str, set[str]] = {
    "features": {"models", "training", "serving", "creditrisk"},
    "models": {"training", "serving", "creditrisk"},
    "training": {"serving", "creditrisk"},
    "serving": {"training", "creditrisk"},
}


def imported_top_levels(source: str) -> set[str]:
    tree = ast.parse(source)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def violations(root: Path) -> list[str]:
    out = []
    for package, banned in FORBIDDEN.items():
        for path in sorted((root / package).rglob("*.py")):
            bad = imported_top_levels(path.read_text()) & banned
            out.extend(f"{path.relative_to(root)} imports {name}" for name in sorted(bad))
    return out


def test_import_direction_is_one_way() -> None:
    assert violations(REPO) == []


def test_checker_catches_a_backwards_import(tmp_path: Path) -> None:
    """The guard itself must fail when a lower layer imports a higher one."""
    for package in FORBIDDEN:
        (tmp_path / package).mkdir()
    (tmp_path / "features" / "bad.py").write_text("from models.bundle import Bundle\n")
    (tmp_path / "serving" / "bad.py").write_text("import training.fit\n")
    assert violations(tmp_path) == [
        "features/bad.py imports models",
        "serving/bad.py imports training",
    ]


@pytest.mark.parametrize("package", ["features", "models", "training", "serving"])
def test_nothing_imports_the_cli(package: str) -> None:
    for path in (REPO / package).rglob("*.py"):
        assert "creditrisk" not in imported_top_levels(path.read_text()), path
