"""The service while its PostgreSQL goes away and comes back, and while it is read-only.

A cluster of the test's own (:mod:`tests.serving.own_postgres`, never the shared server) is
served by a real uvicorn. Stopped: every request that needs the database is 503
``database_unavailable`` with ``Retry-After`` on the same keep-alive connection, ``/readyz`` is
503, one log line per failure and no traceback. Started again: the first request after is
answered. Read-only (``default_transaction_read_only``, as after a failover to a replica):
decisions are 503 and ``/readyz`` says not ready although ``SELECT 1`` works. Throughout, a
canary planted in the request (body and path) is in no log line of any logger, and every
decision answered 200 is in the decision log.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from creditrisk.ledger.database import make_engine
from creditrisk.serving.api.entrypoint import build_service, limit_lightgbm_threads
from creditrisk.serving.api_keys import generate_api_key
from creditrisk.serving.settings import SeededApiKey, Settings
from creditrisk.serving.tables import decision_log
from tests.serving.bundle_fixture import SERVICE_TODAY, TYPICAL_APPLICATION, ServingWorld
from tests.serving.own_postgres import OwnPostgres, own_postgres
from tests.serving.server import running_server

pytestmark = pytest.mark.slow

NOW = datetime(SERVICE_TODAY.year, SERVICE_TODAY.month, SERVICE_TODAY.day, 12, tzinfo=UTC)
CANARY = "CANARY7q3xk"
APPLICATION: dict[str, Any] = {**TYPICAL_APPLICATION, "external_reference": f"REF-{CANARY}"}
LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "creditrisk", "sqlalchemy")


class Collected(logging.Handler):
    """Every record once (attached to several loggers), with its traceback if it has one."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self._seen: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if any(seen is record for seen in self._seen):
            return
        self._seen.append(record)
        self.lines.append(self.format(record))


@pytest.fixture
def collected() -> Iterator[Collected]:
    handler = Collected()
    for name in LOGGERS:
        logging.getLogger(name).addHandler(handler)
    try:
        yield handler
    finally:
        for name in LOGGERS:
            logging.getLogger(name).removeHandler(handler)


@pytest.fixture
def cluster() -> Iterator[OwnPostgres]:
    with own_postgres() as pg:
        yield pg


def decisions_on_file(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(decision_log)).scalar_one())
    finally:
        engine.dispose()


def test_outage_and_read_only_database_are_503_then_recover_without_leaking_the_canary(
    serving_world: ServingWorld, cluster: OwnPostgres, collected: Collected,
    capfd: pytest.CaptureFixture[str],
) -> None:
    key = generate_api_key(label="erp", scopes=["score", "read"], created_at=NOW)
    settings = Settings(
        database_url=cluster.url,
        model_uri=serving_world.model_uri,
        tracking_uri=serving_world.tracking_uri,
        api_keys=(SeededApiKey(key_id=key.record.key_id, key_hash=key.record.key_hash,
                               scopes=key.record.scopes),),
        reload_poll_seconds=0,
        access_log=True,
    )
    limit_lightgbm_threads()
    auth = {"Authorization": f"Bearer {key.token}"}
    answered = 0
    with running_server(build_service(settings, clock=lambda: NOW)) as url, \
            httpx.Client(base_url=url, timeout=30) as http:

        def post() -> httpx.Response:
            return http.post("/v1/applications", json=APPLICATION, headers=auth)

        def risk() -> httpx.Response:
            return http.get(f"/v1/customers/{CANARY}/risk", headers=auth)

        def assert_unavailable(response: httpx.Response) -> None:
            assert response.status_code == 503, response.text
            assert response.json()["error"] == "database_unavailable"
            assert response.headers["retry-after"].isdigit()
            assert CANARY not in response.text

        first = post()
        assert first.status_code == 200, first.text
        answered += 1
        assert http.get("/readyz").status_code == 200

        cluster.stop()
        failures = [post(), risk(), post()]
        for response in failures:
            assert_unavailable(response)
        assert "close" not in failures[-1].headers.get("connection", "")  # keep-alive kept
        ready = http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["database"] == "unavailable"

        cluster.start()
        back = post()  # the first request after the outage is answered
        assert back.status_code == 200, back.text
        answered += 1
        assert http.get("/readyz").status_code == 200

        cluster.set_read_only(True)
        read_only = post()
        assert_unavailable(read_only)
        ready = http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["database"] == "unavailable"
        cluster.set_read_only(False)
        again = post()
        assert again.status_code == 200, again.text
        answered += 1

    assert decisions_on_file(cluster.url) == answered  # no answered decision unlogged
    captured = capfd.readouterr()
    lines = collected.lines + (captured.out + captured.err).splitlines()
    assert not [line for line in lines if CANARY in line]
    assert not [line for line in lines if "Traceback" in line or "[parameters:" in line]
    outage_lines = [line for line in collected.lines if "database unavailable on" in line]
    assert len(outage_lines) == len(failures) + 1  # one per failed request, + read-only
