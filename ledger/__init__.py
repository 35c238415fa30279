"""The receivables ledger: its in-memory frame, SQL schema, database access and import.

Errors: one base, :class:`LedgerError` (see :mod:`creditrisk.ledger.errors` for the tree).
"""

from creditrisk.ledger.errors import (
    ImportRejected,
    LedgerContractError,
    LedgerError,
    MappingError,
)
from creditrisk.ledger.frame import (
    CREDIT_EVENT_TYPES,
    Ledger,
    normalize_ledger,
)

__all__ = [
    "CREDIT_EVENT_TYPES",
    "ImportRejected",
    "Ledger",
    "LedgerContractError",
    "LedgerError",
    "MappingError",
    "normalize_ledger",
]
