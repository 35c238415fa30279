"""Importing an ERP export into the ledger database, driven by a mapping file.

Steps: read each mapped file (CSV or Parquet) -> validate every row (row-level report) ->
normalise to the ledger contract (customers inferred from invoices, settlement dates from
payments) -> upsert all tables in ONE transaction. When any row is rejected nothing is
written and :class:`ImportRejected` carries the report, unless the caller skips bad rows:
then the good rows are written and the rejected ones go to a reject file (the original
columns plus ``reject_reason``). Problems with a whole file (missing, empty, wrong delimiter
or encoding, missing column) always reject the import.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, Engine

from creditrisk.ledger.errors import ImportRejected, MappingError
from creditrisk.ledger.frame import DATE_DTYPE, Ledger, normalize_ledger
from creditrisk.ledger.mapping import LedgerMapping
from creditrisk.ledger.sources import ImportProgress, no_progress, read_sources
from creditrisk.ledger.sqlite_staging import StagedStatement, apply_staged, stage_writes
from creditrisk.ledger.store import (
    DatabaseKeys,
    TableCounts,
    TableWrites,
    apply_writes,
    ensure_schema,
    plan_upsert,
    stored_rows,
)
from creditrisk.ledger.validation import (
    ImportReport,
    SourceFrame,
    ValidatedImport,
    is_in,
    lookup,
    validate_import,
)

REJECT_REASON_COLUMN = "reject_reason"


@dataclass(frozen=True)
class ImportResult:
    """What an import did: counts per table, rejected rows and where they were written."""

    counts: dict[str, TableCounts]
    rejected_rows: dict[str, int]
    report: ImportReport
    reject_files: tuple[Path, ...] = field(default=())

    @property
    def n_rejected(self) -> int:
        return int(sum(self.rejected_rows.values()))


# ---------------------------------------------------------------- writing


class _RowsWritten:
    """Turns the store's per-chunk callbacks into cumulative write progress for one table."""

    def __init__(
        self, progress: ImportProgress, table: str, total: int, *, stage: str = "write"
    ) -> None:
        self._progress = progress
        self._table = table
        self._total = total
        self._stage = stage
        self._done = 0

    def __call__(self, n_rows: int) -> None:
        self._done += n_rows
        self._progress(self._table, self._stage, self._done, self._total)


def _plan_customers(
    conn: Connection, ledger: Ledger, validated: ValidatedImport
) -> list[TableWrites]:
    """Customers given in the import (their mapped columns) and customers seen only in
    invoices (id and onboarding date only, never wiping stored attributes).

    Where the import gives no onboarding date it is the earliest of the stored date and the
    first invoice in this import, so importing a later export never moves it forward.
    """
    customers = ledger.customers
    given = validated.tables.get("customers")
    given_ids = given.frame["customer_id"] if given is not None else pd.Series(dtype="string")
    explicit = is_in(customers["customer_id"], given_ids)
    onboarded = customers["onboarded_on"]
    if given is not None and "onboarded_on" in given.frame:
        stated = lookup(
            customers["customer_id"], given.frame.set_index("customer_id")["onboarded_on"]
        )
    else:
        stated = pd.Series(pd.NaT, index=customers.index, dtype=DATE_DTYPE)
    stored = stored_rows(conn, "customers", customers["customer_id"], ["onboarded_on"])
    stored_on = lookup(customers["customer_id"], stored.set_index("customer_id")["onboarded_on"])
    inferred = pd.concat([onboarded, stored_on.astype(DATE_DTYPE)], axis=1).min(axis=1)
    customers = customers.assign(
        onboarded_on=stated.where(stated.notna(), inferred).astype(DATE_DTYPE)
    )

    plans: list[TableWrites] = []
    if explicit.any() and given is not None:
        columns = sorted(set(given.provided) | {"customer_id", "onboarded_on"})
        plans.append(plan_upsert(conn, "customers", customers[explicit], columns=columns))
    if (~explicit).any():  # disjoint keys from the explicit ones: planned before either writes
        plans.append(plan_upsert(
            conn, "customers", customers[~explicit], columns=["customer_id", "onboarded_on"]
        ))
    return plans


WRITE_ORDER: tuple[str, ...] = (
    "customers", "invoices", "payments", "credit_events", "customer_attributes",
)
"""Tables in the order their rows are written (referenced rows first)."""


