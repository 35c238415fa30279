"""Progress of ``creditrisk train``: the step, and the boosting rounds with an estimate.

On a terminal a rich display shows the current step (spinner, elapsed time) and, while a
LightGBM model is fitted, a bar of its boosting rounds with the time remaining. When the
output is not a terminal (CI, ``make demo | tee``, a log file) the same events are plain
lines: one per step, and about every tenth of a fit's rounds (at most one line every
``PLAIN_EVERY_SECONDS``) with the rounds done and the estimate. A model that stops early (early
stopping) simply ends before its bar is full.

Light imports only (rule in :mod:`creditrisk.cli`): the LightGBM callback reads the
``iteration`` of the object it is given, nothing else.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Final

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

PLAIN_EVERY_SECONDS: Final = 5.0
PLAIN_LINES_PER_FIT: Final = 10


def _seconds(value: float) -> str:
    return f"{value:.0f} s" if value < 120 else f"{value / 60:.1f} min"


class TrainingProgress:
    """Steps (the pipeline's ``progress``) and rounds (its ``boosting``) for one command."""

    def __init__(self, console: Console, *, steps: int) -> None:
        self.console = console
        self.steps = steps
        self.step_number = 0
        self.started = time.monotonic()
        self.bar: Progress | None = None
        self.step_task: TaskID | None = None
        self.rounds_task: TaskID | None = None

    def __enter__(self) -> TrainingProgress:
        if self.console.is_terminal:
            self.bar = Progress(
                SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("eta"),
                TimeRemainingColumn(), console=self.console,
            )
            self.bar.start()
            self.step_task = self.bar.add_task("starting", total=self.steps)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None

    def _elapsed(self) -> str:
        return _seconds(time.monotonic() - self.started)

    def step(self, description: str) -> None:
        """A pipeline step begins (also the pipeline's plain messages, e.g. a skip)."""
        self._end_rounds()
        self.step_number = min(self.step_number + 1, self.steps)
        if self.bar is not None and self.step_task is not None:
            self.bar.update(self.step_task, completed=self.step_number - 1,
                            description=description)
        else:
            print(f"[{self._elapsed()}] step {self.step_number}/{self.steps}: {description}",
                  flush=True)

    def done(self) -> None:
        self._end_rounds()
        if self.bar is not None and self.step_task is not None:
            self.bar.update(self.step_task, completed=self.steps, description="done")
        else:
            print(f"[{self._elapsed()}] training done", flush=True)

    def _end_rounds(self) -> None:
        if self.bar is not None and self.rounds_task is not None:
            self.bar.remove_task(self.rounds_task)
        self.rounds_task = None

    def boosting(self, what: str, rounds: int) -> Callable[[Any], None]:
        """A LightGBM callback for a fit of at most ``rounds`` rounds (several boosters may
        share it: each call is one round)."""
        self._end_rounds()
        if self.bar is not None:
            self.rounds_task = self.bar.add_task(f"  {what}: rounds", total=rounds)
        started = time.monotonic()
        state = {"done": 0, "printed_at": started, "printed_done": 0}
        every = max(rounds // PLAIN_LINES_PER_FIT, 1)

        def on_round(_env: Any) -> None:
            state["done"] += 1
            done = int(state["done"])
            if self.bar is not None and self.rounds_task is not None:
                self.bar.update(self.rounds_task, completed=done)
                return
            now = time.monotonic()
            if done - state["printed_done"] < every and done != rounds:
                return
            if now - state["printed_at"] < PLAIN_EVERY_SECONDS and done != rounds:
                return
            state["printed_at"], state["printed_done"] = now, done
            spent = now - started
            left = spent / done * (rounds - done)
            print(f"[{self._elapsed()}]   {what}: round {done}/{rounds}, "
                  f"about {_seconds(left)} left at most", flush=True)

        return on_round
