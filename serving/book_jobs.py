"""Whole-book computations off the request path, bounded: a small worker pool with a queue
limit, and per-key rate limits on the endpoints that start them.

Scoring the whole book (portfolio summary, the worklist when no batch run exists) reads the
full ledger and takes seconds and hundreds of MB. Run unbounded inside the scoring process,
four such requests for different dates starved application scoring for 35 s and grew RSS by
1 GB (issue 11). Here:

* :class:`BookJobs` runs them on ``workers`` workers (default 1) with at most
  ``queue_limit`` more waiting; beyond that :class:`BookBusy` (503 + ``Retry-After``) is
  answered at once instead of queueing work and memory without bound. Concurrent requests
  for the same book wait for one computation (:class:`creditrisk.serving.portfolio.PortfolioCache`)
  and take no slot of their own.
* The service's workers are PROCESSES (``processes=True``, the ``spawn`` context): a book
  computed on a thread of the scoring process held the GIL for seconds at a time, and
  application p99 went from 0.6 s to 20 s during a portfolio storm (issue 11). A worker
  process loads the bundle itself (:mod:`creditrisk.serving.book_worker`), reads the ledger
  by URL and sends back a small answer, never frames; it is replaced after
  ``max_jobs_per_process`` jobs, so the memory a whole-book read leaves behind is given back
  to the system. A worker that dies (killed, out of memory) is replaced; the requests it
  had are answered :class:`BookBusy`. Workers run at a lower CPU priority
  (:data:`BOOK_WORKER_NICENESS`): a book may take longer, scoring does not wait for it.
* :class:`BookRateLimit` (the ``limits`` library, moving window, in memory per process) caps
  how often one API key may ask for a book: :class:`RateLimited` (429 + ``Retry-After``).

Nothing here knows HTTP; :mod:`creditrisk.serving.api.errors` maps both errors.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Final, TypeVar

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from creditrisk.serving.errors import ServingError
from creditrisk.serving.worker_processes import watch_parent

DEFAULT_BOOK_WORKERS: Final = 1
DEFAULT_BOOK_QUEUE_LIMIT: Final = 2
DEFAULT_BOOK_RETRY_AFTER_SECONDS: Final = 10
DEFAULT_BOOK_RATE_LIMIT: Final = "12/minute"
DEFAULT_BOOK_JOBS_PER_PROCESS: Final = 4
BOOK_WORKER_NICENESS: Final = 10
"""How much lower a book worker process's CPU priority is than the service's: when both want
the CPU (a small or busy machine) the scheduler serves the scoring process first."""

T = TypeVar("T")


class BookBusy(ServingError):  # noqa: N818 - named like the other serving errors
    """Every book worker is busy and the queue is full: retry after ``retry_after_s``."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            "the book is being computed for other requests; retry in "
            f"{retry_after_s} s (or read the latest batch run)"
        )
        self.retry_after_s = retry_after_s


class RateLimited(ServingError):  # noqa: N818 - named like the other serving errors
    """This API key asked for an expensive answer more often than ``limit`` allows."""

    def __init__(self, limit: str, retry_after_s: int) -> None:
        super().__init__(f"rate limit of {limit} per API key reached; retry in {retry_after_s} s")
        self.limit = limit
        self.retry_after_s = retry_after_s


class BookJobs:
    """A bounded pool for whole-book computations (see the module docstring)."""

    def __init__(
        self,
        *,
        workers: int = DEFAULT_BOOK_WORKERS,
        queue_limit: int = DEFAULT_BOOK_QUEUE_LIMIT,
        retry_after_s: int = DEFAULT_BOOK_RETRY_AFTER_SECONDS,
        processes: bool = False,
        max_jobs_per_process: int = DEFAULT_BOOK_JOBS_PER_PROCESS,
        initializer: Callable[[], None] | None = None,
        niceness: int = BOOK_WORKER_NICENESS,
    ) -> None:
        """``processes``: run jobs in ``spawn`` worker processes (functions and arguments
        must then pickle: a module-level function, plain data), each replaced after
        ``max_jobs_per_process`` jobs, started ``niceness`` lower in CPU priority and with
        ``initializer()`` (module-level too); else threads."""
        if workers < 1 or queue_limit < 0 or max_jobs_per_process < 1:
            raise ValueError(f"need workers >= 1, queue_limit >= 0 and max_jobs_per_process "
                             f">= 1, got {workers}, {queue_limit}, {max_jobs_per_process}")
        self.workers = workers
        self.queue_limit = queue_limit
        self.retry_after_s = retry_after_s
        self.processes = processes
        self.max_jobs_per_process = max_jobs_per_process
        self._initializer = initializer
        self._niceness = niceness
        self._renew_lock = threading.Lock()
        self._executor = self._new_executor()
        self._slots = threading.BoundedSemaphore(workers + queue_limit)

    def _new_executor(self) -> Executor:
        if self.processes:
            return ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(self._niceness, self._initializer),
                max_tasks_per_child=self.max_jobs_per_process,
            )
        return ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="book")

    def submit(self, compute: Callable[..., T], *args: Any) -> Future[T]:
        """Queue ``compute(*args)``; :class:`BookBusy` at once when workers and queue are
        full."""
        if not self._slots.acquire(blocking=False):
            raise BookBusy(self.retry_after_s)
        try:
            future = self._executor.submit(compute, *args)
        except BrokenProcessPool:
            self._slots.release()
            self._renew()
            raise BookBusy(self.retry_after_s) from None
        except BaseException:
            self._slots.release()
            raise
        future.add_done_callback(lambda _done: self._slots.release())
        return future

    def run(self, compute: Callable[..., T], *args: Any) -> T:
        """``compute(*args)`` on a book worker; blocks the calling (threadpool) thread until
        done. A worker process that died on the way is replaced (:class:`BookBusy`)."""
        try:
            return self.submit(compute, *args).result()
        except BrokenProcessPool:
            self._renew()
            raise BookBusy(self.retry_after_s) from None

    def _renew(self) -> None:
        """A fresh process pool in place of a broken one (a worker was killed)."""
        with self._renew_lock:
            broken = getattr(self._executor, "_broken", False)
            if broken:
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = self._new_executor()

    def worker_pids(self) -> list[int]:
        """The worker processes alive now (none in thread mode or before the first job)."""
        processes = getattr(self._executor, "_processes", None) or {}
        return sorted(int(pid) for pid in processes)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _start_worker(niceness: int, initializer: Callable[[], None] | None) -> None:
    """First thing in a book worker process: exit with the service (a killed service leaves
    no worker behind), lower its CPU priority, then ``initializer``."""
    watch_parent()
    os.nice(niceness)
    if initializer is not None:
        initializer()


class BookRateLimit:
    """At most ``limit`` (``"12/minute"``, limits' notation) book requests per key."""

    def __init__(self, limit: str = DEFAULT_BOOK_RATE_LIMIT) -> None:
        self.limit = limit
        self._item: RateLimitItem = parse(limit)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def hit(self, key: str) -> None:
        """Count one request of ``key``; :class:`RateLimited` when over the limit."""
        if self._limiter.hit(self._item, "book", key):
            return
        reset_at = self._limiter.get_window_stats(self._item, "book", key).reset_time
        raise RateLimited(self.limit, max(1, math.ceil(reset_at - time.time())))
