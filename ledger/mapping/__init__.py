"""Import mappings, by topic: the mapping's model and rules (:mod:`.spec`), which rows are
read and with which sign (:mod:`.selection`: filters, route, amount_sign), reading a mapping
file or a shipped one (:mod:`.loading`), and applying a column spec to source values
(:mod:`.columns`). The shipped YAML files live in ``ledger/mappings/``."""

from creditrisk.ledger.errors import MappingError
from creditrisk.ledger.mapping.columns import (
    YES_NO_WORDS,
    ParsedColumn,
    as_text,
    constant_column,
    parse_column,
)
from creditrisk.ledger.mapping.loading import (
    SHIPPED_MAPPINGS_PACKAGE,
    load_mapping,
    parse_mapping,
    resolve_mapping_path,
    shipped_mappings,
)
from creditrisk.ledger.mapping.spec import (
    REQUIRED_COLUMNS,
    SPECIAL_DATE_FORMATS,
    ColumnSpec,
    LedgerMapping,
    SourceFormat,
    TableMapping,
)

__all__ = [
    "REQUIRED_COLUMNS",
    "SHIPPED_MAPPINGS_PACKAGE",
    "SPECIAL_DATE_FORMATS",
    "YES_NO_WORDS",
    "ColumnSpec",
    "LedgerMapping",
    "MappingError",
    "ParsedColumn",
    "SourceFormat",
    "TableMapping",
    "as_text",
    "constant_column",
    "load_mapping",
    "parse_column",
    "parse_mapping",
    "resolve_mapping_path",
    "shipped_mappings",
]
