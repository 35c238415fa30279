"""Serving fixtures shared by the end-to-end and parity tests: one trained world per session.

``serving_world``: a synthetic ledger and two bundles registered in a temporary MLflow store
(version 1 = ``champion``, version 2 = ``challenger``), see ``bundle_fixture.py``.
``serving_ledger_url``: an SQLite database migrated and loaded with that ledger.
"""

from __future__ import annotations

import pytest

from creditrisk.ledger.database import make_engine, upgrade_database
from creditrisk.ledger.store import write_ledger
from tests.serving.bundle_fixture import ServingWorld, build_serving_world


@pytest.fixture(scope="session")
def serving_world(tmp_path_factory: pytest.TempPathFactory) -> ServingWorld:
    return build_serving_world(tmp_path_factory.mktemp("serving-world"))


@pytest.fixture(scope="session")
def serving_ledger_url(
    serving_world: ServingWorld, tmp_path_factory: pytest.TempPathFactory
) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('serving-ledger') / 'ledger.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    try:
        write_ledger(engine, serving_world.ledger)
    finally:
        engine.dispose()
    return url