def _plan_tables(
    conn: Connection, ledger: Ledger, validated: ValidatedImport, progress: ImportProgress
) -> dict[str, list[TableWrites]]:
    """Every table's upsert, planned (stored rows read, changes computed; progress stage
    ``compare``), nothing written."""
    plans = {"customers": _plan_customers(conn, ledger, validated)}
    progress("customers", "compare", len(ledger.customers), len(ledger.customers))
    for table in WRITE_ORDER[1:]:
        part = validated.tables.get(table)
        if part is None:
            plans[table] = []
            continue
        columns = list(part.provided)
        keep: list[str] = []
        if table == "invoices" and "settled_date" not in columns and "payments" in validated.tables:
            columns.append("settled_date")  # derived from this import's payments
            keep.append("settled_date")
        frame = ledger.tables()[table]
        plans[table] = [plan_upsert(
            conn, table, frame, columns=columns, keep_stored_when_null=keep
        )]
        progress(table, "compare", len(frame), len(frame))
    return plans


def _write_tables(
    conn: Connection, plans: dict[str, list[TableWrites]], ledger: Ledger,
    progress: ImportProgress,
) -> dict[str, TableCounts]:
    """Execute the planned upserts, table by table in :data:`WRITE_ORDER`. On SQLite the
    rows are first bound into the connection's TEMP tables (progress stage ``stage``, no
    lock on the ledger) and then copied in by one statement per table
    (:mod:`creditrisk.ledger.sqlite_staging`): the database's write lock, taken by the
    first copy and held until the commit, covers those statements alone."""
    counts: dict[str, TableCounts] = {}
    totals = {table: len(ledger.tables()[table]) if plans[table] else 0 for table in WRITE_ORDER}
    for table in WRITE_ORDER:
        counts[table] = TableCounts()
        for writes in plans[table]:
            counts[table] += writes.counts
    if conn.dialect.name == "sqlite":
        staged: list[StagedStatement] = []
        for table in WRITE_ORDER:
            chunk = _RowsWritten(progress, table, totals[table], stage="stage")
            for number, writes in enumerate(plans[table]):
                staged += stage_writes(conn, writes, label=f"{table}_{number}", on_chunk=chunk)
        apply_staged(conn, staged)
    else:
        for table in WRITE_ORDER:
            chunk = _RowsWritten(progress, table, totals[table])
            for writes in plans[table]:
                apply_writes(conn, writes, on_chunk=chunk)
    for table in WRITE_ORDER:
        if plans[table]:
            progress(table, "write", totals[table], totals[table])
    return counts


def settled_dates_from_payments(invoices: pd.DataFrame, payments: pd.DataFrame) -> pd.Series:
    """Per invoice, the date its allocated payments first add up to its amount (1 cent
    tolerance), never before its issue date (a prepayment settles at issue); NaT if never.

    Same rule as :func:`creditrisk.ledger.frame.normalize_ledger`, computed here so that
    invoices with only partial payments are handled too.
    """
    allocated = payments.loc[payments["invoice_id"].notna(), ["invoice_id", "paid_on", "amount"]]
    if allocated.empty or invoices.empty:
        return pd.Series(pd.NaT, index=invoices.index, dtype=DATE_DTYPE)
    pay = allocated.sort_values(["invoice_id", "paid_on"], kind="stable")
    pay = pay.assign(paid_cum=pay.groupby("invoice_id", sort=False)["amount"].cumsum())
    owed = lookup(pay["invoice_id"], invoices.set_index("invoice_id")["amount"])
    reached = pay[pay["paid_cum"] >= owed - 0.01]
    settled = reached.groupby("invoice_id", sort=False)["paid_on"].min().astype(DATE_DTYPE)
    dates = lookup(invoices["invoice_id"], settled)
    return dates.where(~(dates < invoices["issue_date"]), invoices["issue_date"])


def _normalised(validated: ValidatedImport) -> Ledger:
    """The accepted rows as a contract ledger (:func:`normalize_ledger`): customers seen
    only in invoices are added, missing settlement dates come from the payments."""
    tables = {t: v.frame for t, v in validated.tables.items()}
    payments = tables.pop("payments", None)
    ledger = normalize_ledger(tables)
    if payments is None:
        return ledger
    paid = normalize_ledger({"payments": payments}).payments
    invoices = ledger.invoices
    derived = settled_dates_from_payments(invoices, paid)
    invoices = invoices.assign(
        settled_date=invoices["settled_date"].where(invoices["settled_date"].notna(), derived)
    )
    return Ledger(
        ledger.customers, invoices, paid, ledger.credit_events, ledger.customer_attributes
    )


