"""The synthetic ledger: seeded, in contract dtypes, consistent as a ledger, and its truth
calibrated against what the ledger itself shows (the labels downstream are built from it)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from creditrisk.ledger.frame import (
    DEFAULT_EVENT_TYPES,
    TABLE_COLUMNS,
    normalize_ledger,
)
from creditrisk.synthetic import (
    LEDGER_FILES,
    TRUTH_FILES,
    SyntheticLedger,
    SyntheticLedgerError,
    SyntheticWriter,
    WorldParameters,
    generate_ledger,
    iter_synthetic_partitions,
    summarize,
    write_synthetic,
)
from creditrisk.synthetic.distress import default_within, transition_matrices
from creditrisk.synthetic.world import DEFAULTED, HEALTHY, N_STATES
from creditrisk.training.expected_auc import expected_roc_auc

START = date(2021, 1, 1)
END = date(2023, 12, 31)
END_TS = pd.Timestamp(END)
N_CUSTOMERS = 5_000
SEED = 20240601
HORIZON = pd.Timedelta(days=365)
MAX_Z = 4.0
"""Tolerance in standard errors for the ledger-level calibration checks. With
cluster-robust errors a correct generator exceeds 4 SE with probability about 6e-5. For
p_late (about 160,000 invoices with a known outcome) 4 SE is about a third of a percentage
point; for pd_12m (about 350 defaults) it is about a fifth of the default rate, which
catches a misaligned label window or state, while the exact numbers are pinned by the
chain-level test."""


@pytest.fixture(scope="module")
def synthetic() -> SyntheticLedger:
    # partitions of 700 exercise ids numbered across partitions
    return generate_ledger(
        n_customers=N_CUSTOMERS, start=START, end=END, seed=SEED, partition_size=700
    )


@pytest.fixture(scope="module")
def default_dates(synthetic: SyntheticLedger) -> pd.Series:
    """First default event (insolvency or write-off) per customer, from the ledger."""
    events = synthetic.ledger.credit_events
    defaults = events[events["event_type"].isin(DEFAULT_EVENT_TYPES)]
    return defaults.groupby("customer_id")["event_date"].min()


def cluster_z(residual: np.ndarray, cluster: pd.Series) -> float:
    """Sum of residuals over its cluster-robust standard error (customers are clusters,
    because one customer's monthly outcomes are strongly correlated)."""
    per_cluster = pd.Series(residual).groupby(cluster.to_numpy()).sum().to_numpy()
    se = np.sqrt(np.sum(per_cluster**2))
    return float(residual.sum() / se)


def test_same_seed_gives_identical_frames_and_another_seed_does_not() -> None:
    a = generate_ledger(n_customers=300, start=START, end=END, seed=7, partition_size=120)
    b = generate_ledger(n_customers=300, start=START, end=END, seed=7, partition_size=120)
    c = generate_ledger(n_customers=300, start=START, end=END, seed=8, partition_size=120)
    for name, frame in a.ledger.tables().items():
        pd.testing.assert_frame_equal(frame, b.ledger.tables()[name])
    pd.testing.assert_frame_equal(a.customer_month_truth, b.customer_month_truth)
    pd.testing.assert_frame_equal(a.invoice_truth, b.invoice_truth)
    assert not a.ledger.invoices["amount"].equals(c.ledger.invoices["amount"])


def test_normalize_ledger_accepts_the_output_unchanged(synthetic: SyntheticLedger) -> None:
    """Frames come out in the exact contract dtypes, so normalising changes nothing."""
    normalized = normalize_ledger(synthetic.ledger.tables())
    for name, frame in synthetic.ledger.tables().items():
        assert list(frame.columns) == list(TABLE_COLUMNS[name])
        pd.testing.assert_frame_equal(normalized.tables()[name], frame)


def test_ids_are_unique_across_partitions(synthetic: SyntheticLedger) -> None:
    ledger = synthetic.ledger
    assert ledger.customers["customer_id"].is_unique
    assert ledger.invoices["invoice_id"].is_unique
    assert ledger.payments["payment_id"].is_unique
    assert ledger.credit_events["event_id"].is_unique
    assert len(ledger.customers) == N_CUSTOMERS
    pd.testing.assert_series_equal(
        synthetic.invoice_truth["invoice_id"], ledger.invoices["invoice_id"]
    )
    referenced = pd.concat(
        [ledger.payments["invoice_id"], ledger.credit_events["invoice_id"].dropna()]
    )
    assert referenced.isin(ledger.invoices["invoice_id"]).all()


def test_no_record_is_dated_after_end(synthetic: SyntheticLedger) -> None:
    ledger = synthetic.ledger
    dated = {
        "customers.onboarded_on": ledger.customers["onboarded_on"],
        "invoices.issue_date": ledger.invoices["issue_date"],
        "invoices.settled_date": ledger.invoices["settled_date"],
        "payments.paid_on": ledger.payments["paid_on"],
        "credit_events.event_date": ledger.credit_events["event_date"],
        "truth.month_end": synthetic.customer_month_truth["month_end"],
    }
    for column, values in dated.items():
        assert values.max() <= END_TS, column
    assert ledger.invoices["issue_date"].min() >= pd.Timestamp(START)


def test_settled_invoices_are_paid_in_full_and_open_ones_are_not(
    synthetic: SyntheticLedger,
) -> None:
    invoices = synthetic.ledger.invoices.set_index("invoice_id")
    payments = synthetic.ledger.payments
    paid = payments.groupby("invoice_id")["amount"].sum()
    last_paid = payments.groupby("invoice_id")["paid_on"].max()
    settled = invoices[invoices["settled_date"].notna()]
    assert np.allclose(paid.reindex(settled.index).to_numpy(), settled["amount"], atol=0.005)
    assert (last_paid.reindex(settled.index) == settled["settled_date"]).all()
    open_paid = paid.reindex(invoices.index[invoices["settled_date"].isna()]).fillna(0.0)
    open_amount = invoices.loc[open_paid.index, "amount"]
    assert (open_paid < open_amount - 0.01).all()
    assert (payments["amount"] > 0).all()
    assert (payments.groupby("invoice_id").size() > 1).mean() > 0.02  # partial payments exist


def test_living_customers_are_never_90_days_past_due(
    synthetic: SyntheticLedger, default_dates: pd.Series
) -> None:
    """Downstream, default = 90+ DPD, write-off or insolvency; only the chain's absorption
    may create one, so no invoice reaches 90 DPD before its customer's default date."""
    invoices = synthetic.ledger.invoices
    default_on = invoices["customer_id"].map(default_dates)
    reaches_90 = invoices["due_date"] + pd.Timedelta(days=90)
    still_open = invoices["settled_date"].fillna(END_TS + pd.Timedelta(days=1)) > reaches_90
    ninety_dpd_on = reaches_90.where(still_open & (reaches_90 <= END_TS))
    living = default_on.isna()
    assert ninety_dpd_on[living].isna().all()
    defaulted = ~living & ninety_dpd_on.notna()
    assert (ninety_dpd_on[defaulted] > default_on[defaulted]).all()


def test_defaulted_customers_stop_trading_and_paying(
    synthetic: SyntheticLedger, default_dates: pd.Series
) -> None:
    ledger = synthetic.ledger
    issued = ledger.invoices["issue_date"]
    never = END_TS + HORIZON
    assert (issued < ledger.invoices["customer_id"].map(default_dates).fillna(never)).all()
    paid_on = ledger.payments["paid_on"]
    assert (paid_on < ledger.payments["customer_id"].map(default_dates).fillna(never)).all()
    # every open invoice of a defaulted customer is written off after its default
    events = ledger.credit_events
    write_offs = events[(events["event_type"] == "write_off") & events["invoice_id"].notna()]
    assert (write_offs["event_date"] >= write_offs["customer_id"].map(default_dates)).all()
    assert len(default_dates) > 0


def test_yearly_default_rate_is_a_few_percent(synthetic: SyntheticLedger) -> None:
    rate = summarize(synthetic).yearly_default_rate
    assert 0.01 <= rate <= 0.08, rate


def test_truth_marks_default_in_the_month_of_the_ledger_default(
    synthetic: SyntheticLedger, default_dates: pd.Series
) -> None:
    """``in_default`` switches on at the month-end of the month of the first default event."""
    truth = synthetic.customer_month_truth
    first_in_default = truth[truth["in_default"]].groupby("customer_id")["month_end"].min()
    expected = (default_dates + pd.offsets.MonthEnd(0)).loc[first_in_default.index]
    pd.testing.assert_series_equal(first_in_default, expected, check_names=False)
    assert (default_dates.dt.day <= 28).all()
    seen = default_dates[default_dates <= truth["month_end"].max()]
    assert set(first_in_default.index) == set(seen.index)
    assert (truth.loc[truth["in_default"], "pd_12m"] == 1.0).all()


def test_truth_covers_each_customer_month_end_since_onboarding(
    synthetic: SyntheticLedger,
) -> None:
    truth = synthetic.customer_month_truth
    customers = synthetic.ledger.customers.set_index("customer_id")
    month_ends = pd.date_range(START, END, freq="ME")
    onboarded = customers["onboarded_on"]
    expected = sum(int((month_ends >= max(day, month_ends[0])).sum()) for day in onboarded)
    assert len(truth) == expected
    assert (truth["month_end"] >= truth["customer_id"].map(onboarded)).all()
    assert not truth.duplicated(["customer_id", "month_end"]).any()
    assert truth["pd_12m"].between(0.0, 1.0).all()
    new = onboarded >= pd.Timestamp(START)
    assert new.any()
    assert (~new).any()
    assert (onboarded[new] == onboarded[new] + pd.offsets.MonthEnd(0)).all()


@pytest.mark.parametrize("existing_share", [0.55, 0.2])
def test_existing_share_sets_how_many_customers_onboard_during_the_period(
    existing_share: float,
) -> None:
    """The growth-scenario option: a share ``1 - existing_share`` of the customers onboards
    on a month-end inside the period, spread evenly over its months (binomial, 4 SE), each
    with one onboarding row of the applicant yardstick."""
    n = 4_000
    world = WorldParameters(existing_share=existing_share)
    synthetic = generate_ledger(n_customers=n, start=START, end=END, seed=11, world=world)
    onboarded = synthetic.ledger.customers["onboarded_on"]
    new = onboarded >= pd.Timestamp(START)
    expected = 1.0 - existing_share
    assert abs(new.mean() - expected) < MAX_Z * np.sqrt(expected * (1 - expected) / n)
    yearly = onboarded[new].dt.year.value_counts().sort_index()
    months_in_year = pd.Series({2021: 12, 2022: 12, 2023: 11})  # the last month-end is `end`
    share = months_in_year / months_in_year.sum()
    se = np.sqrt(share * (1 - share) / new.sum())
    assert ((yearly / new.sum() - share).abs() < MAX_Z * se).all(), yearly
    assert synthetic.customer_month_truth["pd_12m_application"].notna().sum() == new.sum()


def _customers_with_first_pd(synthetic: SyntheticLedger) -> pd.DataFrame:
    """Customers with ``first_pd_12m``: the truth at their first observed month-end."""
    truth = synthetic.customer_month_truth.sort_values(["customer_id", "month_end"])
    first = truth.groupby("customer_id", sort=False)["pd_12m"].first().rename("first_pd_12m")
    customers = synthetic.ledger.customers.sort_values("customer_id", ignore_index=True)
    return customers.join(first, on="customer_id")


def test_bureau_score_falls_with_the_distress_state_it_is_read_in() -> None:
    """The bureau score reflects the state at the reading (onboarding, or ``start`` for a
    customer already trading), as trade-payment data do: the same seed with a flat payment
    index gives the same customers and scores lowered by the index points of the state,
    never raised: about 17 on watch, 35 when distressed. Those read in trouble have a higher
    pd_12m at their first month-end."""
    flat = WorldParameters(bureau_payment_index=(80.0,) * 7)
    args = {"n_customers": 3_000, "start": START, "end": END, "seed": 3}
    shown = _customers_with_first_pd(generate_ledger(**args))
    blind = _customers_with_first_pd(generate_ledger(**args, world=flat))
    assert (shown["customer_id"] == blind["customer_id"]).all()
    drop = (shown["external_score"] - blind["external_score"]).round(1)
    inside = blind["external_score"].between(36.0, 98.0)  # neither reading clipped to 1-99
    points = np.array([0.0, -120 / 7, -35.0])  # PAYDEX at 0, 20 and 45 days beyond terms
    nearest = points[np.abs(drop[inside].to_numpy()[:, None] - points).argmin(axis=1)]
    np.testing.assert_allclose(drop[inside], nearest, atol=0.11)  # two roundings to 0.1
    assert set(nearest) == set(points)
    assert (drop <= 0).all()
    in_trouble = drop < 0
    assert 0.01 < in_trouble.mean() < 0.3
    assert shown.loc[in_trouble, "first_pd_12m"].median() > 3 * shown.loc[
        ~in_trouble, "first_pd_12m"].median()


def test_default_within_matches_a_simulated_chain() -> None:
    """``default_within`` (matrix powers) equals the frequency of absorption within 12
    simulated monthly steps, from every starting state (binomial errors, 4 SE)."""
    world = WorldParameters()
    z = np.array([-2.0, -0.5, 0.0, 1.0])
    P = transition_matrices(z, world)
    exact = default_within(P, 12)
    copies = 40_000
    rng = np.random.default_rng(5)
    P_rows = np.repeat(P, copies * N_STATES, axis=0)
    state = np.tile(np.repeat(np.arange(N_STATES), copies), len(z))
    rows = np.arange(len(state))
    for _ in range(12):
        cumulative = np.cumsum(P_rows[rows, state], axis=1)[:, : N_STATES - 1]
        state = (rng.random(len(state))[:, None] >= cumulative).sum(axis=1)
    simulated = (state == DEFAULTED).reshape(len(z), N_STATES, copies).mean(axis=2)
    se = np.sqrt(exact * (1 - exact) / copies) + 1e-9
    assert np.all(np.abs(simulated - exact) <= 4 * se + 1e-4)
    assert np.all(exact[:, DEFAULTED] == 1.0)
    assert np.all(np.diff(exact[:, :DEFAULTED], axis=1) > 0)  # watch, distressed: riskier
    assert np.all(np.diff(exact[:, HEALTHY]) < 0)  # better customers default less


def test_label_window_is_exactly_the_next_12_monthly_steps(
    synthetic: SyntheticLedger, default_dates: pd.Series
) -> None:
    """A default dated within (T, T + 365 days] is one absorbed 1..12 months after the
    month of T, and vice versa: the downstream label and pd_12m are the same event."""
    truth = synthetic.customer_month_truth
    rows = truth[~truth["in_default"] & truth["customer_id"].isin(default_dates.index)]
    default_on = rows["customer_id"].map(default_dates)
    in_window = (default_on > rows["month_end"]) & (default_on <= rows["month_end"] + HORIZON)
    months_ahead = (default_on.dt.year - rows["month_end"].dt.year) * 12 + (
        default_on.dt.month - rows["month_end"].dt.month
    )
    assert in_window.any()
    pd.testing.assert_series_equal(in_window, months_ahead.between(1, 12), check_names=False)


def test_pd_12m_matches_observed_12_month_default_frequency(
    synthetic: SyntheticLedger, default_dates: pd.Series
) -> None:
    """The label downstream: a default event within (T, T + 365 days], customers already
    in default excluded. Observed frequency and mean pd_12m agree within MAX_Z errors."""
    truth = synthetic.customer_month_truth
    rows = truth[~truth["in_default"] & (truth["month_end"] + HORIZON <= END_TS)]
    default_on = rows["customer_id"].map(default_dates)
    label = (default_on > rows["month_end"]) & (default_on <= rows["month_end"] + HORIZON)
    residual = label.to_numpy(dtype=float) - rows["pd_12m"].to_numpy()
    assert label.sum() > 30
    assert abs(cluster_z(residual, rows["customer_id"])) < MAX_Z
    # and the truth ranks: the riskiest fifth defaults far more often than the safest fifth
    fifth = pd.qcut(rows["pd_12m"], 5, labels=False)
    assert label[fifth == 4].mean() > 5 * label[fifth == 0].mean()


def test_applicant_yardstick_is_the_pd_given_the_application(synthetic: SyntheticLedger) -> None:
    """``pd_12m_application`` exists exactly at new customers' onboarding month-ends and is
    E[pd_12m | application]: the residual pd_12m - yardstick averages zero overall and
    within every fifth of the bureau score and every industry (a yardstick that ignored the
    score, or the state it was read in, would be off in the extreme fifths). It ranks
    between the score alone and the oracle (expected AUC, no outcome noise)."""
    truth = synthetic.customer_month_truth
    customers = synthetic.ledger.customers.set_index("customer_id")
    onboarded = truth["customer_id"].map(customers["onboarded_on"])
    at_onboarding = (truth["month_end"] == onboarded) & (onboarded >= pd.Timestamp(START))
    assert truth["pd_12m_application"].notna().to_numpy().tolist() == at_onboarding.tolist()
    rows = truth[at_onboarding]
    assert len(rows) > 1_500
    attributes = customers.loc[rows["customer_id"]]
    residual = rows["pd_12m"].to_numpy() - rows["pd_12m_application"].to_numpy()
    se_each = residual.std() / np.sqrt(len(rows))
    assert abs(residual.mean()) < MAX_Z * se_each
    for groups in (pd.qcut(attributes["external_score"].to_numpy(), 5, labels=False),
                   attributes["industry"].astype(str).to_numpy()):
        by_group = pd.Series(residual).groupby(groups)
        z = by_group.mean() / (by_group.std() / np.sqrt(by_group.size()))
        assert (z.abs() < MAX_Z).all(), z
    pd_true = rows["pd_12m"].to_numpy()
    oracle = expected_auc(pd_true, pd_true)
    yardstick = expected_auc(pd_true, rows["pd_12m_application"].to_numpy())
    score_alone = expected_auc(pd_true, -attributes["external_score"].to_numpy())
    assert score_alone < yardstick < oracle


def expected_auc(pd_true: np.ndarray, score: np.ndarray) -> float:
    """AUC expected when outcomes are drawn from ``pd_true`` (training's one definition)."""
    return expected_roc_auc(score, pd_true)


def test_p_late_matches_observed_late_share(synthetic: SyntheticLedger) -> None:
    """Late = not settled by the due date (grace 0). Invoices due before ``end`` have a known
    outcome whatever it is, so selecting them does not bias the check."""
    invoices = synthetic.ledger.invoices.merge(synthetic.invoice_truth, on="invoice_id")
    known = invoices[invoices["due_date"] < END_TS]
    late = known["settled_date"].isna() | (known["settled_date"] > known["due_date"])
    residual = late.to_numpy(dtype=float) - known["p_late"].to_numpy()
    assert abs(cluster_z(residual, known["customer_id"])) < MAX_Z
    for low, high in [(0.0, 0.2), (0.2, 0.5), (0.5, 0.8), (0.8, 1.0)]:
        band = known["p_late"].between(low, high, inclusive="left")
        assert abs(late[band].mean() - known.loc[band, "p_late"].mean()) < 0.03, (low, high)


def test_payments_get_later_in_the_months_before_a_default(
    synthetic: SyntheticLedger, default_dates: pd.Series
) -> None:
    invoices = synthetic.ledger.invoices
    known = invoices[invoices["due_date"] < END_TS]
    late = known["settled_date"].isna() | (known["settled_date"] > known["due_date"])
    default_on = known["customer_id"].map(default_dates)
    before_default = (default_on - known["due_date"]).between(
        pd.Timedelta(days=0), pd.Timedelta(days=180)
    )
    never_default = default_on.isna()
    assert late[before_default].mean() > late[never_default].mean() + 0.25


def test_reminders_and_promises_follow_unpaid_invoices(synthetic: SyntheticLedger) -> None:
    events = synthetic.ledger.credit_events
    invoices = synthetic.ledger.invoices.set_index("invoice_id")
    for kind in ("reminder", "promise_to_pay", "dispute"):
        assert (events["event_type"] == kind).any(), kind
    reminders = events[events["event_type"] == "reminder"]
    due = reminders["invoice_id"].map(invoices["due_date"])
    days_after_due = (reminders["event_date"] - due).dt.days
    assert ((days_after_due - 7) % 30 == 0).all()
    assert (days_after_due >= 7).all()
    settled = reminders["invoice_id"].map(invoices["settled_date"])
    assert (settled.isna() | (settled > reminders["event_date"])).all()
    disputes = events[events["event_type"] == "dispute"]
    assert invoices.loc[disputes["invoice_id"], "disputed"].all()
    assert invoices["disputed"].sum() == len(disputes)


def test_write_synthetic_writes_contract_files(synthetic: SyntheticLedger, tmp_path: Path) -> None:
    small = generate_ledger(n_customers=200, start=START, end=END, seed=3, partition_size=90)
    write_synthetic(small, tmp_path)
    tables = {name: pd.read_parquet(tmp_path / file) for name, file in LEDGER_FILES.items()}
    for name, frame in tables.items():
        assert list(frame.columns) == list(TABLE_COLUMNS[name])
    reread = normalize_ledger(tables)
    for name, frame in small.ledger.tables().items():
        pd.testing.assert_frame_equal(reread.tables()[name], frame, check_dtype=False)
    truth = pd.read_parquet(tmp_path / TRUTH_FILES["customer_month_truth"])
    assert list(truth.columns) == ["customer_id", "month_end", "pd_12m", "in_default",
                                   "pd_12m_application"]
    p_late = pd.read_parquet(tmp_path / TRUTH_FILES["invoice_truth"])
    assert list(p_late.columns) == ["invoice_id", "p_late"]


def test_streamed_partitions_write_the_same_files_as_the_whole_ledger(tmp_path: Path) -> None:
    """The CLI streams partition by partition; the files equal those of the whole ledger."""
    arguments = {"n_customers": 250, "start": START, "end": END, "seed": 9, "partition_size": 100}
    write_synthetic(generate_ledger(**arguments), tmp_path / "whole")  # type: ignore[arg-type]
    with SyntheticWriter(tmp_path / "streamed") as writer:
        for part in iter_synthetic_partitions(**arguments):  # type: ignore[arg-type]
            writer.write(part)
    for file in [*LEDGER_FILES.values(), *TRUTH_FILES.values()]:
        pd.testing.assert_frame_equal(
            pd.read_parquet(tmp_path / "streamed" / file),
            pd.read_parquet(tmp_path / "whole" / file),
        )


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"n_customers": -1}, "n_customers"),
        ({"partition_size": 0}, "partition_size"),
        ({"seed": -3}, "seed must be >= 0, got -3"),
        ({"start": date(2024, 1, 1), "end": date(2023, 1, 1)}, "2023-01-01"),
    ],
)
def test_bad_arguments_are_refused_with_the_value_named(
    kwargs: dict[str, object], named: str
) -> None:
    arguments: dict[str, object] = {
        "n_customers": 10,
        "start": START,
        "end": END,
        "seed": 1,
        **kwargs,
    }
    with pytest.raises(SyntheticLedgerError, match=named):
        iter_synthetic_partitions(**arguments)  # type: ignore[arg-type]


def test_zero_customers_give_empty_frames_in_contract_dtypes() -> None:
    empty = generate_ledger(n_customers=0, start=START, end=END, seed=1)
    assert empty.ledger.n_invoices == 0
    normalize_ledger(empty.ledger.tables())
