"""The in-memory ledger: five DataFrames with one fixed set of columns and dtypes.

Every path into the feature code (SQL, Parquet, the synthetic generator) ends in
:func:`normalize_ledger`, so dtypes are settled once at this boundary:

* ids are pandas ``string`` dtype (pandas 3 makes ``str`` the default; never test
  ``dtype == object``),
* every date column is ``datetime64[ns]``, normalised to midnight (mixed ``s``/``ms``/``ns``
  resolutions make comparisons and ``merge_asof`` misbehave),
* amounts are ``float64``, flags are ``bool``.

Amounts are in the ledger's reporting currency; ``currency`` is kept for reference.
An invoice with a negative amount is a credit note.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from creditrisk.ledger.errors import LedgerContractError
from creditrisk.ledger.errors import LedgerError as LedgerError  # callers import it here

DATE_DTYPE: Any = "datetime64[ns]"
ID_DTYPE: Any = "string"

CREDIT_EVENT_TYPES: tuple[str, ...] = (
    "insolvency",
    "write_off",
    "reminder",
    "promise_to_pay",
    "dispute",
    "collection",
)
"""Credit events the ledger understands. Defaults are ``insolvency`` and ``write_off``."""

DEFAULT_EVENT_TYPES: tuple[str, ...] = ("insolvency", "write_off")

# column -> dtype kind: "id", "str", "date", "float", "int", "bool"
CUSTOMER_COLUMNS: dict[str, str] = {
    "customer_id": "id",
    "onboarded_on": "date",
    "country": "str",
    "industry": "str",
    "founded_on": "date",
    "credit_limit": "float",
    "payment_terms_days": "float",
    "external_score": "float",
    "annual_revenue": "float",
}
INVOICE_COLUMNS: dict[str, str] = {
    "invoice_id": "id",
    "customer_id": "id",
    "issue_date": "date",
    "due_date": "date",
    "amount": "float",
    "currency": "str",
    "disputed": "bool",
    "settled_date": "date",
    "company_code": "str",
    "gl_account": "str",
    "terms_code": "str",
    "segment": "str",
    "quality_flags": "str",
    "dimensions": "str",
}
PAYMENT_COLUMNS: dict[str, str] = {
    "payment_id": "id",
    "customer_id": "id",
    "invoice_id": "id",
    "paid_on": "date",
    "amount": "float",
}
CREDIT_EVENT_COLUMNS: dict[str, str] = {
    "event_id": "id",
    "customer_id": "id",
    "event_date": "date",
    "event_type": "str",
    "invoice_id": "id",
}

CUSTOMER_ATTRIBUTE_COLUMNS: dict[str, str] = {
    "attribute_id": "id",
    "customer_id": "id",
    "attribute": "str",
    "valid_from": "date",
    "value": "str",
}
"""Time-varying customer attributes (a rating and the date from which it holds): history,
read point in time (:func:`creditrisk.features.attributes.value_at`), never overwritten."""

INVOICE_DIMENSIONS: tuple[str, ...] = ("company_code", "gl_account", "terms_code", "segment")
"""Optional invoice-level text columns kept as they come (categorical features of the late
model); ``segment`` takes any other named string column of the export. Further named ones
go to ``dimensions`` (JSON, :mod:`creditrisk.ledger.dimensions`)."""

QUALITY_FLAGS: tuple[str, ...] = ("due_date_repaired", "prepaid", "zero_amount")
"""Values of ``invoices.quality_flags`` (comma-separated): what a data-quality rule of the
mapping did to the row (see docs/import.md)."""

def has_quality_flag(invoices: pd.DataFrame, flag: str) -> pd.Series:
    """Whether each invoice carries ``flag`` in ``quality_flags`` (False when absent)."""
    if flag not in QUALITY_FLAGS:
        raise ValueError(f"unknown quality flag {flag!r} (expected one of {QUALITY_FLAGS})")
    flags = invoices["quality_flags"].astype("string").str.split(",")
    found = flags.map(lambda names: isinstance(names, list) and flag in names)
    return found.fillna(False).astype(bool)


TABLE_COLUMNS: dict[str, dict[str, str]] = {
    "customers": CUSTOMER_COLUMNS,
    "invoices": INVOICE_COLUMNS,
    "payments": PAYMENT_COLUMNS,
    "credit_events": CREDIT_EVENT_COLUMNS,
    "customer_attributes": CUSTOMER_ATTRIBUTE_COLUMNS,
}
TABLE_KEYS: dict[str, str] = {
    "customers": "customer_id",
    "invoices": "invoice_id",
    "payments": "payment_id",
    "credit_events": "event_id",
    "customer_attributes": "attribute_id",
}


@dataclass(frozen=True)
class Ledger:
    """Customers, invoices, payments and credit events as normalised DataFrames."""

    customers: pd.DataFrame
    invoices: pd.DataFrame
    payments: pd.DataFrame
    credit_events: pd.DataFrame
    customer_attributes: pd.DataFrame = field(
        default_factory=lambda: empty_table("customer_attributes")
    )

    def __post_init__(self) -> None:
        # frames built without the optional columns added later to the contract (invoice
        # dimensions, quality flags) get them, empty and typed, so every reader finds them
        for table, frame in self.tables().items():
            missing = [c for c in TABLE_COLUMNS[table] if c not in frame.columns]
            if missing:
                filled = frame.assign(
                    **{c: empty_table(table)[c].reindex(frame.index) for c in missing}
                )
                object.__setattr__(self, table, filled)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {
            "customers": self.customers,
            "invoices": self.invoices,
            "payments": self.payments,
            "credit_events": self.credit_events,
            "customer_attributes": self.customer_attributes,
        }

    @property
    def n_invoices(self) -> int:
        return len(self.invoices)


_EMPTY_TABLES: dict[str, pd.DataFrame] = {}


def empty_table(table: str) -> pd.DataFrame:
    """An empty frame with the table's columns and dtypes (a fresh copy each call)."""
    if table not in _EMPTY_TABLES:
        _EMPTY_TABLES[table] = _coerce(pd.DataFrame({c: [] for c in TABLE_COLUMNS[table]}), table)
    return _EMPTY_TABLES[table].copy()


