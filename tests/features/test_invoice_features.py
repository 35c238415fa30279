"""Invoice features use nothing known on or after the issue date, not even the invoice's own
outcome, and agree with the customer features of the day before."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

from creditrisk.features.catalog import INVOICE_ID_COLUMNS, feature_names
from creditrisk.features.customer import build_features
from creditrisk.features.invoice import build_invoice_features, build_open_invoice_features
from creditrisk.features.running_totals import RunningTotals
from creditrisk.ledger.frame import Ledger, normalize_ledger
from tests.features.ledgers import random_tables
from tests.features.strategies import START, RawLedger, on, raw_ledgers, records_from


@st.composite
def ledger_issue_day_and_rewritten_future(draw: st.DrawFn) -> tuple[RawLedger, int, RawLedger]:
    """A ledger, the issue day T of one of its invoices, and the same ledger with everything
    from T on rewritten: outcomes (settled dates, dispute flags) of invoices still open on T
    redrawn, payments from T on replaced, and new records from T on added."""
    base = draw(raw_ledgers())
    assume(any(inv["amount"] > 0 for inv in base.invoices))
    issue_day = draw(
        st.sampled_from(
            sorted({(inv["issue_date"] - START).days for inv in base.invoices if inv["amount"] > 0})
        )
    )
    cut = on(issue_day)
    changed = RawLedger(
        customers=[dict(c) for c in base.customers],
        invoices=[],
        payments=[dict(p) for p in base.payments if p["paid_on"] < cut],
        events=[dict(e) for e in base.events if e["event_date"] < cut],
        # the past's ratings stay (rewriting drops only what is valid from T on); the rewrite
        # used to drop every rating, so a rating known before T vanished from "after"
        ratings=[dict(r) for r in base.ratings if r["valid_from"] < cut],
    )
    paid_before = {p["invoice_id"] for p in changed.payments}
    for invoice in base.invoices:
        row = dict(invoice)
        # an invoice without settled date but paid before T may be settled before T (the
        # ledger derives the date from its payments): that part of the past stays as it is
        if row["settled_date"] is None:
            still_open = row["invoice_id"] not in paid_before
        else:
            still_open = row["settled_date"] >= cut
        if still_open or row["issue_date"] >= cut:
            first = max((row["issue_date"] - START).days, issue_day)
            later = st.integers(first, first + 60)
            # no settled date means "derive it from the payments": for an invoice paid before
            # T that could put its settlement before T, which would rewrite the past
            outcome = later if row["invoice_id"] in paid_before else st.one_of(st.none(), later)
            row["settled_date"] = on(draw(outcome))
            row["disputed"] = not row["disputed"]
        changed.invoices.append(row)
    return base, issue_day, changed.plus(draw(records_from(changed, issue_day)))


def features_until(ledger: Ledger, issue_day: int, invoice_ids: list[str]) -> pd.DataFrame:
    """Invoice features of the ``invoice_ids`` issued on or before ``issue_day``."""
    frame = build_invoice_features(ledger)
    chosen = (frame["issue_date"] <= on(issue_day)) & frame["invoice_id"].isin(invoice_ids)
    return frame[chosen].reset_index(drop=True)


def check_future_changes_nothing(example: tuple[RawLedger, int, RawLedger]) -> None:
    base, issue_day, changed = example
    ids = [inv["invoice_id"] for inv in base.invoices]
    before = features_until(normalize_ledger(base.tables()), issue_day, ids)
    after = features_until(normalize_ledger(changed.tables()), issue_day, ids)
    assert len(before) > 0
    pd.testing.assert_frame_equal(after, before, check_exact=True)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    report_multiple_bugs=False,
)
@given(ledger_issue_day_and_rewritten_future())
def test_features_at_issue_ignore_everything_from_the_issue_date_on(
    example: tuple[RawLedger, int, RawLedger],
) -> None:
    """Rewriting the future of day T (including the invoice's own settlement date, dispute
    flag and payments) leaves the features of every invoice issued up to T unchanged."""
    check_future_changes_nothing(example)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(ledger_issue_day_and_rewritten_future())
def test_the_rewritten_future_keeps_every_settlement_before_t(
    example: tuple[RawLedger, int, RawLedger],
) -> None:
    """The property above is only meaningful if the rewrite leaves the past alone: every
    invoice settled before T (explicitly or derived from its payments) is settled on the same
    day in both ledgers. (Found by CI: an invoice prepaid before T with an explicit settled
    date after T was rewritten to "no settled date", which the ledger derives from the
    prepayment, moving its settlement before T.)"""
    base, issue_day, changed = example
    cut = on(issue_day)

    def settled_before_t(raw: RawLedger) -> dict[str, pd.Timestamp]:
        invoices = normalize_ledger(raw.tables()).invoices
        invoices = invoices[invoices["amount"] > 0]  # credit notes are not receivables
        # the feature code reads a settlement as no earlier than the issue date
        settled = invoices["settled_date"].mask(
            invoices["settled_date"] < invoices["issue_date"], invoices["issue_date"]
        )
        past = settled.notna() & (settled < cut)
        return dict(zip(invoices.loc[past, "invoice_id"], settled[past], strict=True))

    assert settled_before_t(changed) == settled_before_t(base)


def test_the_issue_date_property_fails_when_history_looks_ahead(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """If history lookups saw every record instead of those before the issue day, the
    same property check must fail."""

    def sees_everything(self: RunningTotals, codes: np.ndarray, days: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.keys, ((codes.astype(np.int64) + 1) << 20), side="left")

    @settings(
        max_examples=200,
        deadline=None,
        phases=[Phase.generate],
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(ledger_issue_day_and_rewritten_future())
    def leaky_run(example: tuple[RawLedger, int, RawLedger]) -> None:
        check_future_changes_nothing(example)

    monkeypatch.setattr(RunningTotals, "before", sees_everything)
    with pytest.raises(AssertionError):
        leaky_run()


@pytest.fixture(scope="module")
def ledger() -> Ledger:
    return normalize_ledger(random_tables(11))


@pytest.fixture(scope="module")
def at_issue(ledger: Ledger) -> pd.DataFrame:
    return build_invoice_features(ledger)


def test_columns_are_the_ids_then_the_catalog(at_issue: pd.DataFrame) -> None:
    assert list(at_issue.columns) == [*INVOICE_ID_COLUMNS, *feature_names("invoice")]
    assert (at_issue["amount"] > 0).all()
    assert (at_issue["days_since_issue"] == 0).all()


def test_history_at_issue_equals_customer_features_of_the_day_before(
    ledger: Ledger, at_issue: pd.DataFrame
) -> None:
    """Open and overdue balance and the 90-day invoice count at issue are the customer
    features as of the day before the issue date."""
    checked = 0
    for issue_date in sorted(at_issue["issue_date"].unique())[::5]:
        day_before = pd.Timestamp(issue_date) - pd.Timedelta(days=1)
        customers = build_features(ledger, as_of=day_before)
        rows = at_issue[at_issue["issue_date"] == issue_date]
        rows = rows[rows["customer_id"].isin(customers.index)]
        expected = customers.loc[rows["customer_id"]]
        for invoice_name, customer_name in [
            ("open_balance", "open_balance"),
            ("overdue_balance", "overdue_balance"),
            ("prior_invoice_count_90d", "invoice_count_90d"),
        ]:
            np.testing.assert_allclose(
                rows[invoice_name].to_numpy(),
                expected[customer_name].to_numpy(),
                rtol=1e-9,
                atol=1e-6,
                err_msg=f"{invoice_name} on {issue_date}",
            )
        checked += len(rows)
    assert checked > 50


def test_open_invoices_as_of_a_date(ledger: Ledger) -> None:
    """As of T: exactly the positive invoices issued by T and not settled by T, with the
    customer's open balance as build_features computes it at T."""
    as_of = pd.Timestamp("2024-06-30")
    frame = build_invoice_features(ledger, as_of=as_of)
    invoices = ledger.invoices
    is_open = (
        (invoices["amount"] > 0)
        & (invoices["issue_date"] <= as_of)
        & ~(invoices["settled_date"] <= as_of)
    )
    assert list(frame["invoice_id"]) == list(invoices.loc[is_open, "invoice_id"])
    assert (
        (frame["issue_date"] + pd.to_timedelta(frame["days_since_issue"], unit="D")) == as_of
    ).all()
    customers = build_features(ledger, as_of=as_of)
    known = frame[frame["customer_id"].isin(customers.index)]
    np.testing.assert_allclose(
        known["open_balance"].to_numpy(),
        customers.loc[known["customer_id"], "open_balance"].to_numpy(),
        rtol=1e-9,
    )


