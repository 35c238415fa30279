"""Shared fixtures: an SQLite file database and a throw-away PostgreSQL database.

PostgreSQL is the real server on 127.0.0.1:5432 (``$CREDITRISK_TEST_POSTGRES_URL``). Each
test gets its own freshly created database, dropped afterwards. When the server cannot be
reached the test is skipped with the reason.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import create_engine, text

# Under CI the property tests draw the same examples every run (a landing never hangs on a
# lucky draw); locally they explore new examples each run and keep failures in .hypothesis/.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")



def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist (``make test`` runs two workers) a worker's ``__main__`` is execnet's
    bootstrap, with neither ``__spec__`` nor ``__file__``. pyspark's Spark Connect module,
    imported by MLflow's signature inference once pyspark is loaded, takes such a ``__main__``
    for a doctest run and calls ``sys.exit(0)``. Give the worker's ``__main__`` the file a
    serial run has: the ``pytest`` script (also what ``spawn`` children re-import)."""
    main = sys.modules["__main__"]
    if os.environ.get("PYTEST_XDIST_WORKER") and getattr(main, "__spec__", None) is None \
            and not hasattr(main, "__file__"):
        script = Path(sys.executable).with_name("pytest")
        if script.is_file():
            main.__file__ = str(script)


REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATASETS = REPO_ROOT.parent / "shared" / "datasets"
IBM_CSV = SHARED_DATASETS / "ibm_accounts_receivable" / "WA_Fn-UseC_-Accounts-Receivable.csv"
POSTGRES_URL = os.environ.get(
    "CREDITRISK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"creditrisk_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {type(exc).__name__}: {exc}")
    base = POSTGRES_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Runs the test once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def ibm_csv() -> Path:
    if not IBM_CSV.exists():
        pytest.skip(f"IBM accounts-receivable sample not found at {IBM_CSV}")
    return IBM_CSV
