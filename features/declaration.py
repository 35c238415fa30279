"""What declaring a feature means: :class:`Feature` and its two constructors.

A feature carries its name (the column name everywhere: feature frames, model signatures,
reason codes), a description a credit analyst understands (shown as a reason code), the
direction of risk (used as a LightGBM monotone constraint where that is sound), its family,
its look-back window and its level (one row per customer, or per invoice).

Direction: ``+1`` a higher value means higher risk, ``-1`` a higher value means lower risk,
``0`` not monotone or not known. Amounts that grow with the size of the customer (open
balance, overdue amount) get ``0``; the size-free shares and ratios get the sign.

Windows: "last N days" as of date ``T`` means records dated ``T - N < d <= T``.

The declarations themselves are in :mod:`features.customer_catalog` and
:mod:`features.invoice_catalog`; :mod:`features.catalog` is how everything else reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Level = Literal["customer", "invoice"]
Kind = Literal["numeric", "categorical"]
Direction = Literal[-1, 0, 1]


@dataclass(frozen=True)
class Feature:
    """One declared feature."""

    name: str
    description: str
    direction: Direction
    family: str
    window_days: int | None
    level: Level
    kind: Kind = "numeric"


def customer_feature(
    name: str,
    description: str,
    direction: Direction,
    family: str,
    window_days: int | None = None,
    kind: Kind = "numeric",
) -> Feature:
    """A customer-level feature (one value per customer and as-of date)."""
    return Feature(name, description, direction, family, window_days, "customer", kind)


def invoice_feature(
    name: str,
    description: str,
    direction: Direction,
    family: str,
    window_days: int | None = None,
    kind: Kind = "numeric",
) -> Feature:
    """An invoice-level feature (one value per invoice and prediction date)."""
    return Feature(name, description, direction, family, window_days, "invoice", kind)
