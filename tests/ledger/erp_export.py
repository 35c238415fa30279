"""Exports for the import tests.

A small ERP export: renamed columns and several formats (day-first dates, yyyymmdd numbers,
epoch seconds, Y/N flags, a partial payment, an event to normalise), its mapping, and helpers
to write it with edits, import it and read back what was stored.

The SAP FI-AR line-item export of ``tests/ledger/data`` (the shipped ``sap_fi_ar`` mapping's
example): built here line by line, each line with what the mapping does with it, so the
counts a test expects are summed from the construction (``python -m
tests.ledger.erp_export`` rewrites the files after a change)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

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


# --- the SAP FI-AR export of tests/ledger/data, built from its construction ---------------

SAP_DATA = Path(__file__).parent / "data"
SAP_HEADER: tuple[str, ...] = (
    "KOART", "BUKRS", "KUNNR", "GSBER", "HKONT", "VKORG", "POSTING_TYPE", "BLDAT", "NETDT",
    "AUGDT", "DMBTR", "ZTERM",
)
SAP_TERMS_DAYS = {"Z030": 30, "Z014": 14}
Fate = Literal["imported", "filtered", "not_routed", "duplicate", "rejected"]


@dataclass(frozen=True)
class SapLine:
    """One line of the SAP export and what the shipped mapping does with it (the test's
    expected counts are summed from these, never written down separately)."""

    values: dict[str, str]
    fate: Fate
    why: str
    rule: str | None = None
    """The data-quality rule the line triggers (``<rule>_repaired`` / ``_flagged``)."""

    @property
    def route(self) -> str | None:
        """Where the mapping's route sends it (None: filtered before routing, or not routed)."""
        if self.fate in ("filtered", "not_routed"):
            return None
        return {"Invoice": "invoice", "Credit memo": "credit_note"}[self.values["POSTING_TYPE"]]


def _de_date(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def _de_amount(amount: float) -> str:
    whole, cents = f"{amount:,.2f}".split(".")
    return whole.replace(",", ".") + "," + cents


def _sap_line(
    customer: int, issued: date, amount: float, *, fate: Fate = "imported", why: str,
    rule: str | None = None, due: date | None = None, settled: date | None = None,
    **changes: str,
) -> SapLine:
    terms = "Z030" if customer % 2 else "Z014"
    values = {
        "KOART": "D", "BUKRS": "1000" if customer <= 5 else "2000", "KUNNR": f"K{1000 + customer}",
        "GSBER": "BA1" if customer % 2 else "BA2", "HKONT": "140000",
        "VKORG": "S100" if customer <= 4 else "S200", "POSTING_TYPE": "Invoice",
        "BLDAT": _de_date(issued),
        "NETDT": _de_date(due or issued + timedelta(days=SAP_TERMS_DAYS[terms])),
        "AUGDT": _de_date(settled) if settled else "", "DMBTR": _de_amount(amount),
        "ZTERM": terms,
    }
    values.update(changes)
    return SapLine(values, fate, why, rule)


def sap_lines() -> list[SapLine]:
    """The export line by line (CSV line 2 onwards), each with its fate under ``sap_fi_ar``."""
    lines = []
    for customer in range(1, 9):  # K1001-K1008, one invoice a month in 2023
        for month in range(1, 13):
            issued = date(2023, month, customer + 2)
            due = issued + timedelta(days=SAP_TERMS_DAYS["Z030" if customer % 2 else "Z014"])
            late = (month + customer - 2) % 3 == 0  # a third paid 12 days late
            still_open = month == 12 and customer in (1, 5)
            settled = None if still_open else due + timedelta(days=12 if late else -3)
            amount = 1000 + (customer - 1) * 137.5 + (month - 1) * 21.25
            lines.append(_sap_line(customer, issued, amount, due=due, settled=settled,
                                   why="a regular invoice"))
    first = lines[0]
    lines += [
        SapLine(dict(lines[4].values), "duplicate", "an exact copy of line 6"),
        _sap_line(1, date(2023, 2, 10), 500, fate="filtered", why="a GL line (KOART S)",
                  KOART="S", HKONT="800000"),
        _sap_line(2, date(2023, 2, 10), 12.3, fate="not_routed", why="a payment difference",
                  due=date(2023, 2, 10), POSTING_TYPE="Payment difference"),
        _sap_line(3, date(2023, 2, 10), 900, fate="not_routed", why="a down-payment request",
                  due=date(2023, 3, 10), POSTING_TYPE="Down payment request"),
        _sap_line(4, date(2023, 2, 10), 700, fate="filtered", why="test company code 9999",
                  BUKRS="9999"),
        _sap_line(1, date(2023, 3, 20), 250, why="a credit memo (imported as -250)",
                  due=date(2023, 3, 20), settled=date(2023, 3, 20), POSTING_TYPE="Credit memo"),
        _sap_line(2, date(2023, 5, 15), 1500, why="due three days before the document date",
                  rule="due_before_issue_repaired", due=date(2023, 5, 12),
                  settled=date(2023, 5, 20)),
        _sap_line(3, date(2023, 6, 15), 2000, why="cleared before the document date",
                  rule="settled_before_issue_repaired", settled=date(2023, 6, 10)),
        _sap_line(4, date(2023, 7, 15), 0, why="a zero amount", rule="zero_amount_flagged"),
        _sap_line(5, date(2023, 2, 28), 300, fate="rejected", why="document date 31.02.2023",
                  due=date(2023, 3, 30), BLDAT="31.02.2023"),
        _sap_line(9, date(2023, 8, 1), 3210, settled=date(2023, 8, 25),
                  why="a new customer K1009 with an unknown terms code (default 30 days)",
                  BUKRS="1000", ZTERM="Z999", NETDT="31.08.2023"),
        SapLine({**first.values, "NETDT": "30.01.2023"}, "rejected",
                "the composite key of line 2 with another due date (duplicate id)"),
    ]
    return lines


def sap_lines_csv(lines: list[SapLine]) -> str:
    rows = [";".join(SAP_HEADER)] + [";".join(line.values[c] for c in SAP_HEADER) for line in lines]
    return "\n".join(rows) + "\n"


SAP_RATINGS_CSV = (
    "KUNNR;RATING;VALID_FROM\n"
    "K1001;A;01.01.2023\nK1001;B;01.07.2023\nK1005;C;01.01.2023\nK1005;D;01.09.2023\n"
)
"""Rating history: two changes each of K1001 and K1005."""


def sap_rule_rows(lines: list[SapLine]) -> dict[str, int]:
    """What the import report's ``rule_rows`` for the invoice file must say: rows left out,
    routed and repaired or flagged, counted from the construction."""
    fates = Counter(line.fate for line in lines)
    # routed rows are counted as they go to validation: duplicates dropped, rejects not yet
    routes = Counter(line.route for line in lines if line.fate in ("imported", "rejected"))
    rules = Counter(line.rule for line in lines if line.rule is not None)
    return {
        "filtered_out": fates["filtered"],
        "not_routed": fates["not_routed"],
        "exact_duplicates": fates["duplicate"],
        "routed_invoices": routes["invoice"],
        "routed_credit_notes": routes["credit_note"],
        **rules,
    }


if __name__ == "__main__":  # rewrite the data files after changing the construction
    (SAP_DATA / "sap_fi_ar_lines.csv").write_text(sap_lines_csv(sap_lines()))
    (SAP_DATA / "sap_fi_ar_ratings.csv").write_text(SAP_RATINGS_CSV)
