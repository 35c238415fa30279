"""The pictures an analyst looks at to judge a model: ROC, precision-recall, calibration,
cumulative gains, observed vs predicted per grade, score distributions by outcome and feature
importance.

Each function returns a ``matplotlib.figure.Figure`` built without pyplot (no global figure
registry, no GUI backend, nothing shown): the caller logs it to MLflow or embeds it in a report.

Several curves can be overlaid: ``series`` maps a label ("lightgbm", "oracle", a run name) to
``(y_true, score)``. Each series carries its own outcomes so that runs evaluated on different
rows can still be drawn together.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_curve

from creditrisk.training.evaluation import (
    DEFAULT_ECE_BINS,
    EvaluationError,
    calibration_table_by_edges,
    outcome_array,
    probability_array,
    tail_resolving_edges,
)

Series = Mapping[str, tuple[Any, Any]]
FIGURE_SIZE = (6.4, 4.8)
FEATURE_IMPORTANCE_TOP = 25


def roc_figure(series: Series, *, title: str = "ROC curve") -> Figure:
    """True positive rate against false positive rate, one line per series, AUC in the legend."""
    figure = Figure(figsize=FIGURE_SIZE)
    axes = figure.add_subplot()
    axes.plot([0, 1], [0, 1], linestyle=":", color="grey", label="random")
    for label, (y_true, score) in series.items():
        y = outcome_array(y_true)
        if len(np.unique(y)) < 2:
            continue  # no curve without both outcomes
        s = np.asarray(score, dtype=np.float64)
        fpr, tpr, _ = roc_curve(y, s)
        auc = float(np.trapezoid(tpr, fpr))
        axes.plot(fpr, tpr, label=f"{label} (AUC {auc:.3f})")
    return _unit_square(figure, axes, "false positive rate", "true positive rate", title)


def calibration_figure(
    series: Series, *, bins: int = DEFAULT_ECE_BINS, title: str = "Calibration"
) -> Figure:
    """Reliability diagram on log-odds axes: observed event rate against mean predicted
    probability per range of predicted probability (``bins`` ranges equally wide in log-odds,
    :func:`training.evaluation.tail_resolving_edges`, so the rare high PDs of the worst grades
    get their own points; marker size grows with the rows in a range), and below it how many
    rows fall in each range (log scale). A range with no event is drawn at the axis floor."""
    figure = Figure(figsize=(FIGURE_SIZE[0], FIGURE_SIZE[1] * 1.3))
    top, bottom = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    all_p = [probability_array(p) for _, p in series.values()]
    pooled = np.concatenate([p for p in all_p if len(p)]) if any(len(p) for p in all_p) else None
    edges = tail_resolving_edges(pooled if pooled is not None else np.array([]), bins)
    floor = max(float(edges[1]) if len(edges) > 2 else float(edges[0]), 1e-5) / 3
    for (label, (y_true, _p)), prob in zip(series.items(), all_p, strict=True):
        if len(prob) == 0:
            continue
        table = calibration_table_by_edges(y_true, prob, edges)
        observed = np.maximum(table["observed_rate"].to_numpy(np.float64), floor)
        sizes = 12 + 60 * np.sqrt(table["n"].to_numpy(np.float64) / max(len(prob), 1))
        line = top.plot(table["mean_predicted"], observed, label=label)[0]
        top.scatter(table["mean_predicted"], observed, s=sizes, color=line.get_color())
        bottom.hist(prob, bins=edges.tolist(), histtype="step", label=label)
    low, high = floor, min(1.0, float(edges[-1]) * 1.5) if len(edges) else 1.0
    top.plot([low, high], [low, high], linestyle=":", color="grey", label="perfect calibration")
    for axes in (top, bottom):
        axes.set_xscale("logit" if high < 1.0 else "log")
    top.set_yscale("logit" if high < 1.0 else "log")
    top.set_xlim(low, high)
    top.set_ylim(low, high)
    top.set_ylabel("observed event rate")
    top.set_title(f"{title} ({bins} ranges, equal width in log-odds)")
    top.legend(loc="upper left", fontsize="small")
    bottom.set_yscale("log")
    bottom.set_xlabel("predicted probability")
    bottom.set_ylabel("rows")
    figure.tight_layout()
    return figure


def precision_recall_figure(series: Series, *, title: str = "Precision-recall") -> Figure:
    """Precision against recall, one line per series, average precision in the legend, the
    event rate as the no-skill line: the view that matters when events are rare."""
    figure = Figure(figsize=FIGURE_SIZE)
    axes = figure.add_subplot()
    for label, (y_true, score) in series.items():
        y = outcome_array(y_true)
        if len(np.unique(y)) < 2:
            continue
        s = np.asarray(score, dtype=np.float64)
        precision, recall, _ = precision_recall_curve(y, s)
        ap = float(average_precision_score(y, s))
        line = axes.plot(recall, precision, label=f"{label} (AP {ap:.3f})")[0]
        axes.axhline(float(y.mean()), linestyle=":", color=line.get_color(), linewidth=0.8)
    return _unit_square(figure, axes, "recall (share of events found)",
                        "precision (events among flagged)", title, legend="upper right")


def gains_figure(series: Series, *, title: str = "Cumulative gains") -> Figure:
    """Share of all events captured when reviewing the riskiest x % of rows first."""
    figure = Figure(figsize=FIGURE_SIZE)
    axes = figure.add_subplot()
    axes.plot([0, 1], [0, 1], linestyle=":", color="grey", label="random")
    for label, (y_true, score) in series.items():
        y = outcome_array(y_true)
        if y.sum() == 0:
            continue
        order = np.argsort(-np.asarray(score, dtype=np.float64), kind="stable")
        captured = np.concatenate([[0.0], np.cumsum(y[order]) / y.sum()])
        reviewed = np.linspace(0.0, 1.0, len(captured))
        axes.plot(reviewed, captured, label=label)
    return _unit_square(figure, axes, "share of rows reviewed, riskiest first",
                        "share of events captured", title)


def score_distribution_figure(
    y_true: Any, score: Any, *, title: str = "Score distribution by outcome", bins: int = 40
) -> Figure:
    """Histogram (density) of the score for rows with and without the event: the further
    apart, the better the model separates them."""
    y = outcome_array(y_true)
    s = np.asarray(score, dtype=np.float64)
    if len(s) != len(y):
        raise EvaluationError(f"score has {len(s)} rows but y_true has {len(y)}")
    figure = Figure(figsize=FIGURE_SIZE)
    axes = figure.add_subplot()
    edges = np.histogram_bin_edges(s, bins=bins).tolist()
    for outcome, label in ((0.0, "no event"), (1.0, "event")):
        chosen = s[y == outcome]
        if len(chosen):
            axes.hist(
                chosen, bins=edges, density=True, alpha=0.5, label=f"{label} (n={len(chosen)})"
            )
    axes.set_xlabel("score")
    axes.set_ylabel("density")
    axes.set_title(title)
    if axes.get_legend_handles_labels()[0]:
        axes.legend(fontsize="small")
    figure.tight_layout()
    return figure


def feature_importance_figure(
    feature_names: Sequence[str],
    gains: Any,
    *,
    top: int = FEATURE_IMPORTANCE_TOP,
    title: str = "Feature importance (gain)",
) -> Figure:
    """Horizontal bars of the ``top`` features by total gain, largest at the top."""
    values = np.asarray(gains, dtype=np.float64)
    if len(values) != len(feature_names):
        raise EvaluationError(f"{len(feature_names)} feature names but {len(values)} gains")
    order = np.argsort(-values, kind="stable")[:top][::-1]
    figure = Figure(figsize=(FIGURE_SIZE[0], max(2.5, 0.28 * len(order) + 1.2)))
    axes = figure.add_subplot()
    axes.barh([feature_names[i] for i in order], values[order])
    axes.set_xlabel("total gain")
    axes.set_title(title)
    axes.tick_params(axis="y", labelsize="small")
    figure.tight_layout()
    return figure


def figure_png(figure: Figure, *, dpi: int = 100) -> bytes:
    """The figure as PNG bytes (for embedding in a standalone HTML report)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _unit_square(
    figure: Figure, axes: Any, xlabel: str, ylabel: str, title: str,
    *, legend: str = "lower right",
) -> Figure:
    """Finish a curve drawn on [0, 1] x [0, 1] (ROC, gains): labels, limits, legend."""
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.set_title(title)
    if axes.get_legend_handles_labels()[0]:
        axes.legend(loc=legend, fontsize="small")
    figure.tight_layout()
    return figure
