"""``creditrisk runs list|compare|promotions`` and ``creditrisk promote``: the analyst's view
of MLflow.

``promote`` needs a scorer (how a registered version turns an evaluation frame into
probabilities) and optionally a behaviour check (declared risk directions); the CLI root
builds the command with ``make_promote_command(scorer, behaviour)``. Every deliberate
training error (:class:`training.errors.TrainingError`) becomes a message without a traceback.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from creditrisk.cli import settings
from creditrisk.training import tracking
from creditrisk.training.comparison import (
    compare_runs,
    describe,
    list_runs,
    promotion_history,
    write_html_report,
)
from creditrisk.training.errors import TrainingError
from creditrisk.training.promotion import (
    DEFAULT_GATE_FRAMES,
    BehaviourFn,
    GateMargins,
    ScoreFn,
    promote,
)

app = typer.Typer(
    help="Training runs in MLflow: list, compare, promotion history.", no_args_is_help=True
)
console = Console()
errors = Console(stderr=True)

TrackingOption = Annotated[
    str | None,
    typer.Option(
        "--tracking-uri", help="MLflow store (default $MLFLOW_TRACKING_URI or sqlite:///mlflow.db)."
    ),
]
MetricOption = Annotated[
    list[str] | None,
    typer.Option(
        "--metric", "-m", help="Metric or glob such as 'default_test_*' (repeat); default: all."
    ),
]


def _table(frame: pd.DataFrame, *, title: str, index_name: str | None = None) -> Table:
    table = Table(title=title, show_lines=False)
    if index_name is not None:
        table.add_column(index_name, style="bold")
    for column in frame.columns:
        if column == "run_id":  # full ids, to copy into `runs compare`
            table.add_column("run_id", no_wrap=True, min_width=32)
        else:
            table.add_column(str(column), overflow="fold")
    for key, row in frame.iterrows():
        cells = [Text(describe(value)) for value in row.tolist()]
        table.add_row(*([Text(str(key))] if index_name is not None else []), *cells)
    return table


@app.command("list")
def list_command(
    experiment: Annotated[
        str, typer.Option("--experiment", "-e", help="MLflow experiment of the training runs.")
    ] = tracking.TRAINING_EXPERIMENT,
    tracking_uri: TrackingOption = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="Newest runs to show.")] = 20,
    metric: MetricOption = None,
) -> None:
    """List training runs, newest first, with headline metrics (or --metric) and registered
    versions with their aliases."""
    tracking.configure(settings.tracking_uri(tracking_uri))
    try:
        runs = list_runs(experiment, metrics=metric, max_runs=limit)
    except TrainingError as exc:
        errors.print(str(exc), style="red", markup=False)
        raise typer.Exit(code=1) from exc
    if runs.empty:
        errors.print(f"no runs in experiment {experiment!r}")
        return
    console.print(_table(runs, title=f"runs of {experiment!r}"))


@app.command("compare")
def compare_command(
    run_ids: Annotated[list[str], typer.Argument(help="Two or more run ids (or unique prefixes).")],
    html: Annotated[
        Path | None,
        typer.Option(
            "--html", help="Where to write the HTML report (default runs-compare-<ids>.html)."
        ),
    ] = None,
    tracking_uri: TrackingOption = None,
    metric: MetricOption = None,
) -> None:
    """Metrics side by side, configuration differences, and an HTML report with overlaid ROC
    and calibration curves."""
    tracking.configure(settings.tracking_uri(tracking_uri))
    try:
        result = compare_runs(run_ids, metrics=metric)
    except TrainingError as exc:
        errors.print(str(exc), style="red", markup=False)
        raise typer.Exit(code=1) from exc
    labels = result.runs.set_index("label")[["run_id", "start_time", "status", "model_version"]]
    console.print(_table(labels, title="runs", index_name="run"))
    console.print(_table(result.metrics, title="metrics", index_name="metric"))
    if result.config_diff.empty:
        console.print("configuration: identical parameters")
    else:
        console.print(
            _table(result.config_diff, title="configuration differences", index_name="parameter")
        )
    short_ids = "-".join(run_id[:8] for run_id in result.runs["run_id"])
    path = write_html_report(result, html or Path(f"runs-compare-{short_ids}.html"))
    console.print(f"HTML report: {path.resolve()}")


@app.command("promotions")
def promotions_command(
    model_name: Annotated[
        str | None, typer.Option("--model-name", help="Only this registered model.")
    ] = None,
    tracking_uri: TrackingOption = None,
) -> None:
    """Every promotion decision, accepted and refused: when, who, from which version to which."""
    tracking.configure(settings.tracking_uri(tracking_uri))
    history = promotion_history(model_name)
    if history.empty:
        errors.print("no promotions recorded")
        return
    console.print(_table(history, title="promotions"))


def make_promote_command(
    score_fn: ScoreFn, behaviour_fn: BehaviourFn | None = None
) -> Callable[..., None]:
    """The ``promote`` command bound to a scorer (and a declared-direction check): register it
    with ``app.command("promote")(make_promote_command(scorer, behaviour))``."""

    def promote_command(
        model_name: Annotated[
            str, typer.Option("--model-name", help="Registered model name.")
        ] = tracking.DEFAULT_MODEL_NAME,
        version: Annotated[
            str | None,
            typer.Option(
                "--version", help="Version to promote (default: the @challenger version)."
            ),
        ] = None,
        tracking_uri: TrackingOption = None,
        max_auc_drop: Annotated[
            float, typer.Option(help="ROC AUC may fall by at most this much.")
        ] = GateMargins.max_auc_drop,
        max_ece_increase: Annotated[
            float, typer.Option(help="Expected calibration error may rise by at most this much.")
        ] = GateMargins.max_ece_increase,
        max_brier_increase: Annotated[
            float, typer.Option(help="Brier score may rise by at most this much.")
        ] = GateMargins.max_brier_increase,
        min_segment_events: Annotated[
            int,
            typer.Option(help="Judge a segment (applicants, existing) only with this many events."),
        ] = GateMargins.min_segment_events,
        frame: Annotated[
            list[str] | None,
            typer.Option("--frame", help="Champion's evaluation frame(s) to judge on (repeat)."),
        ] = None,
        actor: Annotated[
            str | None, typer.Option("--actor", help="Who decides (default: the login name).")
        ] = None,
    ) -> None:
        """Promote the challenger to champion if it is not worse than the champion on the
        champion's own out-of-time test set. Exit code 1 when the gate refuses."""
        tracking.configure(settings.tracking_uri(tracking_uri))
        try:
            outcome = promote(
                model_name,
                version,
                score_fn=score_fn,
                actor=actor or getpass.getuser(),
                now=datetime.now(UTC),
                margins=GateMargins(
                    max_auc_drop=max_auc_drop,
                    max_ece_increase=max_ece_increase,
                    max_brier_increase=max_brier_increase,
                    min_segment_events=min_segment_events,
                ),
                frames=tuple(frame or DEFAULT_GATE_FRAMES),
                behaviour_fn=behaviour_fn,
            )
        except (TrainingError, ValueError) as exc:
            errors.print(str(exc), style="red", markup=False)
            raise typer.Exit(code=2) from exc
        for check in outcome.decision.checks:
            console.print(check.describe(), style="green" if check.passed else "red", markup=False)
        console.print(outcome.decision.summary, markup=False)
        experiment = tracking.PROMOTIONS_EXPERIMENT
        console.print(f"recorded as run {outcome.record_run_id} (experiment {experiment!r})")
        if not outcome.passed:
            console.print(
                f"[red]refused[/red]: {model_name} v{outcome.to_version} stays out; "
                f"champion remains v{outcome.from_version}"
            )
            raise typer.Exit(code=1)
        console.print(f"[green]promoted[/green]: {model_name} v{outcome.to_version} is @champion")

    return promote_command
