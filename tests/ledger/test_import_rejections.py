"""Every rejection case of an import: the problem named with file, row, column and reason,
and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from creditrisk.ledger.importer import ImportRejected
from creditrisk.ledger.mapping import load_mapping
from creditrisk.ledger.store import count_rows
from tests.ledger.erp_export import EMPTY, EXPORT, MAPPING, run_import, write_export

# ---------------------------------------------------------------- rejections

CP1252_CUSTOMERS = "Id,Name,Since,Land,Limit\nC1,Müller AG,20230101.0,DE,1000\n"

REJECTIONS: dict[str, tuple[dict[str, tuple[str, str]], str, str, str]] = {
    # case: (edits, file, row, expected words in the problem)
    "missing column": (
        {"invoices.csv": ("Amount", "Betrag")},
        "invoices.csv",
        "whole file",
        "column 'Amount' is missing from the file",
    ),
    "unparsable date": (
        {"invoices.csv": ("05.02.2024", "2024-02-05")},
        "invoices.csv",
        "line 3",
        "not a date in the format %d.%m.%Y (issue_date)",
    ),
    "non-numeric amount": (
        {"invoices.csv": ("250.50", "two fifty")},
        "invoices.csv",
        "line 3",
        "not a number (amount)",
    ),
    "negative invoice": (
        {"invoices.csv": ("80.00", "-80.00")},
        "invoices.csv",
        "line 4",
        "must be positive (for credit notes set allow_negative_amounts: true",
    ),
    "zero payment": (
        {"payments.csv": ("30.00", "0")},
        "payments.csv",
        "line 3",
        "a payment must be positive (amount)",
    ),
    "due before issue": (
        {"invoices.csv": ("01.03.2024,31.03.2024", "01.03.2024,01.02.2024")},
        "invoices.csv",
        "line 5",
        "due date is before the issue date 2024-03-01 (quality.due_before_issue: repair sets "
        "it to the issue date) (due_date)",
    ),
    "settled before issue": (
        {"invoices.csv": ("01.03.2024\n", "01.01.2024\n")},
        "invoices.csv",
        "line 3",
        "settled before the issue date 2024-02-05 (quality.settled_before_issue: repair keeps "
        "it as a prepayment settled at issue) (settled_date)",
    ),
    "duplicate id": (
        {"invoices.csv": ("I4,C3", "I3,C3")},
        "invoices.csv",
        "line 5",
        "duplicate id, first on line 4 (invoice_id)",
    ),
    "payment for unknown customer": (
        {"payments.csv": ("P2,C2", "P2,C9")},
        "payments.csv",
        "line 3",
        "unknown customer: neither in this import nor in the ledger (customer_id)",
    ),
    "payment for unknown invoice": (
        {"payments.csv": ("C2,I3", "C2,I99")},
        "payments.csv",
        "line 3",
        "unknown invoice: neither in this import nor in the ledger (invoice_id)",
    ),
    "payment of another customer's invoice": (
        {"payments.csv": ("P1,C1", "P1,C2")},
        "payments.csv",
        "line 2",
        "invoice belongs to customer C1, not to this row's customer",
    ),
    "event for unknown invoice": (
        {"events.csv": ("Reminder,I3", "Reminder,I77")},
        "events.csv",
        "line 2",
        "unknown invoice",
    ),
    "same event twice": (
        {"events.csv": ("Reminder,I3\n", "Reminder,I3\nC2,2024-02-20,reminder,I3\n")},
        "events.csv",
        "line 3",
        "same customer, date, type and invoice as line 2 (event_id)",
    ),
    "unknown event type": (
        {"events.csv": ("Reminder", "Party")},
        "events.csv",
        "line 2",
        "unknown event type (expected one of insolvency, write_off",
    ),
    "wrong delimiter": (
        {"invoices.csv": (EXPORT["invoices.csv"], EXPORT["invoices.csv"].replace(",", ";"))},
        "invoices.csv",
        "whole file",
        "delimiter looks wrong: expected ',' found ';'",
    ),
    "empty file": (
        {"payments.csv": (EXPORT["payments.csv"], "")},
        "payments.csv",
        "whole file",
        "the file is empty",
    ),
    "header only": (
        {
            "invoices.csv": (
                EXPORT["invoices.csv"],
                "InvNo,Cust,InvDate,Due,Amount,Cur,Disp,Settled\n",
            )
        },
        "invoices.csv",
        "whole file",
        "the file has no data rows",
    ),
    "ragged line": (
        {"payments.csv": ("P2,C2,I3,1707868800,30.00", "P2,C2,I3,1707868800,30,00")},
        "payments.csv",
        "whole file",
        "line 3 has 6 fields but the header has 5",
    ),
    "customer without any date": (
        {"customers.csv": ("FR,500\n", "FR,500\nC7,Gamma,,NL,5\n")},
        "customers.csv",
        "line 4",
        "no onboarding date and no invoice to take it from (onboarded_on)",
    ),
    "customer id too long": (
        {"customers.csv": ("C2,Beta", "C" + "2" * 70 + ",Beta")},
        "customers.csv",
        "line 3",
        "longer than 64 characters (customer_id)",
    ),
}


@pytest.mark.parametrize("case", list(REJECTIONS))
def test_a_bad_file_is_rejected_whole_with_its_reason(
    case: str, tmp_path: Path, engine: Engine
) -> None:
    """Each failure names file, row and problem, and leaves the database empty."""
    edits, file, row, words = REJECTIONS[case]
    mapping = write_export(tmp_path, edits)
    with pytest.raises(ImportRejected) as caught:
        run_import(mapping, engine)
    problems = caught.value.report.problems
    shown = problems["row_kind"] + " " + problems["row"].astype("string")
    shown = shown.where(problems["row"].notna(), "whole file")
    hits = problems[problems["problem"].str.contains(words, regex=False)]
    assert not hits.empty, problems[["file", "row", "column", "problem"]].to_string()
    assert (hits["file"] == file).all()
    assert row in set(shown[hits.index])
    assert count_rows(engine) == EMPTY


def test_an_unusable_file_is_one_problem_not_a_cascade(tmp_path: Path, engine: Engine) -> None:
    """Payments are not called 'unknown invoice' because the invoice file could not be read."""
    text = EXPORT["invoices.csv"]
    mapping = write_export(tmp_path, {"invoices.csv": (text, text.replace(",", ";"))})
    with pytest.raises(ImportRejected) as caught:
        run_import(mapping, engine)
    assert caught.value.report.count == 1
    assert caught.value.report.has_file_problems


def test_undecodable_encoding_is_rejected_with_the_line(tmp_path: Path, engine: Engine) -> None:
    mapping = write_export(tmp_path)
    (tmp_path / "customers.csv").write_bytes(CP1252_CUSTOMERS.encode("cp1252"))
    with pytest.raises(ImportRejected) as caught:
        run_import(mapping, engine)
    problem = caught.value.report.problems["problem"].iloc[0]
    assert "cannot read the file as utf-8: byte fc on line 2 is not valid utf-8" in problem
    assert "set encoding: in the mapping" in problem
    assert count_rows(engine) == EMPTY
    fixed = MAPPING.replace(
        "    file: customers.csv\n", "    file: customers.csv\n    encoding: cp1252\n"
    )
    (tmp_path / "mapping.yaml").write_text(fixed)
    assert run_import(load_mapping(tmp_path / "mapping.yaml"), engine).report.ok


def test_nothing_is_written_when_an_earlier_table_was_fine(tmp_path: Path, engine: Engine) -> None:
    """One transaction: good customers and invoices are not written if a payment is bad."""
    run_import(write_export(tmp_path / "first"), engine)
    before = count_rows(engine)
    edits = {
        "customers.csv": (
            "C2,Beta SARL,20230315.0,FR,500\n",
            "C2,Beta SARL,20230315.0,FR,500\nC5,New,20240101,NL,10\n",
        ),
        "payments.csv": ("30.00", "-1"),
    }
    with pytest.raises(ImportRejected):
        run_import(write_export(tmp_path / "second", edits), engine)
    assert count_rows(engine) == before
