"""Per-customer aggregation over flat arrays: counts, sums, maxima and quantiles by code.

Every function takes ``codes`` (integer customer codes ``0..n-1``, one per record) and
returns one value per code, without a Python loop over customers. Sums add the records in
array order, so dropping records never changes the sums of the records that remain.
"""

from __future__ import annotations

import numpy as np


def count_by(codes: np.ndarray, n: int) -> np.ndarray:
    """Number of records per code, as ``float64``."""
    return np.bincount(codes, minlength=n).astype(np.float64)


def sum_by(codes: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Sum of ``values`` per code (0 where a code has no record)."""
    # bincount of nothing is int64 whatever the weights: keep sums float64
    return np.bincount(codes, weights=values, minlength=n).astype(np.float64, copy=False)


def max_by(codes: np.ndarray, values: np.ndarray, n: int, empty: float) -> np.ndarray:
    """Maximum of ``values`` per code; ``empty`` where a code has no record."""
    out = np.full(n, empty, dtype=np.float64)
    np.fmax.at(out, codes, values.astype(np.float64))
    return out


def ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator`` where the denominator is positive, else ``NaN``."""
    out = np.full(len(numerator), np.nan)
    ok = denominator > 0
    out[ok] = numerator[ok] / denominator[ok]
    return out


def quantile_by(codes: np.ndarray, values: np.ndarray, n: int, q: float) -> np.ndarray:
    """The ``q`` quantile of ``values`` per code (:func:`quantiles_by` of one ``q``)."""
    return quantiles_by(codes, values, n, (q,))[0]


def quantiles_by(
    codes: np.ndarray, values: np.ndarray, n: int, qs: tuple[float, ...]
) -> list[np.ndarray]:
    """The ``q`` quantiles of ``values`` per code, one array per ``q`` of ``qs`` (linear
    interpolation, as ``numpy`` and ``pandas`` compute it by default); ``NaN`` where a code
    has no record.

    ``values`` must be integers (days; negative ones allowed, such as a payment made before
    its due date): they are shifted to start at 0 and packed with the code into one ``int64``
    key, so a single sort orders every customer's values at once for all ``qs``. The result
    of a code does not depend on the other codes' values (the shift is undone exactly).
    """
    if len(codes) == 0:
        return [np.full(n, np.nan) for _ in qs]
    whole = values.astype(np.int64)
    low = int(whole.min())
    bits = max(int(whole.max()) - low, 1).bit_length()
    keys = np.sort((codes.astype(np.int64) << bits) | (whole - low))
    ordered = ((keys & ((1 << bits) - 1)) + low).astype(np.float64)
    counts = np.bincount(codes, minlength=n)
    starts = np.cumsum(counts) - counts
    has = counts > 0
    last = counts[has] - 1
    first = starts[has]
    out = []
    for q in qs:
        position = q * last
        low_rank = np.floor(position).astype(np.int64)
        high_rank = np.minimum(low_rank + 1, last)
        a = ordered[first + low_rank]
        b = ordered[first + high_rank]
        quantile = np.full(n, np.nan)
        quantile[has] = a + (b - a) * (position - low_rank)
        out.append(quantile)
    return out