SMALL_FRAME_ROWS = 1_000
"""Up to this many rows a column of plain ``datetime.date`` values (what a database driver
returns for one customer's rows) is converted without ``pandas.to_datetime``."""


def _plain_dates(series: pd.Series) -> pd.Series | None:
    """A small object column holding only ``datetime.date`` (not datetime) or None, as
    midnight timestamps; None for any other column (the general path reads it). Such
    values carry no time of day nor time zone, so nothing needs normalising."""
    if series.dtype != object or len(series) > SMALL_FRAME_ROWS:
        return None
    values = series.tolist()
    if not all(value is None or type(value) is dt.date for value in values):
        return None
    days = np.array(values, dtype="datetime64[D]")  # None -> NaT
    return pd.Series(days.astype(DATE_DTYPE), index=series.index, name=series.name)


def _coerce_column(series: pd.Series, kind: str, table: str, column: str) -> pd.Series:
    try:
        if kind == "id" or kind == "str":
            out = series.astype(ID_DTYPE)
        elif kind == "date" and (dates := _plain_dates(series)) is not None:
            out = dates
        elif kind == "date":
            out = pd.to_datetime(series, errors="raise")
            if getattr(out.dt, "tz", None) is not None:
                out = out.dt.tz_localize(None)
            out = out.dt.normalize().astype(DATE_DTYPE)
        elif kind == "float":
            out = pd.to_numeric(series, errors="raise").astype("float64")
        elif kind == "bool":
            out = series.fillna(False).astype("bool")
        else:  # pragma: no cover - table definitions are static
            raise AssertionError(kind)
    except (ValueError, TypeError) as exc:
        raise LedgerContractError(f"{table}.{column}: cannot read as {kind}: {exc}") from exc
    return out


def _coerce(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    columns = TABLE_COLUMNS[table]
    out = {}
    for column, kind in columns.items():
        if column in frame.columns:
            out[column] = _coerce_column(frame[column], kind, table, column)
        else:
            missing = pd.Series([None] * len(frame), index=frame.index)
            out[column] = _coerce_column(missing, kind, table, column)
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))


