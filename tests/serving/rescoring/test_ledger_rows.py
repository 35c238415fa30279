"""The rescoring's bulk ledger reader (PostgreSQL ``COPY`` parsed by Arrow, SQLite cursor rows)
gives exactly the ledger the generic reader (``read_ledger``) gives for the same customers:
same rows, values and dtypes, with ids holding quotes, commas, braces, backslashes and
spaces, NULL and empty texts, NULL dates, both booleans and full-precision amounts."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine

from creditrisk.ledger.database import make_engine, read_ledger, upgrade_database
from creditrisk.ledger.frame import Ledger
from creditrisk.ledger.store import write_ledger
from creditrisk.serving.rescoring.ledger_rows import read_customers_ledger, text_array_literal
from creditrisk.synthetic.generator import generate_ledger

ODD_IDS = ('C"1,{x}', "C\\2 y", "C'3", "C,4}", "C 5\"\\")


def odd_ledger() -> Ledger:
    """A small synthetic ledger whose first customers have awkward ids and whose texts are
    NULL, empty or plain, with amounts that need all 17 digits."""
    ledger = generate_ledger(n_customers=40, start=date(2024, 1, 1), end=date(2024, 12, 31),
                             seed=5).ledger
    original = ledger.customers["customer_id"].astype(str).tolist()
    renames = dict(zip(original[:len(ODD_IDS)], ODD_IDS, strict=True))
    tables = {}
    for name, frame in ledger.tables().items():
        frame = frame.copy()
        if "customer_id" in frame:
            frame["customer_id"] = frame["customer_id"].astype(str).replace(renames).astype(
                "string")
        tables[name] = frame
    invoices = tables["invoices"]
    rows = np.arange(len(invoices))
    segments: list[str | None] = [[None, "", 'a "b", c'][r % 3] for r in rows.tolist()]
    invoices["segment"] = pd.array(segments, dtype="string")
    invoices["amount"] = invoices["amount"].to_numpy(np.float64) + 1 / 3
    invoices["disputed"] = rows % 5 == 0
    return Ledger(**tables)


def stored(url: str) -> Engine:
    upgrade_database(url)
    engine = make_engine(url)
    write_ledger(engine, odd_ledger())
    return engine


def test_the_bulk_reader_reads_what_the_generic_reader_reads(database_url: str) -> None:
    engine = stored(database_url)
    wanted = [*ODD_IDS, *read_ledger(engine).customers["customer_id"].astype(str)[10:20]]
    ours = read_customers_ledger(engine, wanted)
    reference = read_ledger(engine, customer_ids=wanted)
    engine.dispose()
    assert set(ours.customers["customer_id"]) >= set(ODD_IDS)
    assert (ours.invoices["segment"] == "").any()
    assert ours.invoices["segment"].isna().any()
    for table, frame in reference.tables().items():
        key = frame.columns[0]
        expected = frame.sort_values(key, kind="stable").reset_index(drop=True)
        got = ours.tables()[table].sort_values(key, kind="stable").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_the_bulk_reader_of_no_customer_is_an_empty_typed_ledger(database_url: str) -> None:
    engine = stored(database_url)
    ours = read_customers_ledger(engine, ["nobody"])
    engine.dispose()
    assert all(len(frame) == 0 for frame in ours.tables().values())
    assert str(ours.invoices["issue_date"].dtype) == "datetime64[ns]"


@pytest.mark.parametrize("values", [[], ["a"], list(ODD_IDS)])
def test_the_array_literal_round_trips_through_postgresql(postgres_url: str,
                                                          values: list[str]) -> None:
    engine = make_engine(postgres_url)
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor:
            cursor.execute("SELECT %s::text[]", (text_array_literal(values),))
            row = cursor.fetchone()
    engine.dispose()
    assert row is not None
    assert row[0] == values
