"""Customer buckets: the one partitioning of the book used by local chunks, the Parquet export
and Spark's ``groupBy``.

A bucket is a stable hash of the UTF-8 customer id (CRC-32, the same on every machine, Python
version and process; Python's own ``hash()`` is salted per process) modulo the bucket count.
Every invoice, payment and event of a customer goes with it, so a ledger restricted to one
bucket rates its customers exactly as the whole ledger does (features are per customer).
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from creditrisk.ledger.frame import Ledger

DEFAULT_BUCKETS = 64
"""Buckets of a local rescoring run (and the default for Spark): about 15,000 customers each
at a million customers, so one chunk's ledger stays small."""


def customer_bucket(customer_ids: pd.Series, buckets: int) -> pd.Series:
    """Per customer id: ``crc32(utf-8 id) % buckets`` (int64, same index as the input)."""
    if buckets < 1:
        raise ValueError(f"buckets must be at least 1, got {buckets}")
    ids = customer_ids.astype(str).tolist()
    crc = np.fromiter((zlib.crc32(i.encode("utf-8")) for i in ids), dtype=np.int64, count=len(ids))
    return pd.Series(crc % buckets, index=customer_ids.index, dtype="int64")


def bucket_ledger(ledger: Ledger, bucket: int, buckets: int) -> Ledger:
    """The sub-ledger of the customers in ``bucket``: their customers, invoices, payments and
    credit events rows (in ledger order)."""
    customers = ledger.customers
    keep = customer_bucket(customers["customer_id"], buckets) == bucket
    ids = customers.loc[keep.to_numpy(), "customer_id"]
    return restrict_ledger(ledger, ids)


def restrict_ledger(ledger: Ledger, customer_ids: pd.Series) -> Ledger:
    """The ledger's rows of ``customer_ids`` only (every table, ledger order kept)."""
    wanted = pd.Index(customer_ids.astype(str).unique())

    def pick(frame: pd.DataFrame) -> pd.DataFrame:
        mask = frame["customer_id"].astype(str).isin(wanted).to_numpy()
        return frame.loc[mask].reset_index(drop=True)

    return Ledger(**{name: pick(frame) for name, frame in ledger.tables().items()})
