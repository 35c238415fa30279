"""Fixtures of the ledger tests."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from creditrisk.ledger.database import make_engine


@pytest.fixture
def engine(sqlite_url: str) -> Engine:
    return make_engine(sqlite_url)
