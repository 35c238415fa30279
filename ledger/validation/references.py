"""Checks across tables: payments and credit events name a customer and invoice that exist
(in this import or already in the ledger) and agree with each other; every customer has an
onboarding date. A reference to a rejected row is rejected too, naming where that row is."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from creditrisk.ledger.frame import ID_DTYPE
from creditrisk.ledger.validation.keys import StoredKeys, is_in, lookup
from creditrisk.ledger.validation.report import ProblemLog, SourceFrame
from creditrisk.ledger.validation.rows import log_rule


@dataclass
class Accepted:
    """Ids accepted so far in this import, and ids rejected with the first place they were."""

    ids: pd.Index
    rejected_at: pd.Series


def accepted_ids(frame: pd.DataFrame, key: str, bad: np.ndarray, src: SourceFrame) -> Accepted:
    ids = frame[key]
    good = ids[~bad].dropna()
    rows = pd.Series(
        f"{src.path.name} {src.row_kind} " + pd.Series(src.row_numbers).astype(str),
        index=frame.index,
    )
    rejected = ids[bad & ids.notna().to_numpy()]
    rejected_at = rows[rejected.index].groupby(rejected.to_numpy()).first()
    rejected_at = rejected_at[~is_in(rejected_at.index.to_series(), good)]
    return Accepted(ids=pd.Index(good.unique()), rejected_at=rejected_at)


def _reference_problems(
    what: str,
    ids: pd.Series,
    accepted: Accepted,
    stored: pd.Index,
) -> tuple[pd.Series, pd.Series]:
    """(mask, message) for ids neither accepted in this import nor stored."""
    present = ids.notna()
    known = is_in(ids, accepted.ids) | is_in(ids, stored)
    missing = present & ~known
    rejected_where = lookup(ids, accepted.rejected_at)
    message = pd.Series(
        f"unknown {what}: neither in this import nor in the ledger", index=ids.index, dtype=object
    )
    was_rejected = rejected_where.notna()
    message[was_rejected] = (
        f"{what} is rejected in this import (" + rejected_where[was_rejected].astype(str) + ")"
    )
    return missing, message


def _customer_of_invoice(
    invoice_ids: pd.Series,
    invoices: pd.DataFrame | None,
    bad: np.ndarray | None,
    stored: StoredKeys,
) -> pd.Series:
    owner = pd.Series(dtype=ID_DTYPE)
    if invoices is not None and bad is not None and "customer_id" in invoices:
        good = invoices.loc[~bad, ["invoice_id", "customer_id"]].dropna()
        owner = pd.Series(good["customer_id"].to_numpy(), index=good["invoice_id"].to_numpy())
    others = invoice_ids.dropna()
    others = others[~is_in(others, owner.index)]
    if not others.empty:
        owner = pd.concat([owner, stored.invoice_customers(others.drop_duplicates())])
    owner = owner[~owner.index.duplicated()]
    return lookup(invoice_ids, owner)



def check_references(
    table: str,
    frames: Mapping[str, pd.DataFrame],
    src: SourceFrame,
    origin: Mapping[str, str],
    log: ProblemLog,
    stored: StoredKeys,
    customers: Accepted | None,
    invoices: Accepted | None,
) -> None:
    """Payments and credit events must name a known customer and (if any) a known invoice.

    ``None`` means the ids of that table are unknown (its file is unusable): not checked.
    """
    frame = frames[table]
    if "customer_id" in frame and customers is not None:
        ids = frame["customer_id"]
        unknown = ids.notna() & ~is_in(ids, customers.ids)
        stored_customers = stored.existing("customers", ids[unknown].drop_duplicates())
        mask, words = _reference_problems("customer", ids, customers, stored_customers)
        log_rule(log, src, origin, "customer_id", mask, words, frame)
    if "invoice_id" in frame and invoices is not None:
        ids = frame["invoice_id"]
        unknown = ids.notna() & ~is_in(ids, invoices.ids)
        stored_invoices = stored.existing("invoices", ids[unknown].drop_duplicates())
        mask, words = _reference_problems("invoice", ids, invoices, stored_invoices)
        log_rule(log, src, origin, "invoice_id", mask, words, frame)
        if "customer_id" in frame:
            owner = _customer_of_invoice(
                ids.where(~mask),
                frames.get("invoices"),
                log.bad("invoices") if "invoices" in frames else None,
                stored,
            )
            other = owner.notna() & frame["customer_id"].notna() & (owner != frame["customer_id"])
            words = (
                "invoice belongs to customer "
                + owner.astype("string").fillna("")
                + (", not to this row's customer")
            )
            log_rule(log, src, origin, "invoice_id", other, words, frame)


def check_onboarding(
    frames: Mapping[str, pd.DataFrame],
    src: SourceFrame,
    origin: Mapping[str, str],
    log: ProblemLog,
    stored: StoredKeys,
) -> None:
    """A customer needs an onboarding date: given, or its first invoice, or already stored."""
    customers = frames["customers"]
    if "customer_id" not in customers:
        return
    onboarded = customers.get("onboarded_on", pd.Series(pd.NaT, index=customers.index))
    ids = customers["customer_id"]
    need = onboarded.isna() & ids.notna()
    if not need.any():
        return
    with_invoices = pd.Index([], dtype=ID_DTYPE)
    if "invoices" in frames and "customer_id" in frames["invoices"]:
        good = frames["invoices"][~log.bad("invoices")]
        with_invoices = pd.Index(good["customer_id"].dropna().unique())
    need &= ~is_in(ids, with_invoices)
    need &= ~is_in(ids, stored.existing("customers", ids[need]))
    words = "no onboarding date and no invoice to take it from"
    column = "onboarded_on" if "onboarded_on" in origin else "customer_id"
    log_rule(log, src, origin, column, need, words, customers)

