"""No import circle among the models/ modules (the policy split keeps config below rules)."""

from __future__ import annotations

import ast
from pathlib import Path

import creditrisk.models

MODELS = Path(creditrisk.models.__file__).resolve().parent


def import_graph(folder: Path) -> dict[str, set[str]]:
    """module -> models modules it imports at run time (``if TYPE_CHECKING`` blocks skipped)."""
    names = {path.stem for path in folder.glob("*.py")}
    graph: dict[str, set[str]] = {}
    for path in folder.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        edges: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                node.body = []
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                parts = node.module.split(".")
                if parts[:2] == ["creditrisk", "models"] and len(parts) > 2:
                    edges.add(parts[2])
                elif parts[:2] == ["creditrisk", "models"]:
                    edges |= {alias.name for alias in node.names if alias.name in names}
        graph[path.stem] = edges & names - {path.stem}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_models_modules_import_no_circle() -> None:
    assert find_cycle(import_graph(MODELS)) is None


def test_policy_config_sits_below_the_rules() -> None:
    graph = import_graph(MODELS)
    assert {"limits", "orders", "policy"}.isdisjoint(graph["policy_config"])
    assert "policy_config" in graph["limits"]
    assert "policy_config" in graph["orders"]
    assert "limits" not in graph["orders"]


def test_cycle_finder_catches_a_circle() -> None:
    """Negative control: the old limits <-> orders <-> policy shape is reported."""
    assert find_cycle({"limits": {"policy"}, "orders": {"limits"}, "policy": {"orders"}})
    assert find_cycle({"a": {"b"}, "b": set()}) is None
