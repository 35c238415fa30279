"""A small ERP export for the import tests: renamed columns and several formats (day-first
dates, yyyymmdd numbers, epoch seconds, Y/N flags, a partial payment, an event to normalise),
its mapping, and helpers to write it with edits, import it and read back what was stored."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, select

from creditrisk.ledger.frame import Ledger, normalize_ledger
from creditrisk.ledger.importer import ImportResult, import_ledger
from creditrisk.ledger.mapping import LedgerMapping, load_mapping
from creditrisk.ledger.schema import LEDGER_TABLES

EMPTY = {
    "customers": 0,
    "invoices": 0,
    "payments": 0,
    "credit_events": 0,
    "customer_attributes": 0,
}

# A small ERP export with renamed columns and several formats: day-first dates, yyyymmdd
# numbers, epoch seconds, Y/N flags, a partial payment and an event to normalise.
EXPORT: dict[str, str] = {
    "customers.csv": (
        "Id,Name,Since,Land,Limit\n"
        "C1,Alpha GmbH,20230101.0,DE,1000\n"
        "C2,Beta SARL,20230315.0,FR,500\n"
    ),
    "invoices.csv": (
        "InvNo,Cust,InvDate,Due,Amount,Cur,Disp,Settled\n"
        "I1,C1,05.01.2024,04.02.2024,100.00,EUR,N,\n"
        "I2,C1,05.02.2024,06.03.2024,250.50,EUR,N,01.03.2024\n"
        "I3,C2,10.01.2024,09.02.2024,80.00,EUR,Y,\n"
        "I4,C3,01.03.2024,31.03.2024,40.00,EUR,N,\n"
    ),
    "payments.csv": (
        "PayId,Cust,Inv,PaidOn,Amt\nP1,C1,I1,1706140800,100.00\nP2,C2,I3,1707868800,30.00\n"
    ),
    "events.csv": "Cust,Date,Type,Inv\nC2,2024-02-20,Reminder,I3\n",
}

MAPPING = """
name: small-erp
tables:
  customers:
    file: customers.csv
    columns:
      customer_id: Id
      onboarded_on: {column: Since, format: yyyymmdd_number}
      country: Land
      credit_limit: Limit
  invoices:
    file: invoices.csv
    columns:
      invoice_id: InvNo
      customer_id: Cust
      issue_date: {column: InvDate, format: "%d.%m.%Y"}
      due_date: {column: Due, format: "%d.%m.%Y"}
      amount: Amount
      currency: Cur
      disputed: {column: Disp, values: {"Y": true, "N": false}}
      settled_date: {column: Settled, format: "%d.%m.%Y"}
  payments:
    file: payments.csv
    columns:
      payment_id: PayId
      customer_id: Cust
      invoice_id: Inv
      paid_on: {column: PaidOn, format: epoch_s}
      amount: Amt
  credit_events:
    file: events.csv
    columns:
      customer_id: Cust
      event_date: Date
      event_type: Type
      invoice_id: Inv
"""


def write_export(
    folder: Path,
    changes: Mapping[str, tuple[str, str]] | None = None,
    *,
    mapping_text: str = MAPPING,
) -> LedgerMapping:
    """Write the export (``changes``: file -> (old, new) text replacement) and its mapping."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in EXPORT.items():
        if changes and name in changes:
            old, new = changes[name]
            assert old in text, f"fixture edit {old!r} not found in {name}"
            text = text.replace(old, new)
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "mapping.yaml").write_text(mapping_text)
    return load_mapping(folder / "mapping.yaml")


def stored(engine: Engine) -> Ledger:
    """The tables as stored, each normalised on its own (settlement dates are not re-derived)."""
    with engine.connect() as conn:
        raw = {name: pd.read_sql(select(table), conn) for name, table in LEDGER_TABLES.items()}
    return Ledger(**{name: normalize_ledger({name: raw[name]}).tables()[name] for name in raw})


def run_import(mapping: LedgerMapping, engine: Engine, **kwargs: object) -> ImportResult:
    return import_ledger(mapping, engine=engine, **kwargs)  # type: ignore[arg-type]