def reject_file_paths(
    mapping: LedgerMapping, reject_path: Path, tables: list[str]
) -> dict[str, Path]:
    """Where each source table's rejected rows go: ``reject_path`` when the mapping reads one
    file, else ``<stem>.<table><suffix>`` next to it."""
    if len(mapping.source_tables()) == 1:
        return dict.fromkeys(tables, reject_path)
    suffix = reject_path.suffix or ".csv"
    return {t: reject_path.with_name(f"{reject_path.stem}.{t}{suffix}") for t in tables}


def write_reject_files(
    mapping: LedgerMapping,
    sources: Mapping[str, SourceFrame],
    validated: ValidatedImport,
    reject_path: Path,
) -> tuple[Path, ...]:
    """Rejected rows with their original columns plus ``reject_reason``, one CSV per file."""
    problems = validated.report.problems
    with_rejects = [t for t, rows in validated.rejected.items() if len(rows)]
    paths = reject_file_paths(mapping, reject_path, with_rejects)
    written: list[Path] = []
    for table in with_rejects:
        src = sources[table]
        positions = validated.rejected[table]
        mine = problems[(problems["_source"] == table) & (problems["_pos"] >= 0)]
        reasons = (
            (mine["column"].astype(str) + ": " + mine["problem"].astype(str))
            .groupby(mine["_pos"].to_numpy())
            .agg("; ".join)
        )
        rows = src.raw.iloc[positions].copy()
        rows[REJECT_REASON_COLUMN] = reasons.reindex(positions).to_numpy()
        path = paths[table]
        path.parent.mkdir(parents=True, exist_ok=True)
        if src.format == "csv":
            rows.to_csv(path, index=False, sep=src.delimiter, encoding=src.encoding)
        else:
            rows.to_csv(path, index=False)
        written.append(path)
    return tuple(written)


def import_ledger(
    mapping: LedgerMapping,
    *,
    engine: Engine,
    data_dir: Path | None = None,
    skip_bad_rows: bool = False,
    reject_path: Path | None = None,
    progress: ImportProgress | None = None,
) -> ImportResult:
    """Import the files of ``mapping`` into the ledger database in one transaction.

    Raises :class:`ImportRejected` (nothing written) when a file is unusable, or when any row
    is rejected and ``skip_bad_rows`` is false. With ``skip_bad_rows`` the accepted rows are
    written and, if ``reject_path`` is given, the rejected ones go to reject files (see
    :func:`reject_file_paths`), written before the first row is: if they cannot be
    written, nothing is imported. Every table is compared with what is stored before any
    row is written, so on SQLite the write lock (one writer per database) is held for the
    writes alone (see docs/service.md "SQLite: one writer at a time"). Re-importing the same
    files inserts and updates nothing. Relative source files resolve against ``data_dir``
    (default: the mapping's folder). Applies the migrations first.
    """
    progress = progress or no_progress
    ensure_schema(engine)
    sources, file_problems = read_sources(mapping, data_dir=data_dir, progress=progress)
    with engine.begin() as conn:
        validated = validate_import(
            mapping, sources, DatabaseKeys(conn), file_problems=file_problems
        )
        report = validated.report
        for table, part in validated.tables.items():
            progress(table, "validate", len(part.frame), len(part.frame))
        if not report.ok and (not skip_bad_rows or report.has_file_problems):
            raise ImportRejected(report)
        ledger = _normalised(validated)
        plans = _plan_tables(conn, ledger, validated, progress)
        reject_files: tuple[Path, ...] = ()
        if reject_path is not None and not report.ok:  # before any write: no rejects, no import
            reject_files = write_reject_files(mapping, sources, validated, reject_path)
        counts = _write_tables(conn, plans, ledger, progress)
    return ImportResult(
        counts=counts,
        rejected_rows=dict(report.rejected_rows),
        report=report,
        reject_files=reject_files,
    )


__all__ = [
    "ImportProgress",
    "ImportRejected",
    "ImportResult",
    "MappingError",
    "import_ledger",
    "read_sources",
    "write_reject_files",
]
