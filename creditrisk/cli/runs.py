"""``creditrisk runs list|compare|promotions`` and ``creditrisk promote``: the analyst's view
of MLflow.

``promote`` needs a scorer (how a registered version turns an evaluation frame into
probabilities) and optionally a behaviour check (declared risk directions); the CLI root
builds the command with ``make_promote_command(checks=...)`` (loaded when it runs). Every deliberate
training error (:class:`training.errors.TrainingError`) becomes a message without a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from creditrisk.cli import settings
from creditrisk.training import tracking

if TYPE_CHECKING:
    import pandas as pd

    from creditrisk.training.promotion import BehaviourFn, ScoreFn

app = typer.Typer(
    help="Training runs in MLflow: list, compare, promotion history.", no_args_is_help=True
)
console = Console()
errors = Console(stderr=True)

SHORT_ID = 8
"""Characters of a run id shown in tables (a unique prefix is accepted wherever an id is)."""
ID_COLUMNS = frozenset({"run", "run_id", "record", "record_run_id"})
"""Columns holding run ids: shown shortened."""
HEADER_LINE = 12
"""Metric names in table headers break at '_' into lines of about this many characters."""
CELL_PADDING = 3
TEXT_COLUMN = 12
"""A text column (name, version) is given this width when space is short, and folds."""

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


def header(name: str, *, width: int = HEADER_LINE) -> str:
    """A metric name broken at '_' into lines of at most ``width`` characters (a longer word
    stays whole), so a narrow column keeps a readable header: ``default_test_roc_auc`` ->
    ``default_test_\nroc_auc``."""
    lines: list[str] = []
    for word in name.split("_"):
        piece = word if not lines else f"_{word}"
        if lines and len(lines[-1]) + len(piece) <= width:
            lines[-1] += piece
        elif lines:
            lines[-1] += "_"
            lines.append(word)
        else:
            lines.append(word)
    return "\n".join(lines)


def cell(value: Any) -> str:
    """A table cell for the terminal: run ids shortened, dates as dates, times to the minute,
    floats with 4 decimals, missing as a dash."""
    from creditrisk.training.comparison import describe

    return describe(value)


def _table(
    frame: pd.DataFrame, *, title: str, index_name: str | None = None, width: int | None = None
) -> tuple[Table, list[str]]:
    """``frame`` as a table that fits ``width`` columns (default: the terminal's): run ids
    shortened to their first 8 characters, long names folded, headers broken at '_'. Columns
    that would not fit are left out and returned, to be named under the table."""
    available = (width or console.width) - 4
    table = Table(title=title, show_lines=False, pad_edge=False, collapse_padding=True)
    if index_name is not None:
        index_width = max([len(index_name), *(len(str(key)) for key in frame.index)])
        table.add_column(index_name, style="bold", overflow="fold", max_width=32)
        available -= min(index_width, 32) + CELL_PADDING
    shown: list[str] = []
    left_out: list[str] = []
    for column in frame.columns:
        name = str(column)
        texts = [_short(name, value) for value in frame[column].tolist()]
        natural = max([*(len(line) for line in header(name).splitlines()),
                       *(len(text) for text in texts), 1])
        numeric = name not in ID_COLUMNS and bool(texts) and all(_is_number(t) for t in texts)
        need = (natural if numeric else min(natural, TEXT_COLUMN)) + CELL_PADDING
        if left_out or (shown and need > available):  # columns keep their order of priority
            left_out.append(name)
            continue
        available -= need
        shown.append(name)
        if numeric:  # numbers never fold: the column keeps its natural width
            table.add_column(header(name), justify="right", no_wrap=True, min_width=natural)
        else:
            table.add_column(header(name), overflow="fold", max_width=max(natural, TEXT_COLUMN))
    for key, (_, row) in zip(frame.index, frame.iterrows(), strict=True):
        cells = [Text(_short(column, row[column])) for column in shown]
        table.add_row(*([Text(str(key))] if index_name is not None else []), *cells)
    return table, left_out


def _short(column: str, value: Any) -> str:
    text = cell(value)
    if column in ID_COLUMNS and len(text) > SHORT_ID:
        return text[:SHORT_ID]
    return text


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
    except ValueError:
        return text == "—"
    return True


def _print(frame: pd.DataFrame, *, title: str, index_name: str | None = None) -> None:
    table, left_out = _table(frame, title=title, index_name=index_name)
    console.print(table)
    if left_out:
        console.print(f"not shown at this width: {', '.join(left_out)} (choose with --metric)",
                      style="dim", markup=False)


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
    versions with their aliases. Run ids are shortened: any unique prefix works."""
    from creditrisk.training.comparison import list_runs
    from creditrisk.training.errors import TrainingError

    tracking.configure(settings.tracking_uri(tracking_uri))
    try:
        runs = list_runs(experiment, metrics=metric, max_runs=limit)
    except TrainingError as exc:
        errors.print(str(exc), style="red", markup=False)
        raise typer.Exit(code=1) from exc
    if runs.empty:
        errors.print(f"no runs in experiment {experiment!r}")
        return
    runs = runs.rename(columns={"run_id": "run", "run_name": "name", "start_time": "started",
                                "model_version": "version"})
    # the columns by priority (what does not fit the terminal is named under the table)
    first = ["run", "started"]
    last = ["version", "name", "status"]
    metrics = [c for c in runs.columns if c not in first and c not in last]
    _print(runs[[*first, *metrics, *last]], title=f"runs of {experiment!r}")


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
    """The verdict first (which run is better on which segment, beyond noise; the gate's
    checks if one ran), then the headline metrics; every metric, the configuration
    differences and the curves are in the HTML report."""
    from creditrisk.training.comparison import compare_runs, write_html_report
    from creditrisk.training.errors import TrainingError
    from creditrisk.training.verdict import headline_table

    tracking.configure(settings.tracking_uri(tracking_uri))
    try:
        result = compare_runs(run_ids, metrics=metric)
    except TrainingError as exc:
        errors.print(str(exc), style="red", markup=False)
        raise typer.Exit(code=1) from exc
    if result.verdict is not None:
        console.print("verdict", style="bold")
        for line in result.verdict.lines():
            console.print(f"  {line}", markup=False, highlight=False)
    _print(headline_table(result.metrics, metric), title="headline metrics", index_name="metric")
    labels = result.runs.set_index("label")[["run_id", "start_time", "model_version"]]
    _print(labels.rename(columns={"run_id": "run", "start_time": "started",
                                  "model_version": "version"}), title="runs", index_name="label")
    if not result.config_diff.empty:
        console.print(f"{len(result.config_diff)} parameter(s) differ (in the HTML report)")
    short_ids = "-".join(run_id[:SHORT_ID] for run_id in result.runs["run_id"])
    path = write_html_report(result, html or Path(f"runs-compare-{short_ids}.html"))
    console.print(f"HTML report: {path.resolve()}", markup=False, highlight=False, soft_wrap=True)


@app.command("promotions")
def promotions_command(
    model_name: Annotated[
        str | None, typer.Option("--model-name", help="Only this registered model.")
    ] = None,
    tracking_uri: TrackingOption = None,
) -> None:
    """Every promotion decision, accepted and refused: when, who, from which version to which."""
    from creditrisk.training.comparison import promotion_history

    tracking.configure(settings.tracking_uri(tracking_uri))
    history = promotion_history(model_name)
    if history.empty:
        errors.print("no promotions recorded")
        return
    history = history.rename(columns={"decided_at": "decided", "model_name": "model",
                                      "from_version": "from", "to_version": "to",
                                      "record_run_id": "record"})
    _print(history, title="promotions")


BundleChecks = Callable[[], "tuple[ScoreFn, BehaviourFn | None]"]


def make_promote_command(
    score_fn: ScoreFn | None = None,
    behaviour_fn: BehaviourFn | None = None,
    *,
    checks: BundleChecks | None = None,
) -> Callable[..., None]:
    """The ``promote`` command bound to a scorer (and a declared-direction check): register it
    with ``app.command("promote")(make_promote_command(scorer, behaviour))``, or with
    ``checks=`` a function returning both, called only when the command runs (the CLI root
    passes one, so that ``--help`` imports no model code)."""
    if (score_fn is None) == (checks is None):
        raise ValueError("give either score_fn or checks")

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
            float | None,
            typer.Option(help="ROC AUC may fall by at most this much (default: the gate's)."),
        ] = None,
        max_ece_increase: Annotated[
            float | None,
            typer.Option(help="Expected calibration error may rise by at most this much "
                         "(default: the gate's)."),
        ] = None,
        max_brier_increase: Annotated[
            float | None,
            typer.Option(help="Brier score may rise by at most this much (default: the gate's)."),
        ] = None,
        min_segment_events: Annotated[
            int | None,
            typer.Option(help="Judge a segment (applicants, existing) only with this many "
                         "events (default: the gate's)."),
        ] = None,
        frame: Annotated[
            list[str] | None,
            typer.Option("--frame", help="Champion's evaluation frame(s) to judge on (repeat)."),
        ] = None,
        actor: Annotated[
            str | None, typer.Option("--actor", help="Who decides (default: the login name).")
        ] = None,
    ) -> None:
        """Promote the challenger to champion if it is not worse than the champion on the
        champion's own out-of-time test set. Exit code 1 when the gate refuses; the margins
        used are printed."""
        import getpass
        from datetime import UTC, datetime

        from creditrisk.training.errors import TrainingError
        from creditrisk.training.promotion import DEFAULT_GATE_FRAMES, GateMargins, promote

        scorer, behaviour = (score_fn, behaviour_fn) if checks is None else checks()
        assert scorer is not None  # one of the two was given (checked above)
        tracking.configure(settings.tracking_uri(tracking_uri))
        try:
            gate = GateMargins()  # the gate's own defaults, for the options not given
            margins = GateMargins(
                max_auc_drop=gate.max_auc_drop if max_auc_drop is None else max_auc_drop,
                max_ece_increase=(gate.max_ece_increase if max_ece_increase is None
                                  else max_ece_increase),
                max_brier_increase=(gate.max_brier_increase if max_brier_increase is None
                                    else max_brier_increase),
                min_segment_events=(gate.min_segment_events if min_segment_events is None
                                    else min_segment_events),
            )
            outcome = promote(
                model_name,
                version,
                score_fn=scorer,
                actor=actor or getpass.getuser(),
                now=datetime.now(UTC),
                margins=margins,
                frames=tuple(frame or DEFAULT_GATE_FRAMES),
                behaviour_fn=behaviour,
            )
        except (TrainingError, ValueError) as exc:
            errors.print(str(exc), style="red", markup=False)
            raise typer.Exit(code=2) from exc
        console.print(
            f"margins: AUC drop <= {margins.max_auc_drop}, ECE rise <= "
            f"{margins.max_ece_increase}, Brier rise <= {margins.max_brier_increase}, "
            f"segments judged from {margins.min_segment_events} events",
            markup=False, highlight=False,
        )
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
