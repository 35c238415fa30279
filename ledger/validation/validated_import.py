"""Validating an import: from source rows to accepted ledger rows and the problem report.

What happens to rejected rows (nothing written, or skipped into a reject file) is the
importer's decision.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from creditrisk.ledger.frame import ID_DTYPE, TABLE_COLUMNS
from creditrisk.ledger.mapping import LedgerMapping
from creditrisk.ledger.validation.keys import StoredKeys, is_in, lookup
from creditrisk.ledger.validation.references import (
    Accepted,
    accepted_ids,
    check_onboarding,
    check_references,
)
from creditrisk.ledger.validation.report import ImportReport, ProblemLog, SourceFrame
from creditrisk.ledger.validation.rows import (
    check_duplicates,
    check_rules,
    derive_attribute_ids,
    derive_event_ids,
    log_rule,
    parse_table,
)


@dataclass(frozen=True)
class ValidatedTable:
    """The accepted rows of one ledger table (typed ledger columns) and what the mapping gave.

    ``provided`` are the ledger columns this import sets; other columns keep what is stored.
    ``source_rows`` holds each accepted row's position in its source file.
    """

    table: str
    frame: pd.DataFrame
    provided: tuple[str, ...]
    source_rows: np.ndarray


@dataclass(frozen=True)
class ValidatedImport:
    """The outcome of validation: accepted rows per table and the problem report."""

    tables: dict[str, ValidatedTable]
    report: ImportReport
    rejected: dict[str, np.ndarray]
    """Per source table, the positions of rejected rows in the source file."""


def validate_import(
    mapping: LedgerMapping,
    sources: Mapping[str, SourceFrame],
    stored: StoredKeys,
    *,
    file_problems: Iterable[tuple[str, Path, str, str, str]] = (),
) -> ValidatedImport:
    """Check every source row against the mapping and the ledger rules.

    ``sources`` are the files read, keyed by ledger table; ``stored`` tells which ids the
    ledger database already holds; ``file_problems`` are problems met while reading
    (``(table, path, column, value, problem)``). Rows are checked in foreign-key order so
    that a payment of a rejected invoice is rejected too, with the reason.
    """
    log = ProblemLog(sources)
    for table, path, column, value, problem in file_problems:
        log.add_file(table, path, problem, column=column, value=value)

    frames: dict[str, pd.DataFrame] = {}
    origins: dict[str, dict[str, str]] = {}
    for table in TABLE_COLUMNS:
        if table not in mapping.tables:
            continue
        table_mapping = mapping.tables[table]
        source_name = "invoices" if table_mapping.from_ is not None else table
        if source_name not in sources:
            continue
        src = sources[source_name]
        frame, origin = parse_table(table, table_mapping, src, log)
        if (
            table == "credit_events"
            and "event_id" not in table_mapping.columns
            and {"customer_id", "event_date", "event_type"} <= set(frame)
        ):
            frame["event_type"] = frame["event_type"].str.strip().str.lower()
            frame["event_id"] = derive_event_ids(frame)
        if (
            table == "customer_attributes"
            and "attribute_id" not in table_mapping.columns
            and {"customer_id", "attribute", "valid_from"} <= set(frame)
        ):
            frame["attribute_id"] = derive_attribute_ids(frame)
        check_rules(table, table_mapping, frame, src, origin, log)
        if table_mapping.from_ is None:
            check_duplicates(table, frame, src, origin, log)
        frames[table] = frame
        origins[table] = origin

    empty_accepted = Accepted(pd.Index([], dtype=ID_DTYPE), pd.Series(dtype=object))
    customers_from_file = "customers" in frames and mapping.tables["customers"].from_ is None
    accepted_customers = empty_accepted
    if customers_from_file and "customer_id" in frames["customers"]:
        accepted_customers = accepted_ids(
            frames["customers"], "customer_id", log.bad("customers"), sources["customers"]
        )

    if "invoices" in frames and "customer_id" in frames["invoices"] and customers_from_file:
        invoices = frames["invoices"]
        ids = invoices["customer_id"]
        of_rejected = is_in(ids, accepted_customers.rejected_at.index) & ~is_in(
            ids, accepted_customers.ids
        )
        of_rejected &= ~is_in(ids, stored.existing("customers", ids[of_rejected]))
        words = (
            "customer is rejected in this import ("
            + lookup(ids, accepted_customers.rejected_at).astype(str)
            + ")"
        )
        log_rule(
            log,
            sources["invoices"],
            origins["invoices"],
            "customer_id",
            of_rejected,
            words,
            invoices,
        )

    accepted_invoices = empty_accepted
    if "invoices" in frames and "invoice_id" in frames["invoices"]:
        accepted_invoices = accepted_ids(
            frames["invoices"], "invoice_id", log.bad("invoices"), sources["invoices"]
        )
        good_invoices = frames["invoices"][~log.bad("invoices")]
        invoice_customers = pd.Index(good_invoices.get("customer_id", pd.Series()).dropna())
        accepted_customers = Accepted(
            ids=accepted_customers.ids.append(invoice_customers).unique(),
            rejected_at=accepted_customers.rejected_at,
        )

    # references into a file that could not be read are not checked (it is reported already)
    invoices_known = "invoices" not in log.unusable
    customers_known = invoices_known and "customers" not in log.unusable
    for table in ("payments", "credit_events", "customer_attributes"):
        if table not in frames:
            continue
        check_references(
            table,
            frames,
            sources[table],
            origins[table],
            log,
            stored,
            accepted_customers if customers_known else None,
            accepted_invoices if invoices_known else None,
        )

    if customers_from_file and invoices_known:
        check_onboarding(frames, sources["customers"], origins["customers"], log, stored)

    report = log.report()
    tables: dict[str, ValidatedTable] = {}
    for table, frame in frames.items():
        table_mapping = mapping.tables[table]
        source_name = "invoices" if table_mapping.from_ is not None else table
        good = ~log.bad(source_name)
        positions = np.flatnonzero(good)
        accepted = frame.iloc[positions]
        if table_mapping.from_ is not None:  # first accepted invoice row per customer
            first = (
                ~accepted["customer_id"].duplicated(keep="first") & accepted["customer_id"].notna()
            )
            positions = positions[first.to_numpy()]
            accepted = accepted[first]
        provided = tuple(
            c for c in TABLE_COLUMNS[table] if c in table_mapping.columns or c in accepted
        )
        tables[table] = ValidatedTable(
            table=table,
            frame=accepted.reset_index(drop=True),
            provided=provided,
            source_rows=positions,
        )
    rejected = {name: np.flatnonzero(log.bad(name)) for name in sources}
    return ValidatedImport(tables=tables, report=report, rejected=rejected)

