"""Validating an import, by topic: the problem report (:mod:`.report`), ids already stored
(:mod:`.keys`), checks within one table (:mod:`.rows`), checks across tables
(:mod:`.references`) and the whole run (:mod:`.validated_import`)."""

from creditrisk.ledger.validation.keys import NothingStored, StoredKeys, is_in, lookup
from creditrisk.ledger.validation.report import (
    REPORT_COLUMNS,
    ImportReport,
    ProblemLog,
    RowKind,
    SourceFrame,
)
from creditrisk.ledger.validation.rows import derive_event_ids, parse_table
from creditrisk.ledger.validation.validated_import import (
    ValidatedImport,
    ValidatedTable,
    validate_import,
)

__all__ = [
    "REPORT_COLUMNS",
    "ImportReport",
    "NothingStored",
    "ProblemLog",
    "RowKind",
    "SourceFrame",
    "StoredKeys",
    "ValidatedImport",
    "ValidatedTable",
    "derive_event_ids",
    "is_in",
    "lookup",
    "parse_table",
    "validate_import",
]
