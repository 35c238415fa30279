"""Ledger database access: engines, migrations, reading the ledger as a frame.

``CREDITRISK_DATABASE_URL`` is read only by entry points (CLI, app factory); everything
here takes the URL or engine explicitly. The default is an SQLite file.
"""

from __future__ import annotations

from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine, create_engine, event, select

from creditrisk.ledger.frame import Ledger, normalize_ledger
from creditrisk.ledger.schema import LEDGER_TABLES

DEFAULT_DATABASE_URL = "sqlite:///creditrisk.db"


SQLITE_BUSY_TIMEOUT_MS = 30_000
"""How long an SQLite connection waits for the write lock before "database is locked": longer
than the write transaction of a large import (SQLite has one writer at a time; see
docs/service.md "SQLite: one writer at a time")."""


def _sqlite_on_connect(busy_timeout_ms: int) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        # WAL: readers never block the writer nor the writer the readers; NORMAL fsyncs at
        # checkpoints only (safe in WAL); wait for the write lock instead of failing at once
        # the busy timeout first: setting WAL needs a lock, and a connection opened while an
        # import holds the write lock must wait for it, not fail with "database is locked"
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return on_connect


def make_engine(url: str, *, sqlite_busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> Engine:
    """An engine for ``url``. Statement parameters never appear in its error messages
    (``hide_parameters``: they carry customer data). SQLite gets foreign keys enforced, like
    PostgreSQL, the WAL journal and a busy timeout, so a decision written while an import
    runs waits for the lock instead of failing."""
    engine = create_engine(url, future=True, pool_pre_ping=True, hide_parameters=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_on_connect(sqlite_busy_timeout_ms))
    return engine


def migrations_path() -> Path:
    return Path(str(resources.files("creditrisk.migrations")))


def upgrade_database(url: str, revision: str = "head") -> None:
    """Apply the Alembic migrations to ``url`` (creates the schema on a new database)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_path()))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, revision)


def read_ledger(engine: Engine, *, customer_ids: list[str] | None = None) -> Ledger:
    """Load the ledger (optionally a subset of customers) into a normalised frame.

    Parameterised SQL only; ``customer_ids`` is bound, never formatted into the query.
    """
    tables: dict[str, pd.DataFrame] = {}
    with engine.connect() as conn:
        for name, table in LEDGER_TABLES.items():
            stmt = select(table)
            if customer_ids is not None:
                stmt = stmt.where(table.c.customer_id.in_(customer_ids))
            tables[name] = pd.read_sql(stmt, conn)
    return normalize_ledger(tables)


def ledger_max_date(ledger: Ledger) -> date | None:
    """The latest date recorded anywhere in the ledger (None when it is empty)."""
    candidates = [
        ledger.invoices["issue_date"].max(),
        ledger.invoices["settled_date"].max(),
        ledger.payments["paid_on"].max(),
        ledger.credit_events["event_date"].max(),
    ]
    valid = [c for c in candidates if pd.notna(c)]
    return max(valid).date() if valid else None
