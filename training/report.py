"""The HTML report of a run comparison, answer first: the verdict, the headline metrics, then
the curves (ROC, precision-recall, gains, calibration that resolves the tail) and every metric,
run and configuration difference folded away in ``<details>``. One standalone file (PNGs
embedded as base64) to mail or archive.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from creditrisk.models.grades import MasterScale
from creditrisk.models.policy import Policy
from creditrisk.training.evaluation import band_table
from creditrisk.training.plots import (
    calibration_figure,
    figure_png,
    gains_figure,
    precision_recall_figure,
    roc_figure,
)
from creditrisk.training.verdict import Verdict, headline_table

if TYPE_CHECKING:
    from creditrisk.training.comparison import ComparisonResult

def _table_html(table: pd.DataFrame, *, index: bool = True) -> str:
    if table.empty:
        return '<p class="note">(none)</p>'
    return str(
        table.to_html(index=index, na_rep="—", float_format=lambda value: f"{value:.4f}",
                      border=0)
    )


def _img(png: bytes, alt: str) -> str:
    encoded = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{encoded}">'


def _is_probability(score: np.ndarray) -> bool:
    return bool(len(score)) and bool(np.all((score >= 0.0) & (score <= 1.0)))


def report_figures(result: ComparisonResult) -> dict[str, bytes]:
    """PNG per figure of the report: ``<frame>_roc``, ``_precision_recall``, ``_gains`` and
    ``_calibration`` (calibration only for series whose scores are probabilities)."""
    pngs: dict[str, bytes] = {}
    for name, series in sorted(result.curves.items()):
        pngs[f"{name}_roc"] = figure_png(roc_figure(series, title=f"ROC: {name}"))
        pngs[f"{name}_precision_recall"] = figure_png(
            precision_recall_figure(series, title=f"Precision-recall: {name}"))
        pngs[f"{name}_gains"] = figure_png(gains_figure(series, title=f"Gains: {name}"))
        probabilities = {
            label: curve for label, curve in series.items() if _is_probability(curve[1])
        }
        if probabilities:
            pngs[f"{name}_calibration"] = figure_png(
                calibration_figure(probabilities, title=f"Calibration: {name}")
            )
    return pngs


GRADED_FRAME = "default_test"
"""The evaluation set whose scores are 12-month PDs: graded on the master scale."""


def run_scale(params: Mapping[str, str]) -> MasterScale:
    """The master scale a run trained with (its ``policy.master_scale`` parameter), else the
    default policy's."""
    raw = params.get("policy.master_scale")
    if raw:
        try:
            return MasterScale.from_config(json.loads(raw))
        except (ValueError, TypeError):  # an unreadable parameter: the default scale is shown
            pass
    return Policy.default().scale


def grade_table(series: Mapping[str, Any], scales: Mapping[str, MasterScale]) -> pd.DataFrame:
    """Observed vs predicted default rate per master-scale grade, for each run: rows = grades,
    columns ``<run> rows``, ``<run> observed``, ``<run> predicted`` (mean PD)."""
    parts = []
    for label, (y_true, score) in series.items():
        p = np.clip(np.asarray(score, dtype=np.float64), 0.0, 1.0)
        table = band_table(y_true, p, scales[label].grade(p)).set_index("grade")
        parts.append(table[["n", "observed_rate", "mean_predicted"]].rename(columns={
            "n": f"{label} rows", "observed_rate": f"{label} observed",
            "mean_predicted": f"{label} predicted"}))
    if not parts:
        return pd.DataFrame()
    joined = pd.concat(parts, axis=1).sort_index()
    joined.index.name = "grade"
    return joined


def report_template() -> str:
    """The HTML report's template, shipped inside the package (found from any directory)."""
    package = __package__ or "creditrisk.training"
    return resources.files(package).joinpath("report_template.html").read_text("utf-8")


def render_html(result: ComparisonResult, *, title: str = "Training runs compared") -> str:
    """The standalone report (tables + PNGs embedded as base64): one file to mail or archive."""
    pngs = report_figures(result)
    figures = "\n".join(_img(png, name) for name, png in pngs.items())
    template = Template(report_template())
    return template.substitute(
        title=html.escape(title),
        tracking_uri=html.escape(result.tracking_uri),
        verdict=_verdict_html(result.verdict),
        headline_table=_table_html(headline_table(result.metrics)),
        grades_table=_table_html(result.grades),
        runs_table=_table_html(result.runs, index=False),
        metrics_table=_table_html(result.metrics),
        config_table=_table_html(result.config_diff),
        figures=f'<div class="figures">{figures}</div>'
        if figures
        else '<p class="note">(no evaluation frames logged)</p>',
    )


def _verdict_html(verdict: Verdict | None) -> str:
    if verdict is None:
        return '<p class="note">(no verdict: fewer than two runs)</p>'
    lines = verdict.lines()
    items = "".join(
        f'<li class="{html.escape(s.outcome.replace(" ", "-"))}">'
        f"<b>{html.escape(s.segment)}</b>: {html.escape(s.outcome)}, {html.escape(s.detail)}</li>"
        for s in verdict.segments
    )
    rest = lines[1 + len(verdict.segments):]
    tail = "".join(f"<li>{html.escape(line.strip())}</li>" for line in rest)
    return (f"<p><b>{html.escape(lines[0])}</b></p><ul>{items}</ul>"
            f'<ul class="note">{tail}</ul>')


def write_html_report(
    result: ComparisonResult, path: str | Path, *, title: str = "Training runs compared"
) -> Path:
    """Write the report to ``path`` (parent directories created); returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_html(result, title=title), encoding="utf-8")
    return target


def describe(value: Any) -> str:
    """A table cell as text for the terminal: floats with 4 decimals, missing as a dash."""
    if value is None or value is pd.NA or value is pd.NaT:
        return "—"
    if isinstance(value, float | np.floating) and np.isnan(value):
        return "—"
    if isinstance(value, float | np.floating):
        return f"{value:.4f}"
    if isinstance(value, pd.Timestamp):
        return str(value.strftime("%Y-%m-%d %H:%M"))
    return str(value)
