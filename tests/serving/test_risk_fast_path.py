"""The customer read online (``rating.load_customer``: its own rows, one indexed SELECT per
table, the one-customer feature path and one-row model calls) answers exactly what the
frame path answers (``read_ledger`` -> ``rate_customer`` -> ``serving.open_invoices``): the
same features, default status, PD, grade, reasons, limit and late-payment outlook, and the
same normalised ledger frames, on SQLite and on PostgreSQL."""

from __future__ import annotations

import random
from datetime import date

import pandas as pd
import pytest

from creditrisk.ledger.customer_rows import read_customer_rows
from creditrisk.ledger.database import make_engine, read_ledger, upgrade_database
from creditrisk.ledger.store import write_ledger
from creditrisk.serving import open_invoices, rating
from creditrisk.serving.errors import CustomerNotFound, CustomerNotOnboarded
from creditrisk.serving.registry import ModelRegistry, ServedBundle
from tests.serving.bundle_fixture import ServingWorld

DATES = (date(2025, 6, 30), date(2024, 12, 31), date(2025, 1, 15))


@pytest.fixture(scope="module")
def served(serving_world: ServingWorld) -> ServedBundle:
    return ModelRegistry(serving_world.tracking_uri).load(serving_world.model_uri)


def _sample(serving_world: ServingWorld, n: int) -> list[str]:
    ids = [str(i) for i in serving_world.ledger.customers["customer_id"]]
    return random.Random(7).sample(ids, n)


def check_same_answer(served: ServedBundle, engine: object, customer_id: str, day: date) -> None:
    ledger = read_ledger(engine, customer_ids=[customer_id])  # type: ignore[arg-type]
    try:
        frame_state = rating.rate_customer(served, ledger, customer_id, as_of=day)
    except (CustomerNotFound, CustomerNotOnboarded) as error:
        with pytest.raises(type(error)):
            rating.load_customer(served, engine, customer_id, as_of=day)  # type: ignore[arg-type]
        return
    state = rating.load_customer(served, engine, customer_id, as_of=day)  # type: ignore[arg-type]
    assert state.feature_record() == frame_state.feature_record()
    assert (state.pd_12m, state.model_pd_12m, state.grade, state.grade_name, state.in_default) == (
        frame_state.pd_12m, frame_state.model_pd_12m, frame_state.grade,
        frame_state.grade_name, frame_state.in_default)
    assert [f.to_dict() for f in rating.explain_customer(served, state)] == [
        f.to_dict() for f in rating.explain_customer(served, frame_state)]
    assert rating.recommend_customer_limit(served, state) == rating.recommend_customer_limit(
        served, frame_state)
    assert rating.expected_loss(served, state) == rating.expected_loss(served, frame_state)
    expected_late = open_invoices.summarize_late_payment(
        open_invoices.predict_open_invoices(served, ledger, as_of=day))
    assert rating.late_payment_outlook(served, state) == expected_late
    pd.testing.assert_frame_equal(state.features, frame_state.features)


def test_the_online_read_answers_as_the_frame_path_on_sqlite(
    served: ServedBundle, serving_world: ServingWorld, serving_ledger_url: str
) -> None:
    """Rule: batch == service; the one-customer path changes no answer (80 customers x 3
    dates, in and out of default, with and without open invoices)."""
    engine = make_engine(serving_ledger_url)
    try:
        for i, customer_id in enumerate(_sample(serving_world, 80)):
            check_same_answer(served, engine, customer_id, DATES[i % len(DATES)])
    finally:
        engine.dispose()


def test_the_rows_normalise_to_the_frames_read_ledger_gives(
    served: ServedBundle, serving_world: ServingWorld, database_url: str
) -> None:
    """Rule: the rows read online, normalised by ``normalize_ledger``, are the frames of
    ``read_ledger`` for the customer (same rows, order and dtypes), on both databases; and
    the answers agree there too."""
    upgrade_database(database_url)
    engine = make_engine(database_url)
    try:
        ids = _sample(serving_world, 12)
        ledger = serving_world.ledger
        write_ledger(engine, ledger)
        for customer_id in ids:
            expected = read_ledger(engine, customer_ids=[customer_id])
            got = read_customer_rows(engine, customer_id).ledger()
            for table, frame in expected.tables().items():
                pd.testing.assert_frame_equal(got.tables()[table], frame, check_exact=True)
        for customer_id in ids[:6]:
            check_same_answer(served, engine, customer_id, DATES[0])
    finally:
        engine.dispose()


def test_an_unknown_customer_is_not_found_online(served: ServedBundle,
                                                 serving_ledger_url: str) -> None:
    engine = make_engine(serving_ledger_url)
    try:
        with pytest.raises(CustomerNotFound):
            rating.load_customer(served, engine, "NO-SUCH-CUSTOMER", as_of=DATES[0])
    finally:
        engine.dispose()
