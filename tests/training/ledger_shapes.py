"""Small synthetic ledgers of the shapes real users bring: short, or without any default
event; written to an SQLite ledger database for tests that go through the CLI."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from creditrisk.features.default_status import DefaultDefinition, default_events
from creditrisk.ledger.database import make_engine, upgrade_database
from creditrisk.ledger.frame import DEFAULT_EVENT_TYPES, Ledger
from creditrisk.ledger.store import write_ledger
from creditrisk.synthetic.generator import generate_ledger
from creditrisk.training.config import TrainingConfig


def synthetic_ledger(*, customers: int, start: date, end: date, seed: int = 3) -> Ledger:
    return generate_ledger(n_customers=customers, start=start, end=end, seed=seed).ledger


def without_default_events(ledger: Ledger, *, end: date, paid_within_days: int = 60) -> Ledger:
    """The same trade with every invoice paid within ``paid_within_days`` of its due date
    (or by ``end``) and no write-off or insolvency: no default event at all."""
    cutoff = pd.Timestamp(end)
    invoices = ledger.invoices.copy()
    latest = (invoices["due_date"] + pd.Timedelta(days=paid_within_days)).clip(upper=cutoff)
    late = invoices["settled_date"].isna() | (invoices["settled_date"] > latest)
    invoices.loc[late, "settled_date"] = latest[late]
    payments = ledger.payments.copy()
    settled = payments[["invoice_id"]].merge(invoices[["invoice_id", "settled_date"]],
                                             on="invoice_id", how="left")["settled_date"]
    moved = settled.notna().to_numpy() & (payments["paid_on"] > settled).to_numpy()
    payments["paid_on"] = np.where(moved, settled, payments["paid_on"])
    events = ledger.credit_events
    events = events[~events["event_type"].isin(DEFAULT_EVENT_TYPES)].reset_index(drop=True)
    out = Ledger(customers=ledger.customers, invoices=invoices, payments=payments,
                 credit_events=events)
    assert default_events(out, DefaultDefinition()).empty
    return out


def ledger_database(ledger: Ledger, path: Path) -> str:
    """An SQLite ledger database at ``path`` holding ``ledger``; returns its URL."""
    url = f"sqlite:///{path}"
    upgrade_database(url)
    engine = make_engine(url)
    try:
        write_ledger(engine, ledger)
    finally:
        engine.dispose()
    return url


def tiny_config_file(path: Path, *, model_name: str) -> Path:
    """A training config YAML with few boosting rounds (test size)."""
    config = TrainingConfig.capped(boost_rounds=15, lgbm_threads=1).model_dump(mode="json")
    config["model_name"] = model_name
    config["open_invoices"]["rows_per_month_end"] = 200
    path.write_text(yaml.safe_dump(config))
    return path
