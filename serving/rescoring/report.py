"""The rescoring report: what changed (:mod:`.changes`) and whether the model still holds
(:mod:`.monitoring`), as a terminal summary, CSV + Parquet exports and one self-contained HTML
page (inline PNG images: the migration heat map and the score distribution shift; no CDN, no
script).
"""

from __future__ import annotations

import base64
import html
import io
import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from creditrisk.ledger.database import ledger_max_date
from creditrisk.ledger.frame import Ledger
from creditrisk.serving.registry import ServedBundle
from creditrisk.serving.rescoring import monitoring
from creditrisk.serving.rescoring.changes import RunChanges, compare_runs
from creditrisk.serving.rescoring.store import ScoreRun, complete_runs, read_run_scores


@dataclass(frozen=True)
class RescoringReport:
    current: ScoreRun
    previous: ScoreRun | None
    changes: RunChanges
    stability: pd.DataFrame
    backtest: pd.DataFrame
    cohort_auc: pd.DataFrame
    current_pd: np.ndarray
    previous_pd: np.ndarray | None


def build_report(engine: Engine, current: ScoreRun, previous: ScoreRun | None, *,
                 served: ServedBundle, ledger: Ledger) -> RescoringReport:
    """Compare ``current`` with ``previous`` and backtest every matured complete run of the
    same model name on ``ledger`` (outcomes by ``served``'s default definition)."""
    now = read_run_scores(engine, current)
    before = read_run_scores(engine, previous) if previous is not None else None
    changes = compare_runs(now, before)
    stability = monitoring.stability_frame(monitoring.stability(
        current.monitoring, previous.monitoring if previous is not None else None))
    end = ledger_max_date(ledger)
    tests: list[pd.DataFrame] = []
    aucs: list[dict[str, Any]] = []
    for run in complete_runs(engine):
        if end is None or run.model_name != current.model_name or not monitoring.matured(
                run.as_of, end):
            continue
        cohort = now if run.run_id == current.run_id else read_run_scores(engine, run)
        outcomes = monitoring.cohort_outcomes(served, ledger, cohort, run.as_of)
        per_grade, auc = monitoring.backtest(outcomes, as_of=run.as_of)
        per_grade.insert(1, "model_version", run.model_version)
        tests.append(per_grade)
        aucs.append({"as_of": run.as_of, "model_version": run.model_version,
                     "customers": len(outcomes), "defaults": int(outcomes["defaulted"].sum()),
                     "auc": auc})
    return RescoringReport(
        current=current, previous=previous, changes=changes, stability=stability,
        backtest=pd.concat(tests, ignore_index=True) if tests else pd.DataFrame(),
        cohort_auc=pd.DataFrame(aucs),
        current_pd=now["model_pd_12m"].to_numpy(np.float64),
        previous_pd=before["model_pd_12m"].to_numpy(np.float64) if before is not None else None,
    )


def _count(frame: pd.DataFrame, column: str | None = None, value: str | None = None) -> int:
    if column is None:
        return len(frame)
    return int((frame[column] == value).sum()) if len(frame) else 0


def print_summary(report: RescoringReport, console: Console) -> None:
    """Headline figures, the largest PSI values and the backtest lights."""
    c = report.changes
    lowers = c.limits.loc[c.limits["limit_action"] == "lower"] if len(c.limits) else c.limits
    raises = c.limits.loc[c.limits["limit_action"] == "raise"] if len(c.limits) else c.limits
    table = Table(title=f"Rescoring as of {c.as_of} against "
                        f"{c.previous_as_of or 'no previous run'}")
    table.add_column("what")
    table.add_column("customers", justify="right")
    table.add_column("amount", justify="right")
    table.add_row("rated", f"{report.current.customer_count:,}", "")
    table.add_row("downgrades", f"{_count(c.moves, 'direction', 'downgrade'):,}", "")
    table.add_row("upgrades", f"{_count(c.moves, 'direction', 'upgrade'):,}", "")
    table.add_row("limits to lower (exposure)", f"{len(lowers):,}",
                  f"{lowers['exposure'].sum():,.2f}" if len(lowers) else "0.00")
    table.add_row("limits to raise (by)", f"{len(raises):,}",
                  f"{raises['change'].sum():,.2f}" if len(raises) else "0.00")
    table.add_row("limit breaches (excess)", f"{len(c.breaches):,}",
                  f"{c.breaches['excess'].sum():,.2f}" if len(c.breaches) else "0.00")
    table.add_row("new defaults (exposure)", f"{len(c.new_defaults):,}",
                  f"{c.new_defaults['exposure'].sum():,.2f}" if len(c.new_defaults) else "0.00")
    table.add_row("credit events", f"{len(c.events):,}", "")
    console.print(table)
    if len(report.stability):
        psi_table = Table(title="Population stability (PSI; amber > 0.1, red > 0.25)")
        for column in ("variable", "vs training", "flag", "vs previous run", "flag "):
            psi_table.add_column(column)
        for row in report.stability.head(12).itertuples():
            psi_table.add_row(str(row.variable), _fmt(row.psi_training), str(row.flag_training),
                              _fmt(row.psi_previous), str(row.flag_previous))
        console.print(psi_table)
    if len(report.backtest):
        lights = report.backtest.groupby(["as_of", "light"]).size().unstack(fill_value=0)
        console.print("outcomes backtest (grades per Jeffreys light):")
        console.print(lights.to_string())
        console.print(report.cohort_auc.to_string(index=False))
    else:
        console.print("outcomes backtest: no matured cohort yet (needs as-of + 12 months in "
                      "the ledger)")


