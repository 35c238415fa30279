"""Imports point one way: ledger <- features <- models <- training / serving; synthetic sits on
the ledger only; serving never imports training; nothing imports the CLI package. Every
library import goes through the one ``creditrisk`` namespace (no bare ``features``)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

LAYERS = ("ledger", "synthetic", "features", "models", "training", "serving")

# layer -> layers it must never import (the CLI, ``creditrisk.cli``, is banned for all)
FORBIDDEN: dict[str, set[str]] = {
    "ledger": {"synthetic", "features", "models", "training", "serving", "cli"},
    "synthetic": {"features", "models", "training", "serving", "cli"},
    "features": {"synthetic", "models", "training", "serving", "cli"},
    "models": {"synthetic", "training", "serving", "cli"},
    "training": {"serving", "cli"},
    "serving": {"training", "synthetic", "cli"},
}

BARE_NAMES = {*LAYERS, "migrations"}


def imported_modules(source: str) -> set[str]:
    tree = ast.parse(source)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def imported_layers(source: str) -> set[str]:
    """The ``creditrisk`` sub-packages a module imports (``creditrisk.models.x`` -> models)."""
    layers = set()
    for name in imported_modules(source):
        parts = name.split(".")
        if parts[0] == "creditrisk" and len(parts) > 1:
            layers.add(parts[1])
    return layers


def bare_imports(source: str) -> set[str]:
    """Imports of a layer outside the namespace (``import features``): claims generic names."""
    return {name.split(".")[0] for name in imported_modules(source)} & BARE_NAMES


def violations(root: Path) -> list[str]:
    out = []
    for package, banned in FORBIDDEN.items():
        for path in sorted((root / package).rglob("*.py")):
            source = path.read_text()
            bad = imported_layers(source) & banned
            out.extend(f"{path.relative_to(root)} imports {name}" for name in sorted(bad))
            out.extend(
                f"{path.relative_to(root)} imports bare {name}"
                for name in sorted(bare_imports(source))
            )
    return out


def test_import_direction_is_one_way() -> None:
    assert violations(REPO) == []


def test_checker_catches_a_backwards_import(tmp_path: Path) -> None:
    """The guard itself must fail when a lower layer imports a higher one."""
    for package in FORBIDDEN:
        (tmp_path / package).mkdir()
    (tmp_path / "features" / "bad.py").write_text("from creditrisk.models.bundle import B\n")
    (tmp_path / "serving" / "bad.py").write_text("import creditrisk.training.fit\n")
    (tmp_path / "models" / "bad.py").write_text("from creditrisk import cli\n")
    (tmp_path / "ledger" / "bad.py").write_text("from features.catalog import CATALOG\n")
    assert sorted(violations(tmp_path)) == [
        "features/bad.py imports models",
        "ledger/bad.py imports bare features",
        "models/bad.py imports cli",
        "serving/bad.py imports training",
    ]


def test_the_namespace_links_every_layer() -> None:
    """``creditrisk/<layer>`` is the layer's folder, so installed it is ``creditrisk.<layer>``."""
    for layer in BARE_NAMES:
        link = REPO / "creditrisk" / layer
        assert link.is_symlink(), link
        assert link.resolve() == (REPO / layer).resolve()


@pytest.mark.parametrize("package", LAYERS)
def test_nothing_imports_the_cli(package: str) -> None:
    for path in (REPO / package).rglob("*.py"):
        assert "cli" not in imported_layers(path.read_text()), path


# serving: business modules (rating, portfolio, worklist...) are plain Python that the HTTP
# routes, batch rescoring and Spark all call; only serving/api knows the web framework.
WEB_MODULES = ("fastapi", "starlette")


