"""The pictures an analyst looks at to judge a model: ROC, calibration, cumulative gains, score
distributions by outcome and feature importance.

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
from sklearn.metrics import roc_curve

from creditrisk.training.evaluation import (
    DEFAULT_ECE_BINS,
    EvaluationError,
    calibration_table,
    outcome_array,
    probability_array,
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
    """Reliability diagram: observed event rate against mean predicted probability per
    equal-frequency bin (top), and how many rows fall in each range of predicted probability
    (bottom, log scale). Axes zoom to the probabilities present: PDs are mostly small."""
    figure = Figure(figsize=(FIGURE_SIZE[0], FIGURE_SIZE[1] * 1.3))
    top, bottom = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    upper = 0.0
    all_p = [probability_array(p) for _, p in series.values()]
    hist_edges = np.linspace(0.0, max((float(p.max()) for p in all_p if len(p)), default=1.0), 31)
    for (label, (y_true, _p)), prob in zip(series.items(), all_p, strict=True):
        if len(prob) == 0:
            continue
        table = calibration_table(y_true, prob, bins)
        top.plot(table["mean_predicted"], table["observed_rate"], marker="o", label=label)
        bottom.hist(prob, bins=hist_edges, histtype="step", label=label)
        upper = max(
            upper, float(table["mean_predicted"].max()), float(table["observed_rate"].max())
        )
    upper = min(1.0, upper * 1.05) if upper > 0 else 1.0
    top.plot([0, upper], [0, upper], linestyle=":", color="grey", label="perfect calibration")
    top.set_xlim(0, upper)
    top.set_ylim(0, upper)
    top.set_ylabel("observed event rate")
    top.set_title(f"{title} ({bins} equal-frequency bins)")
    top.legend(loc="upper left", fontsize="small")
    bottom.set_yscale("log")
    bottom.set_xlabel("predicted probability")
    bottom.set_ylabel("rows")
    figure.tight_layout()
    return figure


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


def _unit_square(figure: Figure, axes: Any, xlabel: str, ylabel: str, title: str) -> Figure:
    """Finish a curve drawn on [0, 1] x [0, 1] (ROC, gains): labels, limits, legend."""
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.set_title(title)
    axes.legend(loc="lower right", fontsize="small")
    figure.tight_layout()
    return figure