def _fmt(value: float) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.3f}"


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    figure.clear()
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def heat_map_png(migration: pd.DataFrame) -> str:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.5, 5.5))
    axes = figure.add_subplot()
    values = migration.to_numpy(np.float64)
    shares = values / np.maximum(values.sum(axis=1, keepdims=True), 1.0)
    image = axes.imshow(shares, cmap="YlOrRd", vmin=0, vmax=1)
    axes.set_xticks(range(len(migration.columns)), migration.columns.astype(str))
    axes.set_yticks(range(len(migration.index)), migration.index.astype(str))
    axes.set_xlabel("current grade")
    axes.set_ylabel("previous grade")
    for (i, j), count in np.ndenumerate(values):
        if count:
            axes.text(j, i, f"{int(count)}", ha="center", va="center", fontsize=7)
    figure.colorbar(image, ax=axes, label="share of the previous grade")
    axes.set_title("Grade migration")
    return _png(figure)


def score_shift_png(current: np.ndarray, previous: np.ndarray | None) -> str:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.5, 3.5))
    axes = figure.add_subplot()
    bins = [float(b) for b in np.linspace(-5, 0, 41)]
    for values, label in ((previous, "previous run"), (current, "this run")):
        if values is not None and len(values):
            logs = np.log10(np.clip(values, 1e-5, 1.0))
            axes.hist(logs, bins=bins, density=True, histtype="step", linewidth=1.5,
                      label=label)
    axes.set_xlabel("log10 model PD (12 months)")
    axes.set_ylabel("density")
    axes.set_title("Score distribution shift")
    axes.legend()
    return _png(figure)


def _table_html(frame: pd.DataFrame, rows: int = 50) -> str:
    if frame.empty:
        return "<p>none</p>"
    text: str = frame.head(rows).to_html(index=False, border=0,
                                         float_format=lambda v: f"{v:,.4g}", escape=True)
    return text


def report_html(report: RescoringReport) -> str:
    """One self-contained page (inline images, no external resource)."""
    c = report.changes
    title = f"Rescoring as of {c.as_of}"
    against = f"against {c.previous_as_of}" if c.previous_as_of else "first run"
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{padding:2px 8px;border-bottom:1px solid #ddd;font-size:13px}</style>",
        "</head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>model {html.escape(report.current.model_name)} version "
        f"{html.escape(report.current.model_version)}, policy "
        f"{html.escape(report.current.policy_version)}, "
        f"{report.current.customer_count:,} customers, {html.escape(against)}</p>",
        f"<img alt='grade migration heat map' src='data:image/png;base64,"
        f"{heat_map_png(c.migration)}'>",
        f"<img alt='score distribution shift' src='data:image/png;base64,"
        f"{score_shift_png(report.current_pd, report.previous_pd)}'>",
        "<h2>Population stability</h2>", _table_html(report.stability, 100),
        "<h2>Outcomes backtest</h2>", _table_html(report.backtest, 200),
        _table_html(report.cohort_auc),
        "<h2>Downgrades and upgrades</h2>", _table_html(c.moves),
        "<h2>Limits to move</h2>", _table_html(c.limits),
        "<h2>Limit breaches</h2>", _table_html(c.breaches),
        "<h2>New defaults</h2>", _table_html(c.new_defaults),
        "</body></html>",
    ]
    return "\n".join(parts)


def write_report(report: RescoringReport, out: Path) -> list[Path]:
    """CSV and Parquet of the events and tables, and ``report.html``; the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    stem = f"rescoring_{report.changes.as_of}"
    frames = {
        "events": report.changes.events,
        "migration": report.changes.migration.reset_index(),
        "moves": report.changes.moves,
        "limits": report.changes.limits,
        "breaches": report.changes.breaches,
        "new_defaults": report.changes.new_defaults,
        "stability": report.stability,
        "backtest": report.backtest,
    }
    written: list[Path] = []
    for name, frame in frames.items():
        csv_path = out / f"{stem}_{name}.csv"
        frame.to_csv(csv_path, index=False)
        written.append(csv_path)
    events_parquet = out / f"{stem}_events.parquet"
    report.changes.events.astype({"as_of": "datetime64[ns]"}).to_parquet(events_parquet,
                                                                          index=False)
    written.append(events_parquet)
    page = out / f"{stem}.html"
    page.write_text(report_html(report), encoding="utf-8")
    written.append(page)
    return written


def first_day(runs: list[ScoreRun]) -> date | None:
    return min((r.as_of for r in runs), default=None)
