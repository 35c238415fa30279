"""Rescoring fixtures: the serving world's ledger in a private SQLite copy per test (runs write
``scores``; the shared serving database must stay without runs), and the champion bundle."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from creditrisk.serving.registry import ModelRegistry, ServedBundle
from tests.serving.bundle_fixture import ServingWorld

AS_OF = date(2025, 6, 30)
"""The rescoring date of the tests (customers in and out of default, open invoices)."""


@pytest.fixture(scope="session")
def champion(serving_world: ServingWorld) -> ServedBundle:
    return ModelRegistry(serving_world.tracking_uri).load(serving_world.model_uri)


def sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


@pytest.fixture
def ledger_copy(serving_ledger_url: str, tmp_path: Path) -> str:
    """A private copy of the migrated serving ledger database; its URL."""
    target = tmp_path / "ledger.db"
    shutil.copyfile(sqlite_path(serving_ledger_url), target)
    return f"sqlite:///{target}"
