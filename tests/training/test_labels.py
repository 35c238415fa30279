"""Labels: default within the horizon (90+ DPD, write-off, insolvency), in-default exclusion,
censoring at the data cut-off; late payment with grace and censoring of unknown outcomes."""

from __future__ import annotations

import pandas as pd

from creditrisk.features.default_status import DefaultDefinition, default_events
from creditrisk.ledger.frame import normalize_ledger
from creditrisk.training.labels import default_labels, late_payment_labels


def _ledger() -> object:
    invoices = pd.DataFrame(
        {
            "invoice_id": ["i1", "i2", "i3", "i4", "i5"],
            "customer_id": ["a", "a", "b", "c", "d"],
            "issue_date": ["2023-01-01", "2023-03-01", "2023-01-15", "2023-02-01", "2023-06-01"],
            "due_date": ["2023-01-31", "2023-03-31", "2023-02-14", "2023-03-03", "2023-07-01"],
            "amount": [100.0, 200.0, 50.0, 80.0, 60.0],
            # a: i1 paid 5 days late, i2 never paid (90+ DPD on 2023-06-29)
            # b: paid on time; c: paid 100 days late (90+ DPD on 2023-06-01 while unpaid)
            "settled_date": ["2023-02-05", None, "2023-02-10", "2023-06-11", None],
        }
    )
    events = pd.DataFrame(
        {
            "event_id": ["e1", "e2"],
            "customer_id": ["b", "b"],
            "event_date": ["2023-09-01", "2023-05-01"],
            "event_type": ["insolvency", "reminder"],
        }
    )
    return normalize_ledger({"invoices": invoices, "credit_events": events})


def test_default_events_are_90_dpd_or_insolvency_write_off_but_not_reminders() -> None:
    events = default_events(_ledger(), DefaultDefinition())  # type: ignore[arg-type]
    got = {(r.customer_id, str(r.event_date.date()), r.source) for r in events.itertuples()}
    assert got == {
        ("a", "2023-06-29", "days_past_due"),
        ("c", "2023-06-01", "days_past_due"),
        ("d", "2023-09-29", "days_past_due"),
        ("b", "2023-09-01", "insolvency"),
    }


def test_default_label_window_in_default_exclusion_and_censoring() -> None:
    snaps = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c", "b"],
            "as_of": pd.to_datetime(
                ["2023-01-31", "2023-07-31", "2023-01-31", "2023-01-31", "2023-12-31"]
            ),
        }
    )
    out = default_labels(_ledger(), snaps, data_end="2024-06-30")  # type: ignore[arg-type]
    # a at Jan: default on Jun 29 within 12 months -> 1; a at Jul: already in default
    assert out["default_12m"].tolist()[:4] == [1, 0, 1, 1]
    assert out["in_default"].tolist() == [False, True, False, False, True]
    # windows from Jul 2023 and Dec 2023 run past the cut-off of Jun 2024: censored
    assert out["censored"].tolist() == [False, True, False, False, True]


def test_default_events_after_the_cut_off_are_not_known() -> None:
    snaps = pd.DataFrame({"customer_id": ["d"], "as_of": pd.to_datetime(["2023-06-30"])})
    # d's invoice reaches 90 DPD on 2023-09-29; with data ending 2023-09-01 it is unseen
    early = default_labels(_ledger(), snaps, data_end="2023-09-01")  # type: ignore[arg-type]
    late = default_labels(_ledger(), snaps, data_end="2024-12-31")  # type: ignore[arg-type]
    assert early["default_12m"].tolist() == [0]
    assert late["default_12m"].tolist() == [1]


def test_late_labels_censor_open_invoices_not_yet_past_due_plus_grace() -> None:
    ledger = _ledger()
    out = late_payment_labels(ledger, cutoff="2023-03-15", grace_days=0)  # type: ignore[arg-type]
    by_id = out.set_index("invoice_id")
    assert by_id.loc["i1", "late"] == 1
    assert by_id.loc["i1", "days_beyond_terms"] == 5
    assert by_id.loc["i3", "late"] == 0
    assert by_id.loc["i3", "days_beyond_terms"] == -4
    # i4 is open on 2023-03-15 and past due (Mar 3): known late, days unknown
    assert by_id.loc["i4", "known"]
    assert by_id.loc["i4", "late"] == 1
    assert pd.isna(by_id.loc["i4", "days_beyond_terms"])
    # i2 (due Mar 31) is open and not yet due: censored
    assert not by_id.loc["i2", "known"]
    # i5 was issued after the cut-off: not labelled at all
    assert "i5" not in by_id.index


def test_grace_days_move_the_late_threshold() -> None:
    out = late_payment_labels(_ledger(), cutoff="2024-01-01", grace_days=7)  # type: ignore[arg-type]
    assert out.set_index("invoice_id").loc["i1", "late"] == 0  # 5 days late < 7 days grace


def test_late_label_of_repaired_rows() -> None:
    """A due date the import repaired (it fell before the issue date) leaves the outcome
    unknown; a prepayment settled at issue keeps its label (on time)."""
    ts = pd.Timestamp
    invoices = pd.DataFrame(
        {
            "invoice_id": ["plain", "repaired", "prepaid"],
            "customer_id": ["C1"] * 3,
            "issue_date": [ts("2024-01-01")] * 3,
            "due_date": [ts("2024-01-31"), ts("2024-01-01"), ts("2024-01-31")],
            "amount": [100.0] * 3,
            "settled_date": [ts("2024-02-10"), ts("2024-02-10"), ts("2024-01-01")],
            "quality_flags": [None, "due_date_repaired", "prepaid"],
        }
    )
    labels = late_payment_labels(normalize_ledger({"invoices": invoices}), cutoff=ts("2024-06-30"))
    labels = labels.set_index("invoice_id")
    assert labels["known"].to_dict() == {"plain": True, "repaired": False, "prepaid": True}
    assert labels.loc[["plain", "prepaid"], "late"].tolist() == [1, 0]
