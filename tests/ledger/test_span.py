"""The ledger's extent read with aggregate SQL agrees with the ledger read whole."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from creditrisk.ledger.database import ledger_max_date, make_engine, read_ledger
from creditrisk.ledger.span import read_ledger_span
from creditrisk.ledger.store import ensure_schema
from tests.ledger.erp_export import run_import, write_export


def test_the_span_from_sql_is_what_the_whole_ledger_says(
    database_url: str, tmp_path: Path
) -> None:
    engine = make_engine(database_url)
    ensure_schema(engine)
    assert read_ledger_span(engine).is_empty
    # the latest date is the credit event's, after every invoice and payment
    run_import(write_export(tmp_path, {"events.csv": ("2024-02-20", "2024-05-20")}), engine)
    span = read_ledger_span(engine)
    ledger = read_ledger(engine)
    assert span.first_issue == ledger.invoices["issue_date"].min().date()
    assert span.last_date == ledger_max_date(ledger) == date(2024, 5, 20)
    assert (span.invoices, span.credit_events) == (len(ledger.invoices),
                                                   len(ledger.credit_events))
    engine.dispose()
