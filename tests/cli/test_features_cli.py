"""``creditrisk features build`` answers a bad date or a ledger that breaks its contract with
a message and an exit code, never a traceback (ledger errors are translated in the CLI)."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from creditrisk.cli import app
from creditrisk.ledger.database import make_engine
from creditrisk.ledger.frame import normalize_ledger
from creditrisk.ledger.store import ensure_schema, write_ledger
from tests.ledger.test_store import small_ledger

runner = CliRunner()


def build(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["features", "build", *args], env={"COLUMNS": "200"})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_features_build_prints_the_figures(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    ensure_schema(engine)
    write_ledger(engine, small_ledger())
    code, output = build("--database-url", sqlite_url, "--as-of", "2024-03-31")
    assert code == 0, output
    assert "customers" in output


def test_a_bad_as_of_date_is_a_usage_error(sqlite_url: str) -> None:
    code, output = build("--database-url", sqlite_url, "--as-of", "31/12/2025")
    assert code == 2
    assert "not a date" in output


def test_a_ledger_error_is_a_message_and_exit_1(sqlite_url: str) -> None:
    """An invoice dated 1850 is outside the dates the features accept (a LedgerError)."""
    ledger = small_ledger()
    invoices = ledger.invoices.copy()
    invoices.loc[0, "issue_date"] = pd.Timestamp("1850-01-05")
    invoices.loc[0, "due_date"] = pd.Timestamp("1850-02-04")
    invoices.loc[0, "settled_date"] = pd.Timestamp("1850-01-25")
    tables = {**ledger.tables(), "invoices": invoices}
    engine = make_engine(sqlite_url)
    ensure_schema(engine)
    write_ledger(engine, normalize_ledger(tables))
    code, output = build("--database-url", sqlite_url, "--as-of", "2024-03-31")
    assert code == 1, output
    assert "1850" in output