@pytest.mark.parametrize("as_of", [None, pd.Timestamp("2024-03-31")])
def test_partition_size_does_not_change_invoice_features(
    ledger: Ledger, at_issue: pd.DataFrame, as_of: pd.Timestamp | None
) -> None:
    whole = at_issue if as_of is None else build_invoice_features(ledger, as_of=as_of)
    parts = build_invoice_features(ledger, as_of=as_of, partition_size=6)
    pd.testing.assert_frame_equal(parts, whole, check_exact=True)


# --- open invoices as of T: what happened to the invoice itself by T --------------------


def with_event_invoices(raw: RawLedger, draw: st.DrawFn) -> dict[str, pd.DataFrame]:
    """``raw.tables()`` with each credit event naming one of its customer's invoices (or
    none), so the per-invoice reminder and dispute features have something to count."""
    tables = raw.tables()
    by_customer: dict[str, list[str]] = {}
    for invoice in raw.invoices:
        by_customer.setdefault(invoice["customer_id"], []).append(invoice["invoice_id"])
    names = []
    for event in raw.events:
        if "invoice_id" not in event:
            choices = by_customer.get(event["customer_id"], [])
            event["invoice_id"] = draw(st.one_of(st.none(), st.sampled_from(choices))) if (
                choices
            ) else None
        names.append(event["invoice_id"])
    tables["credit_events"]["invoice_id"] = pd.Series(names, dtype="object")
    return tables


