"""The receivables ledger: its in-memory frame, SQL schema, database access and import."""

from creditrisk.ledger.frame import (
    CREDIT_EVENT_TYPES,
    Ledger,
    LedgerError,
    normalize_ledger,
)

__all__ = ["CREDIT_EVENT_TYPES", "Ledger", "LedgerError", "normalize_ledger"]