def normalize_ledger(tables: Mapping[str, pd.DataFrame | None]) -> Ledger:
    """Coerce raw tables into a :class:`Ledger` with the contract's columns and dtypes.

    Missing optional tables become empty; customers seen only in invoices are added with
    ``onboarded_on`` = their first invoice date; invoices without ``settled_date`` get it
    from their allocated payments (the date the paid total first reaches the amount).
    Raises :class:`LedgerContractError` naming the table and column on a contract violation.
    """
    frames: dict[str, pd.DataFrame] = {}
    for table in TABLE_COLUMNS:
        raw = tables.get(table)
        frames[table] = empty_table(table) if raw is None else _coerce(raw, table)

    for table, key in TABLE_KEYS.items():
        ids = frames[table][key]
        if ids.isna().any():
            row = int(np.flatnonzero(ids.isna().to_numpy())[0])
            raise LedgerContractError(f"{table}.{key}: missing id at row {row}")
        dup = ids.duplicated()
        if dup.any():
            raise LedgerContractError(f"{table}.{key}: duplicate id {ids[dup].iloc[0]!r}")

    invoices = frames["invoices"]
    bad_due = invoices["due_date"] < invoices["issue_date"]
    if bad_due.any():
        inv = invoices.loc[bad_due, "invoice_id"].iloc[0]
        raise LedgerContractError(f"invoices.due_date: before issue_date for invoice {inv!r}")

    customers = _add_inferred_customers(frames["customers"], invoices)
    invoices = _derive_settled_dates(invoices, frames["payments"])
    events = frames["credit_events"]
    unknown = ~events["event_type"].isin(CREDIT_EVENT_TYPES)
    if unknown.any():
        raise LedgerContractError(
            f"credit_events.event_type: unknown value {events.loc[unknown, 'event_type'].iloc[0]!r}"
            f" (expected one of {', '.join(CREDIT_EVENT_TYPES)})"
        )
    return Ledger(
        customers=customers.reset_index(drop=True),
        invoices=invoices.reset_index(drop=True),
        payments=frames["payments"].reset_index(drop=True),
        credit_events=events.reset_index(drop=True),
        customer_attributes=frames["customer_attributes"].reset_index(drop=True),
    )


def _add_inferred_customers(customers: pd.DataFrame, invoices: pd.DataFrame) -> pd.DataFrame:
    if invoices.empty:
        return customers
    first_issue = invoices.groupby("customer_id", sort=False)["issue_date"].min()
    unseen = first_issue.index.difference(pd.Index(customers["customer_id"]))
    if len(unseen) == 0:
        missing_onboarding = customers["onboarded_on"].isna()
        if missing_onboarding.any():
            customers = customers.copy()
            fill = customers.loc[missing_onboarding, "customer_id"].map(first_issue)
            customers.loc[missing_onboarding, "onboarded_on"] = fill
        return customers
    extra = empty_table("customers").reindex(range(len(unseen)))
    extra["customer_id"] = pd.array(list(unseen), dtype=ID_DTYPE)
    extra["onboarded_on"] = first_issue.loc[unseen].to_numpy()
    extra = _coerce(extra, "customers")
    out = pd.concat([customers, extra], ignore_index=True) if len(customers) else extra
    return _add_inferred_customers(out, invoices)


def _derive_settled_dates(invoices: pd.DataFrame, payments: pd.DataFrame) -> pd.DataFrame:
    """Fill ``settled_date`` from allocated payments where it is missing."""
    need = invoices["settled_date"].isna()
    if not need.any() or payments.empty:
        return invoices
    target = invoices.loc[need]
    # only the payments of invoices without a date: each invoice's running total reads its
    # own payments alone, so leaving the others out changes no result (and skips sorting them)
    allocated = payments[payments["invoice_id"].isin(target["invoice_id"]).to_numpy(
        dtype=bool, na_value=False)]
    if allocated.empty:
        return invoices
    pay = allocated[["invoice_id", "paid_on", "amount"]].sort_values(
        ["invoice_id", "paid_on"], kind="stable"
    )
    pay = pay.assign(paid_cum=pay.groupby("invoice_id", sort=False)["amount"].cumsum())
    # the amount of each invoice still to settle, per payment (ids are unique: checked above)
    owed = pay["invoice_id"].map(
        pd.Series(target["amount"].to_numpy(), index=target["invoice_id"].to_numpy())
    )
    # settled when the cumulative paid amount reaches the invoice amount (1 cent tolerance)
    reached = pay[(pay["paid_cum"] >= owed - 0.01).to_numpy(dtype=bool, na_value=False)]
    settled = reached.groupby("invoice_id", sort=False)["paid_on"].min()
    out = invoices.copy()
    derived = settled.reindex(out.loc[need, "invoice_id"].to_numpy()).to_numpy(
        dtype="datetime64[ns]"
    )
    # a prepayment settles the invoice on its issue date, never before it
    issued = out.loc[need, "issue_date"].to_numpy(dtype="datetime64[ns]")
    derived = np.where(np.isnat(derived), derived, np.maximum(derived, issued))
    out.loc[need, "settled_date"] = derived
    out["settled_date"] = out["settled_date"].astype(DATE_DTYPE)
    return out