@st.composite
def ledger_as_of_and_later_records(
    draw: st.DrawFn,
) -> tuple[dict[str, pd.DataFrame], int, dict[str, pd.DataFrame]]:
    """A ledger, a day T, and the same ledger plus records dated after T (payments on open
    invoices, reminders and disputes naming them, new invoices) with the settlement of every
    invoice open at T moved to a random later day."""
    base = draw(raw_ledgers())
    as_of = draw(st.integers(0, 520))
    before = with_event_invoices(base, draw)
    later = draw(records_from(base, as_of + 1))
    changed = base.plus(later)
    changed.invoices = [dict(row) for row in changed.invoices]
    # an invoice without settled date paid before T may be settled before T (derived from
    # its payments): that part of the past stays as it is
    paid_by_t = {p["invoice_id"] for p in base.payments if p["paid_on"] <= on(as_of)}
    for row in changed.invoices:
        settled = row["settled_date"]
        still_open = settled > on(as_of) if settled is not None else (
            row["invoice_id"] not in paid_by_t
        )
        if row["issue_date"] <= on(as_of) and still_open:
            later_day = st.integers(as_of + 1, as_of + 90)
            # no date at all means "derive it from the payments": for an invoice that
            # payments dated by T already cover (a prepayment) that would settle it at
            # issue, i.e. rewrite the past; such an invoice gets a later date instead
            unsettled = st.none() if row["invoice_id"] not in paid_by_t else st.nothing()
            row["settled_date"] = on(draw(st.one_of(unsettled, later_day)))
    return before, as_of, with_event_invoices(changed, draw)


def check_open_features_ignore_later_records(
    example: tuple[dict[str, pd.DataFrame], int, dict[str, pd.DataFrame]],
) -> None:
    before, as_of, after = example
    kept = build_invoice_features(normalize_ledger(before), as_of=on(as_of))
    new = build_invoice_features(normalize_ledger(after), as_of=on(as_of))
    # invoices paid before T by payments only (no settled date) may count as settled
    # differently once later payments arrive; compare the invoices open in both
    both = sorted(set(kept["invoice_id"]) & set(new["invoice_id"]))
    assume(both)
    pd.testing.assert_frame_equal(
        new.set_index("invoice_id").loc[both], kept.set_index("invoice_id").loc[both],
        check_exact=True,
    )


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    report_multiple_bugs=False,
)
@given(ledger_as_of_and_later_records())
def test_open_invoice_features_at_t_ignore_everything_after_t(
    example: tuple[dict[str, pd.DataFrame], int, dict[str, pd.DataFrame]],
) -> None:
    """Nothing dated after T feeds a month-end row: later payments (partial or full),
    reminders and disputes naming the invoice, later invoices and a rewritten settlement
    date leave the features of every invoice open at T unchanged."""
    check_open_features_ignore_later_records(example)