def web_imports(root: Path) -> list[str]:
    """Plain serving modules (``serving/*.py``) importing the web layer or a web framework."""
    out = []
    for path in sorted((root / "serving").glob("*.py")):
        for name in sorted(imported_modules(path.read_text())):
            top = name.split(".")[0]
            if top in WEB_MODULES or name == "creditrisk.serving.api" or name.startswith(
                "creditrisk.serving.api."
            ):
                out.append(f"{path.relative_to(root)} imports {name}")
    return out


def test_serving_business_modules_never_import_the_web_layer() -> None:
    assert web_imports(REPO) == []


def test_web_import_checker_catches_fastapi_starlette_and_the_api(tmp_path: Path) -> None:
    """Negative control: the guard fails on each kind of web import."""
    (tmp_path / "serving" / "api").mkdir(parents=True)
    (tmp_path / "serving" / "rating.py").write_text("from fastapi import HTTPException\n")
    (tmp_path / "serving" / "worklist.py").write_text("import starlette.responses\n")
    (tmp_path / "serving" / "portfolio.py").write_text(
        "from creditrisk.serving.api.schemas import PortfolioOut\n"
    )
    (tmp_path / "serving" / "api" / "app.py").write_text("from fastapi import FastAPI\n")
    (tmp_path / "serving" / "money.py").write_text("from creditrisk.serving.api_keys import K\n")
    assert web_imports(tmp_path) == [
        "serving/portfolio.py imports creditrisk.serving.api.schemas",
        "serving/portfolio.py imports creditrisk.serving.api.schemas.PortfolioOut",
        "serving/rating.py imports fastapi",
        "serving/rating.py imports fastapi.HTTPException",
        "serving/worklist.py imports starlette.responses",
    ]


# pyspark is an optional extra (creditrisk[spark]): only the Spark engine and the Spark snapshot
# builder import it; the local engine, the service and the CLI run without it installed.
SPARK_MODULES = ("pyspark", "py4j")
SPARK_ALLOWED = ("serving/rescoring/spark/", "training/spark_snapshots.py")


def spark_imports(root: Path) -> list[str]:
    """Modules outside :data:`SPARK_ALLOWED` that import pyspark or py4j (at any depth)."""
    out = []
    for folder in (*LAYERS, "creditrisk/cli"):
        for path in sorted((root / folder).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            if relative.startswith(SPARK_ALLOWED):
                continue
            for name in sorted(imported_modules(path.read_text())):
                if name.split(".")[0] in SPARK_MODULES:
                    out.append(f"{relative} imports {name}")
    return out


def test_only_the_spark_modules_import_pyspark() -> None:
    assert spark_imports(REPO) == []


def test_spark_import_checker_catches_pyspark_outside_its_modules(tmp_path: Path) -> None:
    """Negative control: pyspark in the local runner or the CLI is caught, the engine is not."""
    for folder in (*LAYERS, "creditrisk/cli", "serving/rescoring/spark"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
    (tmp_path / "serving" / "rescoring" / "runner.py").write_text(
        "from pyspark.sql import SparkSession\n")
    (tmp_path / "creditrisk" / "cli" / "rescore.py").write_text("import py4j\n")
    (tmp_path / "serving" / "rescoring" / "spark" / "engine.py").write_text("import pyspark\n")
    assert spark_imports(tmp_path) == [
        "serving/rescoring/runner.py imports pyspark.sql",
        "serving/rescoring/runner.py imports pyspark.sql.SparkSession",
        "creditrisk/cli/rescore.py imports py4j",
    ]


def test_local_engine_and_cli_load_without_pyspark() -> None:
    """Importing the local rescoring engine and the whole CLI loads no pyspark module (MLflow
    itself does: ``mlflow.types.schema`` imports pyspark when it is installed, so the check
    stops short of anything that imports mlflow at module level)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import creditrisk.serving.rescoring.runner, creditrisk.serving.rescoring.scoring\n"
        "import creditrisk.cli, creditrisk.cli.rescore, creditrisk.cli.rescore_spark\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pyspark', 'py4j')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False, cwd=REPO, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
