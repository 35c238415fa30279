"""The demo path through the one console command: generate -> import (canonical mapping)
-> features build, each step exiting 0 and leaving what the next step needs; a second
import of the same files changes nothing."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from creditrisk.cli import app
from creditrisk.features.catalog import feature_names
from creditrisk.ledger.database import make_engine, read_ledger

runner = CliRunner()


def test_generate_import_features_through_the_cli(tmp_path: Path) -> None:
    data = tmp_path / "synthetic"
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    generated = runner.invoke(app, ["ledger", "generate", "--customers", "300", "--start",
                                    "2023-01-01", "--end", "2024-06-30", "--seed", "3",
                                    "--out", str(data)])
    assert generated.exit_code == 0, generated.output
    assert (data / "invoices.parquet").exists()
    assert (data / "truth_customer_month.parquet").exists()

    imported = runner.invoke(app, ["ledger", "import", "--mapping", "canonical", "--data-dir",
                                   str(data), "--database-url", url])
    assert imported.exit_code == 0, imported.output
    ledger = read_ledger(make_engine(url))
    assert len(ledger.customers) == 300
    assert len(ledger.invoices) == len(pd.read_parquet(data / "invoices.parquet"))

    again = runner.invoke(app, ["ledger", "import", "--mapping", "canonical", "--data-dir",
                                str(data), "--database-url", url])
    assert again.exit_code == 0, again.output
    assert len(read_ledger(make_engine(url)).invoices) == len(ledger.invoices)

    out = tmp_path / "features.parquet"
    built = runner.invoke(app, ["features", "build", "--as-of", "2024-06-30", "--out", str(out),
                                "--database-url", url])
    assert built.exit_code == 0, built.output
    features = pd.read_parquet(out)
    assert len(features) == (ledger.customers["onboarded_on"] <= "2024-06-30").sum()
    assert list(features.columns) == ["customer_id", *feature_names("customer")]


def test_features_on_an_empty_ledger_say_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    assert runner.invoke(app, ["ledger", "migrate", "--database-url", url]).exit_code == 0
    result = runner.invoke(app, ["features", "build", "--database-url", url])
    assert result.exit_code == 1
    assert "empty" in result.output