def test_the_open_invoice_property_fails_when_own_records_look_ahead(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Negative control: if the invoice's own payments, reminders and disputes were read
    without the as-of cut, the property above must fail."""
    import creditrisk.features.invoice as invoice_module

    paid_share, event_counts = invoice_module._paid_share, invoice_module._event_counts

    def paid_share_all(part, chosen, until):  # type: ignore[no-untyped-def]
        return paid_share(part, chosen, until + 100_000)

    def events_all(events, rows, issue_dates, as_of_day):  # type: ignore[no-untyped-def]
        return event_counts(events, rows, issue_dates, 900_000)

    @settings(max_examples=300, deadline=None, phases=[Phase.generate], database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(ledger_as_of_and_later_records())
    def leaky_run(
        example: tuple[dict[str, pd.DataFrame], int, dict[str, pd.DataFrame]],
    ) -> None:
        check_open_features_ignore_later_records(example)

    monkeypatch.setattr(invoice_module, "_paid_share", paid_share_all)
    monkeypatch.setattr(invoice_module, "_event_counts", events_all)
    with pytest.raises(AssertionError):
        leaky_run()


def test_own_payments_reminders_and_disputes_by_hand() -> None:
    """Hand-worked: as of 2024-06-30, invoice X (1,000) has 250 paid on 06-10 and 250 on
    07-05 (later), two reminders (06-05, 06-28) and one on 07-02 (later), a dispute on 06-20;
    invoice Y (500) has a reminder naming it but filed by another customer (not counted).
    At issue every one of these is 0."""
    ledger = normalize_ledger(
        {
            "customers": pd.DataFrame({"customer_id": ["A", "B"]}),
            "invoices": pd.DataFrame(
                {
                    "invoice_id": ["X", "Y"],
                    "customer_id": ["A", "A"],
                    "issue_date": ["2024-05-15", "2024-06-01"],
                    "due_date": ["2024-06-14", "2024-07-01"],
                    "amount": [1000.0, 500.0],
                    "settled_date": [None, None],
                }
            ),
            "payments": pd.DataFrame(
                {
                    "payment_id": ["P1", "P2"],
                    "customer_id": ["A", "A"],
                    "invoice_id": ["X", "X"],
                    "paid_on": ["2024-06-10", "2024-07-05"],
                    "amount": [250.0, 250.0],
                }
            ),
            "credit_events": pd.DataFrame(
                {
                    "event_id": ["E1", "E2", "E3", "E4", "E5"],
                    "customer_id": ["A", "A", "A", "A", "B"],
                    "event_date": ["2024-06-05", "2024-06-28", "2024-07-02", "2024-06-20",
                                   "2024-06-21"],
                    "event_type": ["reminder", "reminder", "reminder", "dispute", "reminder"],
                    "invoice_id": ["X", "X", "X", "X", "Y"],
                }
            ),
        }
    )
    at_t = build_invoice_features(ledger, as_of=pd.Timestamp("2024-06-30")).set_index(
        "invoice_id"
    )
    assert at_t.loc["X", "invoice_paid_share"] == 0.25
    assert at_t.loc["X", "invoice_reminder_count"] == 2
    assert at_t.loc["X", "invoice_disputed"] == 1
    assert at_t.loc["Y", "invoice_paid_share"] == 0
    assert at_t.loc["Y", "invoice_reminder_count"] == 0
    assert at_t.loc["Y", "invoice_disputed"] == 0
    assert at_t.loc["X", "days_to_due"] == -16
    at_issue = build_invoice_features(ledger)
    own = ["invoice_paid_share", "invoice_reminder_count", "invoice_disputed"]
    assert (at_issue[own] == 0).all().all()


def test_open_invoices_at_many_dates_equal_one_date_at_a_time(ledger: Ledger) -> None:
    """The multi-date form (ledger indexed once) gives exactly the one-date frames, stacked
    with their as_of, whatever the partition size."""
    dates = [pd.Timestamp("2024-01-31"), pd.Timestamp("2024-03-31"), pd.Timestamp("2024-06-30")]
    stacked = build_open_invoice_features(ledger, as_of_dates=dates, partition_size=6)
    expected = pd.concat(
        [build_invoice_features(ledger, as_of=d).assign(as_of=d) for d in dates],
        ignore_index=True,
    )
    expected = expected[["as_of", *expected.columns[:-1]]]
    expected["as_of"] = expected["as_of"].astype("datetime64[ns]")
    assert len(stacked) > 0
    pd.testing.assert_frame_equal(stacked, expected, check_exact=True)
