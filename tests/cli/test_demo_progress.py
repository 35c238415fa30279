"""Progress of `creditrisk train` (what `make demo` shows while fitting): plain lines when the
output is not a terminal, one per step and for the boosting rounds with an estimate; several
boosters may share one report (each call is one round)."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from creditrisk.cli import training_progress
from creditrisk.cli.training_progress import TrainingProgress


def test_plain_lines_report_steps_and_rounds_with_an_estimate(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(training_progress, "PLAIN_EVERY_SECONDS", 0.0)  # every tenth
    console = Console(file=io.StringIO())  # not a terminal
    with TrainingProgress(console, steps=3) as progress:
        progress.step("late-payment model")
        report = progress.boosting("late-payment model", 50)
        for _ in range(50):
            report(object())
        progress.step("days-late quantiles")
        shared = progress.boosting("days-late quantiles (p10, p50, p90)", 30)
        for _ in range(3 * 10):  # three boosters of 10 rounds each
            shared(object())
        progress.done()
    lines = capsys.readouterr().out.splitlines()
    assert any("step 1/3: late-payment model" in line for line in lines)
    assert any("step 2/3: days-late quantiles" in line for line in lines)
    rounds = [line for line in lines if "late-payment model: round" in line]
    assert len(rounds) == 10  # one line per tenth of the rounds
    assert "round 50/50" in rounds[-1]
    assert "left at most" in rounds[0]
    assert any("days-late quantiles (p10, p50, p90): round 30/30" in line for line in lines)
    assert lines[-1].endswith("training done")


def test_without_a_terminal_rounds_are_throttled_but_the_last_one_is_printed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    console = Console(file=io.StringIO())
    with TrainingProgress(console, steps=1) as progress:
        report = progress.boosting("default model", 600)
        for _ in range(600):
            report(object())
    rounds = [line for line in capsys.readouterr().out.splitlines() if "round" in line]
    assert rounds[-1].endswith("round 600/600, about 0 s left at most")
    assert len(rounds) < 10  # a fast fit prints at most one line per PLAIN_EVERY_SECONDS
