"""Data lineage: a content digest of the ledger a model learned from."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from creditrisk.ledger.frame import Ledger


def ledger_digest(ledger: Ledger) -> str:
    """SHA-256 over every table's rows (order-independent within a table)."""
    digest = hashlib.sha256()
    for name, frame in ledger.tables().items():
        digest.update(name.encode())
        digest.update(str(list(frame.columns)).encode())
        if len(frame):
            row_hashes = np.sort(pd.util.hash_pandas_object(frame, index=False).to_numpy())
            digest.update(row_hashes.tobytes())
    return digest.hexdigest()
