"""Training sets: monthly customer snapshots (with onboarding snapshots) and invoices.

Snapshots are built once for all month-ends (``features.snapshots.build_snapshots``), and
each customer also gets its snapshot at onboarding (no history yet) so that the same
default model scores new applicants. Labels come from :mod:`training.labels`; rows already
in default or whose label window runs past the data cut-off are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from creditrisk.features.applicant import APPLICANT_ATTRIBUTES, applicant_features
from creditrisk.features.catalog import feature_names
from creditrisk.features.default_status import DefaultDefinition
from creditrisk.features.invoice import build_invoice_features
from creditrisk.features.snapshots import build_snapshots
from creditrisk.ledger.frame import Ledger
from creditrisk.training.errors import TrainingError
from creditrisk.training.labels import default_labels, late_payment_labels


class DatasetError(TrainingError, ValueError):
    """The ledger cannot produce the requested training set (names the dates/counts)."""


@dataclass(frozen=True)
class SnapshotSet:
    """Labelled customer snapshots: ids, as_of, features, ``default_12m``, ``is_applicant``."""

    frame: pd.DataFrame
    data_end: pd.Timestamp
    horizon_days: int

    @property
    def label_rate(self) -> float:
        return float(self.frame["default_12m"].mean()) if len(self.frame) else float("nan")


def month_ends(first: pd.Timestamp, last: pd.Timestamp) -> list[pd.Timestamp]:
    """Month-end dates from the month of ``first`` through ``last`` (inclusive)."""
    dates = pd.date_range(first.normalize(), last.normalize(), freq="ME")
    return list(dates)


def onboarding_snapshots(ledger: Ledger, *, exclude_dates: set[pd.Timestamp]) -> pd.DataFrame:
    """Each customer's feature row on its onboarding day (skipped where a month-end
    snapshot already falls on that day)."""
    customers = ledger.customers
    keep = ~customers["onboarded_on"].isin(list(exclude_dates)) & customers["onboarded_on"].notna()
    customers = customers[keep]
    frames = []
    for day, group in customers.groupby("onboarded_on", sort=True):
        feats = applicant_features(group.loc[:, list(APPLICANT_ATTRIBUTES)], as_of=day)
        feats.insert(0, "as_of", pd.Timestamp(day))
        feats.insert(0, "customer_id", group["customer_id"].to_numpy())
        frames.append(feats)
    if not frames:
        return pd.DataFrame(columns=["customer_id", "as_of", *feature_names("customer")])
    return pd.concat(frames, ignore_index=True)


def ledger_start(ledger: Ledger) -> pd.Timestamp:
    """The first day the ledger has records for (its earliest invoice).

    A ledger is an extract: customers onboarded years before it starts have no records
    before it, and defaults before it are not in it. Snapshots dated earlier would be empty
    rows with a label that cannot be positive, so training snapshots start here.
    """
    issued = ledger.invoices["issue_date"]
    if issued.isna().all():
        raise DatasetError("the ledger holds no invoices: there is no history to learn from")
    return pd.Timestamp(issued.min()).normalize()


def build_snapshot_set(
    ledger: Ledger,
    *,
    data_end: date | pd.Timestamp,
    horizon_days: int,
    definition: DefaultDefinition | None = None,
    first_date: date | pd.Timestamp | None = None,
) -> SnapshotSet:
    """Labelled snapshots at every month-end from ``first_date`` (default: the ledger's first
    record, :func:`ledger_start`) whose label window closes by ``data_end``, plus each
    customer's onboarding snapshot in that range."""
    end = pd.Timestamp(data_end).normalize()
    last_labelled = end - pd.Timedelta(days=horizon_days)
    first = pd.Timestamp(first_date) if first_date is not None else ledger_start(ledger)
    if pd.isna(first) or first > last_labelled:
        raise DatasetError(
            f"no month-end between the first snapshot date ({first.date()}) and "
            f"{last_labelled.date()} "
            f"(data end {end.date()} minus the {horizon_days}-day label window)"
        )
    dates = month_ends(first, last_labelled)
    monthly = build_snapshots(ledger, as_of_dates=dates)
    onboarding = onboarding_snapshots(ledger, exclude_dates=set(dates))
    onboarding = onboarding[
        (onboarding["as_of"] >= first) & (onboarding["as_of"] <= last_labelled)
    ]
    frame = pd.concat([monthly, onboarding], ignore_index=True) if len(onboarding) else monthly
    labelled = default_labels(ledger, frame, data_end=end, horizon_days=horizon_days,
                              definition=definition)
    usable = labelled[~labelled["in_default"] & ~labelled["censored"]]
    usable = usable.drop(columns=["in_default", "censored"]).reset_index(drop=True)
    usable["is_applicant"] = usable["days_since_last_invoice"].isna().to_numpy()
    usable["as_of"] = pd.to_datetime(usable["as_of"]).astype("datetime64[ns]")
    return SnapshotSet(usable, end, horizon_days)


@dataclass(frozen=True)
class InvoiceSet:
    """Invoice features at issue with the late label as known at each role's cut-off."""

    features: pd.DataFrame


def build_invoice_set(ledger: Ledger) -> InvoiceSet:
    """Invoice features at issue for every positive invoice (labels are attached per role)."""
    feats = build_invoice_features(ledger)
    feats = feats[feats["amount"] > 0].reset_index(drop=True)
    return InvoiceSet(feats)


def attach_late_labels(
    features: pd.DataFrame,
    ledger: Ledger,
    *,
    cutoff: pd.Timestamp,
    grace_days: int,
) -> pd.DataFrame:
    """``features`` rows with ``late`` / ``days_beyond_terms`` as known at ``cutoff``;
    censored rows dropped."""
    labels = late_payment_labels(ledger, cutoff=cutoff, grace_days=grace_days)
    labels = labels.loc[labels["known"], ["invoice_id", "late", "days_beyond_terms"]]
    out = features.merge(labels, on="invoice_id", how="inner", validate="one_to_one")
    out["late"] = out["late"].astype(np.int8)
    return out
