"""Whole-book computations off the request path, bounded: a small worker pool with a queue
limit, and per-key rate limits on the endpoints that start them.

Scoring the whole book (portfolio summary, the worklist when no batch run exists) reads the
full ledger and takes seconds and hundreds of MB. Run unbounded inside the scoring process,
four such requests for different dates starved application scoring for 35 s and grew RSS by
1 GB (issue 11). Here:

* :class:`BookJobs` runs them on ``workers`` threads (default 1) with at most
  ``queue_limit`` more waiting; beyond that :class:`BookBusy` (503 + ``Retry-After``) is
  answered at once instead of queueing work and memory without bound. Concurrent requests
  for the same book wait for one computation (:class:`creditrisk.serving.portfolio.PortfolioCache`)
  and take no slot of their own.
* :class:`BookRateLimit` (the ``limits`` library, moving window, in memory per process) caps
  how often one API key may ask for a book: :class:`RateLimited` (429 + ``Retry-After``).

Nothing here knows HTTP; :mod:`creditrisk.serving.api.errors` maps both errors.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Final, TypeVar

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from creditrisk.serving.errors import ServingError

DEFAULT_BOOK_WORKERS: Final = 1
DEFAULT_BOOK_QUEUE_LIMIT: Final = 2
DEFAULT_BOOK_RETRY_AFTER_SECONDS: Final = 10
DEFAULT_BOOK_RATE_LIMIT: Final = "12/minute"

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
    ) -> None:
        if workers < 1 or queue_limit < 0:
            raise ValueError(f"need workers >= 1 and queue_limit >= 0, got {workers}, "
                             f"{queue_limit}")
        self.workers = workers
        self.queue_limit = queue_limit
        self.retry_after_s = retry_after_s
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="book")
        self._slots = threading.BoundedSemaphore(workers + queue_limit)

    def submit(self, compute: Callable[[], T]) -> Future[T]:
        """Queue ``compute``; :class:`BookBusy` at once when workers and queue are full."""
        if not self._slots.acquire(blocking=False):
            raise BookBusy(self.retry_after_s)
        try:
            future = self._executor.submit(compute)
        except BaseException:
            self._slots.release()
            raise
        future.add_done_callback(lambda _done: self._slots.release())
        return future

    def run(self, compute: Callable[[], T]) -> T:
        """``compute()`` on a book worker; blocks the calling (threadpool) thread until done."""
        return self.submit(compute).result()

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


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
