"""Customer x date feature snapshots for training, built without starting over per date.

The ledger is converted once (:func:`features.prepared.prepare_ledger`) and cut into
customer partitions once; each partition is then evaluated at every as-of date with the
same point-in-time cut and vectorised passes as :func:`features.customer.build_features`,
so a snapshot row is identical to ``build_features(ledger, as_of=d)`` for its customer and
date. A date contributes the customers onboarded on or before it.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd

from creditrisk.features import point_in_time
from creditrisk.features.catalog import feature_names
from creditrisk.features.customer import feature_frame
from creditrisk.features.prepared import dates_of, prepare_ledger
from creditrisk.ledger.frame import DATE_DTYPE, Ledger


class SnapshotError(ValueError):
    """The as-of dates of a snapshot request are unusable (none, or repeated)."""


def build_snapshots(
    ledger: Ledger,
    *,
    as_of_dates: Sequence[date | pd.Timestamp],
    partition_size: int = 200_000,
) -> pd.DataFrame:
    """Customer features at each of ``as_of_dates`` (e.g. month ends).

    Columns ``customer_id, as_of`` then the customer features in catalog order; rows sorted
    by ``as_of``, then by customer in ledger order; a plain ``RangeIndex``.
    """
    if len(as_of_dates) == 0:
        raise SnapshotError("as_of_dates is empty: give at least one date")
    days = sorted(point_in_time.as_of_day(d) for d in as_of_dates)
    repeated = [d for d, nxt in itertools.pairwise(days) if d == nxt]
    if repeated:
        raise SnapshotError(f"as_of_dates repeats {dates_of_day(repeated[0])}")
    prepared = prepare_ledger(ledger)
    per_date: list[list[pd.DataFrame]] = [[] for _ in days]
    ranges = prepared.partitions(partition_size) or [(0, 0)]
    for start, stop in ranges:
        part = prepared.partition(start, stop)
        for i, day in enumerate(days):
            per_date[i].append(feature_frame(part, day))
    frames = []
    for day, parts in zip(days, per_date, strict=True):
        frame = pd.concat(parts) if len(parts) > 1 else parts[0]
        frame = frame.reset_index()
        frame.insert(1, "as_of", pd.Series(dates_of_day(day), index=frame.index, dtype=DATE_DTYPE))
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    return out[["customer_id", "as_of", *feature_names("customer")]]


def dates_of_day(day: int) -> pd.Timestamp:
    """The calendar date of day number ``day``."""
    return pd.Timestamp(dates_of(np.asarray([day]))[0])
