"""The shipped SAP FI-AR mapping on a hand-made export of that shape (tests/ledger/data).

``sap_fi_ar_lines.csv`` (``;``-separated, ``1.234,50`` amounts, ``dd.mm.yyyy`` dates) is
built line by line by :func:`tests.ledger.erp_export.sap_lines`, each line with what the
mapping does with it: 96 regular invoices (8 customers x 12 months of 2023, a third paid 12
days late), an exact duplicate, a GL line and a test company code (filtered), a payment
difference and a down-payment request (not routed), a credit memo (routed to credit notes),
a due date and a clearing date before the document date (repaired), a zero amount (flagged),
an impossible date and a second line with the same composite key (rejected), and a new
customer with an unknown terms code. The counts below are summed from that construction.

``sap_fi_ar_ratings.csv``: four rating changes of K1001 and K1005 (history, valid-from dates).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from creditrisk.cli import app
from creditrisk.ledger.frame import has_quality_flag
from creditrisk.ledger.importer import import_ledger
from creditrisk.ledger.mapping import load_mapping
from creditrisk.ledger.store import TableCounts, count_rows
from creditrisk.serving.api.entrypoint import build_service
from creditrisk.serving.api_keys import generate_api_key
from creditrisk.serving.settings import SeededApiKey, Settings
from creditrisk.training import tracking
from creditrisk.training.scoring import load_registered_bundle
from tests.ledger.erp_export import (
    SAP_DATA,
    SAP_RATINGS_CSV,
    sap_lines,
    sap_lines_csv,
    sap_rule_rows,
    stored,
)

DATA = SAP_DATA
LINES = sap_lines()


def test_the_data_files_are_their_construction() -> None:
    assert (DATA / "sap_fi_ar_lines.csv").read_text() == sap_lines_csv(LINES)
    assert (DATA / "sap_fi_ar_ratings.csv").read_text() == SAP_RATINGS_CSV


def test_sap_export_imports_with_the_counts_its_construction_gives(migrated_engine: Engine) -> None:
    result = import_ledger(
        load_mapping("sap_fi_ar"), engine=migrated_engine, data_dir=DATA, skip_bad_rows=True
    )
    expected_rules = {rule: n for rule, n in sap_rule_rows(LINES).items() if n}
    assert {rule: n for rule, n in result.report.rule_rows["invoices"].items() if n} == (
        expected_rules
    )
    assert set(result.report.rule_rows) == {"invoices"}
    rejected_lines = [i + 2 for i, line in enumerate(LINES) if line.fate == "rejected"]
    assert result.rejected_rows == {"invoices": len(rejected_lines)}
    problems = result.report.problems
    assert problems["row"].tolist() == rejected_lines
    assert problems["problem"].tolist() == [
        "not a date in the format %d.%m.%Y (issue_date)",
        "duplicate id, first on line 2 (invoice_id)",
    ]
    assert problems["value"].tolist()[1] == "1000|K1001|03.01.2023|1.000,00|Invoice"
    imported = [line for line in LINES if line.fate == "imported"]
    assert count_rows(migrated_engine) == {
        "customers": len({line.values["KUNNR"] for line in imported}),
        "invoices": len(imported),
        "payments": 0,
        "credit_events": 0,
        "customer_attributes": SAP_RATINGS_CSV.count("\n") - 1,
    }

    ledger = stored(migrated_engine)
    invoices = ledger.invoices.set_index("invoice_id")
    credit = invoices.loc["1000|K1001|20.03.2023|250,00|Credit memo"]
    assert credit["amount"] == -250.0
    assert (invoices["amount"] < 0).sum() == expected_rules["routed_credit_notes"]
    repaired = invoices.loc["1000|K1002|15.05.2023|1.500,00|Invoice"]
    assert repaired["due_date"] == repaired["issue_date"] == pd.Timestamp("2023-05-15")
    assert repaired["quality_flags"] == "due_date_repaired"
    prepaid = invoices.loc["1000|K1003|15.06.2023|2.000,00|Invoice"]
    assert prepaid["settled_date"] == prepaid["issue_date"]
    assert prepaid["quality_flags"] == "prepaid"
    assert has_quality_flag(ledger.invoices, "zero_amount").sum() == 1
    assert set(ledger.invoices["company_code"]) == {"1000", "2000"}
    assert set(ledger.invoices["terms_code"]) == {"Z030", "Z014", "Z999"}
    assert set(ledger.invoices["segment"]) == {"BA1", "BA2"}
    assert set(ledger.invoices["gl_account"]) == {"140000"}
    orgs = {line.values["VKORG"] for line in imported}
    assert set(ledger.invoices["dimensions"]) == {f'{{"sales_org":"{o}"}}' for o in orgs}
    terms = ledger.customers.set_index("customer_id")["payment_terms_days"]
    assert terms[["K1001", "K1002", "K1009"]].tolist() == [30.0, 14.0, 30.0]
    ratings = ledger.customer_attributes.sort_values(["customer_id", "valid_from"])
    assert ratings["value"].tolist() == ["A", "B", "C", "D"]

    again = import_ledger(
        load_mapping("sap_fi_ar"), engine=migrated_engine, data_dir=DATA, skip_bad_rows=True
    )
    assert all(c.written == 0 for c in again.counts.values())  # generated ids are stable
    assert again.counts["invoices"] == TableCounts(unchanged=len(imported))


@pytest.mark.slow
def test_sap_export_trains_a_late_model_that_serves_predictions(tmp_path: Path) -> None:
    """No code between the export and the service: the shipped mapping imports the file
    (CLI), ``creditrisk train --late-only`` registers a late-only bundle, and the app serves
    the customer's open invoices from it."""
    ledger_url = f"sqlite:///{tmp_path / 'ledger.db'}"
    tracking_uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    runner = CliRunner()
    imported = runner.invoke(
        app,
        [
            "ledger",
            "import",
            "--mapping",
            "sap_fi_ar",
            "--data-dir",
            str(DATA),
            "--skip-bad-rows",
            "--reject-file",
            str(tmp_path / "rejects.csv"),
            "--database-url",
            ledger_url,
        ],
        env={"COLUMNS": "250"},
    )
    assert imported.exit_code == 0, imported.output
    assert f"filtered_out {sap_rule_rows(LINES)['filtered_out']}" in imported.output
    assert f"routed_credit_notes {sap_rule_rows(LINES)['routed_credit_notes']}" in imported.output
    trained = runner.invoke(
        app,
        ["train", "--late-only", "--database-url", ledger_url, "--tracking-uri", tracking_uri],
        env={"COLUMNS": "250"},
    )
    assert trained.exit_code == 0, trained.output
    assert "late-payment only" in trained.output
    tracking.configure(tracking_uri)
    version = tracking.alias_version("creditrisk", tracking.CHALLENGER_ALIAS)
    assert version is not None
    spec = load_registered_bundle(version.uri).invoice_spec  # trained with the dimension
    assert "dim_sales_org" in spec.categorical
    assert spec.categories["dim_sales_org"] == ("S100", "S200")

    reader = generate_api_key(label="r", scopes=["read"], created_at=datetime.now(UTC))
    seeded = SeededApiKey(
        key_id=reader.record.key_id, key_hash=reader.record.key_hash, scopes=reader.record.scopes
    )
    settings = Settings(
        database_url=ledger_url,
        model_uri="models:/creditrisk@challenger",
        tracking_uri=tracking_uri,
        api_keys=(seeded,),
        model_load="blocking",
    )
    with TestClient(build_service(settings)) as client:
        response = client.get(
            "/v1/customers/K1001/invoices/predictions",
            params={"as_of": "2023-12-20"},
            headers={"X-API-Key": reader.token},
        )
    assert response.status_code == 200, response.text
    invoices = response.json()["invoices"]
    assert [i["invoice_id"] for i in invoices] == ["1000|K1001|03.12.2023|1.233,75|Invoice"]
    assert 0.0 <= invoices[0]["p_late"] <= 1.0
