"""The CLI is the edge of ``training``: every deliberate training error (one base,
``TrainingError``) becomes a one-line message and an exit code, never a traceback."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from creditrisk.cli import train as train_cli
from creditrisk.training.comparison import ComparisonError
from creditrisk.training.datasets import DatasetError
from creditrisk.training.errors import TrainingError
from creditrisk.training.evaluation import EvaluationError
from creditrisk.training.fitting import TrainingDataError
from creditrisk.training.promotion import PromotionError
from creditrisk.training.split import SplitError
from creditrisk.training.tracking import TrackingError


@pytest.mark.parametrize(
    "error",
    [SplitError, DatasetError, TrainingDataError, EvaluationError, TrackingError,
     ComparisonError, PromotionError],
)
def test_every_training_error_derives_from_the_one_base(error: type[Exception]) -> None:
    assert issubclass(error, TrainingError)


def test_train_reports_a_training_error_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def failing_run(*_: Any, **__: Any) -> None:
        raise SplitError("no month-end leaves a 365-day label window before 2025-06-30")

    from creditrisk.ledger import database, span
    from creditrisk.training import capacity

    ledger_span = span.LedgerSpan(first_issue=date(2020, 1, 1), last_date=date(2025, 6, 30),
                                  invoices=1, credit_events=0)
    monkeypatch.setattr(database, "make_engine", lambda url: None)
    monkeypatch.setattr(span, "read_ledger_span", lambda engine: ledger_span)
    monkeypatch.setattr(database, "read_ledger", lambda engine: None)
    monkeypatch.setattr(capacity, "assess_ledger", failing_run)  # the first training step
    app = typer.Typer()
    app.command("train")(train_cli.train)
    app.command("unused")(lambda: None)  # two commands: keep `train` as a sub-command
    result = CliRunner().invoke(app, ["train", "--database-url", "sqlite://",
                                      "--tracking-uri", f"sqlite:///{tmp_path / 'm.db'}"])
    assert result.exit_code == 2, result.output
    assert "training failed: no month-end leaves a 365-day label window" in result.output
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, SplitError)
