"""``creditrisk rescore report``: what changed between two complete runs, as rows and files,
with PSI and the outcomes backtest of a matured cohort."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from creditrisk.cli import app
from creditrisk.ledger.database import make_engine
from creditrisk.serving.registry import ServedBundle
from creditrisk.serving.rescoring import runner
from creditrisk.serving.rescoring.changes import EVENT_COLUMNS
from tests.serving.bundle_fixture import ServingWorld
from tests.serving.rescoring.conftest import AS_OF

EARLIER = date(2024, 12, 31)
"""Matured by the ledger's end (2025-12-31): its 12-month outcomes are known."""


def test_report_lists_changes_events_psi_and_the_backtest(
    serving_world: ServingWorld, champion: ServedBundle, ledger_copy: str, tmp_path: Path
) -> None:
    engine = make_engine(ledger_copy)
    for day in (EARLIER, AS_OF):
        runner.rescore(engine, champion, as_of=day, model_uri=serving_world.model_uri,
                       buckets=2)
    engine.dispose()
    out = tmp_path / "report"
    result = CliRunner().invoke(app, [
        "rescore", "report", f"--database-url={ledger_copy}",
        f"--tracking-uri={serving_world.tracking_uri}", f"--out={out}"])
    assert result.exit_code == 0, result.output
    assert f"against {EARLIER}" in result.output
    stem = f"rescoring_{AS_OF}"
    events = pd.read_parquet(out / f"{stem}_events.parquet")
    assert list(events.columns) == list(EVENT_COLUMNS)
    kinds = set(events["event_type"])
    assert {"grade_downgrade", "grade_upgrade", "limit_breach", "new_default"} <= kinds
    assert (events["as_of"] == pd.Timestamp(AS_OF)).all()
    currency = champion.bundle.policy.currency  # the reporting currency, as the service says
    assert (events["currency"] == currency).all()
    events_csv = pd.read_csv(out / f"{stem}_events.csv")
    assert (events_csv["currency"] == currency).all()
    migration = pd.read_csv(out / f"{stem}_migration.csv", index_col=0)
    moves = pd.read_csv(out / f"{stem}_moves.csv")
    off_diagonal = sum(migration.loc[g, c] for g in migration.index for c in migration.columns
                       if str(g) != str(c))
    assert off_diagonal == len(moves)
    assert (moves["main_reason"].fillna("") != "").all()
    assert (moves["currency"] == currency).all()
    stability = pd.read_csv(out / f"{stem}_stability.csv")
    assert stability["psi_previous"].notna().all()
    backtest = pd.read_csv(out / f"{stem}_backtest.csv")
    assert set(pd.to_datetime(backtest["as_of"]).dt.date) == {EARLIER}
    assert set(backtest["light"]) <= {"green", "amber", "red", "n/a"}
    assert backtest["customers"].sum() > 0
    page = (out / f"{stem}.html").read_text()
    assert page.count("data:image/png;base64,") == 2
    assert "http://" not in page
    assert "https://" not in page
    assert "<script" not in page


def test_report_without_a_run_says_so(ledger_copy: str, serving_world: ServingWorld) -> None:
    result = CliRunner().invoke(app, [
        "rescore", "report", f"--database-url={ledger_copy}",
        f"--tracking-uri={serving_world.tracking_uri}"])
    assert result.exit_code == 1
    assert "no complete rescoring run" in result.output
    assert "Traceback" not in result.output
