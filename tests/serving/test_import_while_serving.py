"""Decisions keep being written while an import writes the ledger from another process.

SQLite has one writer at a time and an import writes in ONE transaction (a bad or killed
import writes nothing): decision-log inserts wait for the lock (WAL journal, busy timeout in
:func:`creditrisk.ledger.database.make_engine`) instead of failing with "database is locked".
PostgreSQL (production) writes both at once. Both: every decision posted during the import
is answered 200 and is on file, and the import completes.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from creditrisk.ledger.database import make_engine, upgrade_database
from creditrisk.serving.api.entrypoint import build_service, limit_lightgbm_threads
from creditrisk.serving.api_keys import generate_api_key
from creditrisk.serving.settings import SeededApiKey, Settings
from creditrisk.serving.tables import decision_log
from tests.serving.bundle_fixture import SERVICE_TODAY, TYPICAL_APPLICATION, ServingWorld
from tests.serving.own_postgres import own_postgres
from tests.serving.server import running_server

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(SERVICE_TODAY.year, SERVICE_TODAY.month, SERVICE_TODAY.day, 12, tzinfo=UTC)
IMPORT_CUSTOMERS = 150
IMPORT_SCRIPT = """
import sys
from datetime import date
from creditrisk.ledger.database import make_engine
from creditrisk.ledger.store import write_ledger
from creditrisk.synthetic.generator import generate_ledger
ledger = generate_ledger(n_customers=int(sys.argv[2]), start=date(2023, 1, 1),
                         end=date(2025, 12, 31), seed=5).ledger
print("writing", flush=True)
write_ledger(make_engine(sys.argv[1]), ledger)
print("written", flush=True)
"""
APPLICATION: dict[str, Any] = dict(TYPICAL_APPLICATION)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'live.db'}"
        return
    with own_postgres() as cluster:
        yield cluster.url


def test_decisions_posted_during_an_import_are_all_answered_and_logged(
    serving_world: ServingWorld, database_url: str
) -> None:
    upgrade_database(database_url)
    key = generate_api_key(label="erp", scopes=["score"], created_at=NOW)
    settings = Settings(
        database_url=database_url,
        model_uri=serving_world.model_uri,
        tracking_uri=serving_world.tracking_uri,
        api_keys=(SeededApiKey(key_id=key.record.key_id, key_hash=key.record.key_hash,
                               scopes=key.record.scopes),),
        reload_poll_seconds=0,
        access_log=False,
        run_migrations=False,
    )
    limit_lightgbm_threads()
    statuses: list[int] = []
    slowest_s = 0.0
    with running_server(build_service(settings, clock=lambda: NOW)) as url, \
            httpx.Client(base_url=url, timeout=120,
                         headers={"Authorization": f"Bearer {key.token}"}) as http:
        importer = subprocess.Popen(
            [sys.executable, "-c", IMPORT_SCRIPT, database_url, str(IMPORT_CUSTOMERS)],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        assert importer.stdout is not None
        assert importer.stdout.readline().strip() == "writing"  # the write begins now
        while importer.poll() is None:
            started = time.perf_counter()
            response = http.post("/v1/applications", json=APPLICATION)
            slowest_s = max(slowest_s, time.perf_counter() - started)
            statuses.append(response.status_code)
            assert "locked" not in response.text
        out, err = importer.communicate()
    assert importer.returncode == 0, err[-2000:]
    assert "written" in out
    assert statuses
    assert set(statuses) == {200}, statuses
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            logged = conn.execute(select(func.count()).select_from(decision_log)).scalar_one()
    finally:
        engine.dispose()
    assert logged == len(statuses)
    print(f"{len(statuses)} decisions during the import, slowest {slowest_s * 1000:.0f} ms")
