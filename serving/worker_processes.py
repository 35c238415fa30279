"""Worker processes that never outlive the process that started them.

A ``spawn`` worker of a :class:`concurrent.futures.ProcessPoolExecutor` waits on its call
queue; when its parent is killed (``kill -9``, the OOM killer) nothing wakes it, and it stays
behind with the bundle and a database connection in memory (seen: 380 MB book workers of a
killed service, still alive an hour later). :func:`watch_parent`, called first thing in a
worker, exits the worker within ``check_seconds`` once its parent is gone. The service's book
workers and the rescoring workers both use it.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Final

PARENT_CHECK_SECONDS: Final = 1.0


def _exit_when_orphaned(parent_pid: int, check_seconds: float) -> None:
    while True:
        time.sleep(check_seconds)
        if os.getppid() != parent_pid:  # re-parented: the parent is gone
            os._exit(1)


def watch_parent(parent_pid: int | None = None, *,
                 check_seconds: float = PARENT_CHECK_SECONDS) -> None:
    """Exit this process (status 1, no cleanup: the parent is gone) once ``parent_pid`` (by
    default the current parent) is no longer its parent; checked by a daemon thread."""
    watched = os.getppid() if parent_pid is None else parent_pid
    threading.Thread(target=_exit_when_orphaned, args=(watched, check_seconds), daemon=True,
                     name="watch-parent").start()
