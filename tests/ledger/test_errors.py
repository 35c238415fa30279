"""The ledger package has one error base and no terminal drawing: every error a caller can
meet is a LedgerError (so the CLI can translate them all), and no ledger module imports rich."""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd
import pytest

import creditrisk.ledger
from creditrisk.ledger import (
    ImportRejected,
    LedgerContractError,
    LedgerError,
    MappingError,
    normalize_ledger,
)
from creditrisk.ledger.mapping import load_mapping, parse_mapping
from creditrisk.ledger.validation import ImportReport

LEDGER_DIR = Path(creditrisk.ledger.__file__).resolve().parent


@pytest.mark.parametrize("error", [LedgerContractError, MappingError, ImportRejected])
def test_every_ledger_error_derives_from_the_one_base(error: type[Exception]) -> None:
    assert issubclass(error, LedgerError)


def test_a_missing_mapping_file_is_a_ledger_error(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="mapping file not found"):
        load_mapping(tmp_path / "nope.yaml")


def test_an_invalid_mapping_names_the_key_and_is_a_ledger_error(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match=r"tables\.invoices\.columns\.shoe_size"):
        parse_mapping(
            {"tables": {"invoices": {"file": "x.csv", "columns": {"shoe_size": "S"}}}},
            base_dir=tmp_path,
        )


def test_a_contract_violation_is_a_ledger_contract_error() -> None:
    customers = pd.DataFrame(
        {"customer_id": ["c1", "c1"], "onboarded_on": ["2024-01-01", "2024-01-02"]}
    )
    with pytest.raises(LedgerContractError, match="duplicate id"):
        normalize_ledger({"customers": customers})


def test_import_rejected_carries_its_report() -> None:
    problems = pd.DataFrame(
        {"file": ["a.csv"], "row_kind": ["line"], "row": pd.array([2], dtype="Int64"),
         "column": ["amount"], "value": ["x"], "problem": ["not a number"]}
    )
    report = ImportReport(problems=problems, rejected_rows={"invoices": 1})
    error = ImportRejected(report)
    assert error.report is report
    assert "1 problem in 1 row of 1 file" in str(error)


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_ledger_module_draws_on_the_terminal() -> None:
    """Rendering (rich tables, progress bars) belongs to creditrisk.cli, not the library."""
    drawing = {
        str(path.relative_to(LEDGER_DIR))
        for path in LEDGER_DIR.rglob("*.py")
        if any(name.split(".")[0] == "rich" for name in _imported_modules(path))
    }
    assert drawing == set()


def test_the_rich_check_sees_a_rich_import(tmp_path: Path) -> None:
    """Negative control: the scan above finds ``from rich.table import Table``."""
    module = tmp_path / "drawing.py"
    module.write_text("from rich.table import Table\n")
    assert "rich.table" in _imported_modules(module)
