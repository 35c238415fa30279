"""Fixtures of the ledger tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import Engine

from creditrisk.ledger.database import make_engine
from creditrisk.ledger.store import ensure_schema


@pytest.fixture
def engine(sqlite_url: str) -> Engine:
    return make_engine(sqlite_url)


@pytest.fixture(scope="session")
def migrated_sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite ledger database migrated once per session, to be copied by tests."""
    path = tmp_path_factory.mktemp("migrated") / "ledger.db"
    template = make_engine(f"sqlite:///{path}")
    ensure_schema(template)
    template.dispose()
    return path


@pytest.fixture
def migrated_engine(migrated_sqlite_file: Path, tmp_path: Path) -> Engine:
    """A fresh, already migrated SQLite ledger (a copy of the session's template): the
    import's own migration step then finds nothing to do."""
    path = tmp_path / "migrated.db"
    shutil.copyfile(migrated_sqlite_file, path)
    return make_engine(f"sqlite:///{path}")
