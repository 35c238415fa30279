"""The errors of the ledger package, under one base.

::

    LedgerError (ValueError)      anything the ledger refuses; the message names what and where
    ├── LedgerContractError       a ledger frame breaks its contract (table, column, value)
    ├── MappingError              a mapping file, or a --file override of it, is wrong
    └── ImportRejected            an import found unusable files or bad rows; nothing was
                                  written; carries the ImportReport (one row per problem)

Library code raises these with plain messages; turning them into what a user reads (exit
codes, a table of problems) is the CLI's job (``creditrisk.cli.ledger``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from creditrisk.ledger.validation.report import ImportReport


class LedgerError(ValueError):
    """Base of every ledger error; the message names table, column and value."""


class LedgerContractError(LedgerError):
    """The ledger breaks its contract; the message names table, column and value."""


class MappingError(LedgerError):
    """A mapping is invalid; the message names the mapping key and the fix."""


class ImportRejected(LedgerError):  # noqa: N818 - the name the domain uses
    """Rows (or whole files) of the import are bad; nothing was written. Carries the report."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__(f"import rejected, nothing was written: {report.summary()}")
        self.report = report
