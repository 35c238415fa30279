"""Whole-book work stays bounded: the pool answers "busy" instead of queueing without end,
the cache forgets expired books on its own and keeps within its memory bound, one key's rate
limit does not touch another's; through the API: 429 and 503 with ``Retry-After``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

import httpx
import pytest

from creditrisk.serving.api.entrypoint import build_service, limit_lightgbm_threads
from creditrisk.serving.api_keys import IssuedApiKey, generate_api_key
from creditrisk.serving.book_jobs import (
    BOOK_WORKER_NICENESS,
    BookBusy,
    BookJobs,
    BookRateLimit,
    RateLimited,
)
from creditrisk.serving.portfolio import PortfolioCache
from creditrisk.serving.settings import SeededApiKey, Settings
from tests.serving.bundle_fixture import SERVICE_TODAY, ServingWorld
from tests.serving.server import running_server

NOW = datetime(SERVICE_TODAY.year, SERVICE_TODAY.month, SERVICE_TODAY.day, 12, tzinfo=UTC)


def test_a_full_pool_refuses_at_once_and_takes_work_again_when_free() -> None:
    jobs = BookJobs(workers=1, queue_limit=1, retry_after_s=7)
    release = threading.Event()
    try:
        running = jobs.submit(release.wait)
        queued = jobs.submit(lambda: 2)
        with pytest.raises(BookBusy) as busy:
            jobs.submit(lambda: 3)
        assert busy.value.retry_after_s == 7
        release.set()
        assert running.result(timeout=10) is True
        assert queued.result(timeout=10) == 2
        assert jobs.run(lambda: 4) == 4
    finally:
        release.set()
        jobs.shutdown()


def test_process_jobs_run_elsewhere_niced_recycled_and_survive_a_killed_worker() -> None:
    jobs = BookJobs(workers=1, queue_limit=0, processes=True, max_jobs_per_process=2)
    try:
        first, second = jobs.run(os.getpid), jobs.run(os.getpid)
        assert first == second != os.getpid()  # one worker process, not this one
        assert jobs.run(os.nice, 0) == min(os.nice(0) + BOOK_WORKER_NICENESS, 19)
        third = jobs.run(os.getpid)  # the second job of the worker that replaced the first
        assert third not in (first, os.getpid())
        fourth = jobs.run(os.getpid)  # a fresh worker: kill it while it is alive
        os.kill(fourth, signal.SIGKILL)
        outcomes: list[object] = []
        for _ in range(2):  # the dead worker fails a job (BookBusy) or was noticed first
            try:
                outcomes.append(jobs.run(os.getpid))
            except BookBusy:
                outcomes.append("busy")
        assert outcomes[-1] not in ("busy", first, third, fourth), outcomes
    finally:
        jobs.shutdown()


KILLED_SERVICE = """
import os, signal, sys
from creditrisk.serving.book_jobs import BookJobs
jobs = BookJobs(workers=1, queue_limit=0, processes=True)
print(jobs.run(os.getpid), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_killed_service_leaves_no_book_worker_behind() -> None:
    """kill -9 of the service: its book worker process exits on its own within seconds
    (before, it stayed idle in memory with the bundle and a database connection)."""
    done = subprocess.run([sys.executable, "-c", KILLED_SERVICE], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    worker = int(done.stdout.split()[0])
    deadline = time.monotonic() + 15
    while pid_alive(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = pid_alive(worker)
    if alive:
        os.kill(worker, signal.SIGKILL)
    assert not alive, f"book worker {worker} outlived its killed service"


def test_the_cache_expires_on_its_own_and_keeps_within_its_byte_bound() -> None:
    now = [0.0]
    cache = PortfolioCache[bytes](
        ttl_seconds=10, max_entries=100, sizeof=len, monotonic=lambda: now[0]
    )
    assert cache.get("a", lambda: b"x" * 60) == b"x" * 60
    assert cache.size == 60
    cache.get("b", lambda: b"y" * 60)  # 120 > 100: the least recently used goes
    assert len(cache) == 1
    assert cache.size == 60
    assert cache.get("huge", lambda: b"z" * 500) == b"z" * 500  # answered, not kept
    assert cache.size == 60
    now[0] = 11.0
    assert len(cache) == 0  # expired without being asked for again
    assert cache.size == 0
    calls: list[int] = []
    cache.get("b", lambda: calls.append(1) or b"y")
    cache.get("b", lambda: calls.append(1) or b"y")
    assert calls == [1]


def test_the_cache_computes_on_the_bounded_pool() -> None:
    jobs = BookJobs(workers=1, queue_limit=0)
    cache = PortfolioCache[str](jobs=jobs)
    try:
        assert cache.get("k", lambda: threading.current_thread().name).startswith("book")
    finally:
        jobs.shutdown()


def test_the_rate_limit_counts_per_key() -> None:
    limit = BookRateLimit("2/minute")
    limit.hit("a")
    limit.hit("a")
    with pytest.raises(RateLimited) as limited:
        limit.hit("a")
    assert 1 <= limited.value.retry_after_s <= 60
    limit.hit("b")


@pytest.fixture(scope="module")
def key() -> IssuedApiKey:
    return generate_api_key(label="bi", scopes=["read"], created_at=NOW)


@pytest.fixture(scope="module")
def base_url(
    serving_world: ServingWorld, serving_ledger_url: str, key: IssuedApiKey
) -> Iterator[str]:
    settings = Settings(
        database_url=serving_ledger_url,
        model_uri=serving_world.model_uri,
        tracking_uri=serving_world.tracking_uri,
        api_keys=(SeededApiKey(key_id=key.record.key_id, key_hash=key.record.key_hash,
                               scopes=key.record.scopes),),
        reload_poll_seconds=0,
        access_log=False,
        book_workers=1,
        book_queue_limit=0,
        book_rate_limit="4/minute",
    )
    limit_lightgbm_threads()
    with running_server(build_service(settings, clock=lambda: NOW)) as url:
        yield url


@pytest.mark.slow
def test_busy_book_is_503_and_too_many_requests_429_with_retry_after(
    base_url: str, key: IssuedApiKey
) -> None:
    auth = {"Authorization": f"Bearer {key.token}"}
    days = [date(2025, 6, 30), date(2025, 9, 30), date(2025, 3, 31)]

    def portfolio(day: date) -> httpx.Response:
        return httpx.get(f"{base_url}/v1/portfolio", params={"as_of": day.isoformat()},
                         headers=auth, timeout=120)

    with ThreadPoolExecutor(len(days)) as pool:
        answers = list(pool.map(portfolio, days))
    statuses = sorted(a.status_code for a in answers)
    assert statuses[0] == 200
    busy = [a for a in answers if a.status_code == 503]
    assert busy, statuses  # one worker, no queue: three books at once cannot all be computed
    assert busy[0].json()["error"] == "book_busy"
    assert int(busy[0].headers["retry-after"]) > 0
    assert portfolio(days[0]).status_code == 200  # 4th request: cached
    limited = portfolio(days[0])  # 5th in a minute
    assert limited.status_code == 429
    assert limited.json()["error"] == "rate_limited"
    assert int(limited.headers["retry-after"]) > 0
