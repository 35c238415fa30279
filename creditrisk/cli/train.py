"""``creditrisk train``: fit both models on the ledger, log the run, register the bundle."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from creditrisk.cli import settings
from creditrisk.ledger.database import ledger_max_date, make_engine, read_ledger
from creditrisk.models.policy import Policy
from creditrisk.training import tracking
from creditrisk.training.config import TrainingConfig
from creditrisk.training.errors import TrainingError
from creditrisk.training.evaluation import events_shortfall, not_enough_events
from creditrisk.training.pipeline import run_training

console = Console()
errors = Console(stderr=True)

STEPS_FULL = 6
STEPS_LATE_ONLY = 3

# (metric, threshold text, check) printed after training; the acceptance bars
ACCEPTANCE: tuple[tuple[str, str, Callable[[float], bool]], ...] = (
    ("default_test_roc_auc_gap", "<= 0.02 (default AUC within 0.02 of the oracle)",
     lambda v: v <= 0.02),
    ("default_test_ece", "< 0.01 (default model calibration)", lambda v: v < 0.01),
    ("late_test_roc_auc_gap", "<= 0.02 (late AUC within 0.02 of the oracle)",
     lambda v: v <= 0.02),
)
HEADLINE = (
    "default_test_roc_auc", "default_test_oracle_roc_auc", "default_test_roc_auc_gap",
    "default_test_gini", "default_test_ks", "default_test_pr_auc", "default_test_brier",
    "default_test_ece", "default_test_scorecard_roc_auc", "default_test_applicants_roc_auc",
    "default_test_existing_roc_auc", "default_test_scorecard_applicants_roc_auc",
    "default_test_scorecard_existing_roc_auc", "late_test_roc_auc", "late_test_oracle_roc_auc",
    "late_test_roc_auc_gap", "late_test_naive_prior_share_roc_auc", "late_test_ece",
    "late_test_days_late_mae", "late_test_days_late_mae_mean_baseline",
    "late_test_days_coverage",
)


def read_truth(directory: Path) -> dict[str, pd.DataFrame]:
    """The generator's truth files (synthetic ledgers only)."""
    out = {}
    customer_month = directory / "truth_customer_month.parquet"
    invoice = directory / "truth_invoice.parquet"
    if customer_month.exists():
        out["customer_month"] = pd.read_parquet(customer_month)
    if invoice.exists():
        out["invoice"] = pd.read_parquet(invoice)
    if not out:
        raise typer.BadParameter(f"no truth_*.parquet files in {directory}")
    return out


def train(
    database_url: Annotated[str | None, typer.Option(help="Ledger database URL.")] = None,
    tracking_uri: Annotated[str | None, typer.Option(help="MLflow tracking URI.")] = None,
    config_file: Annotated[
        Path | None, typer.Option("--config", exists=True, help="Training config YAML.")
    ] = None,
    policy_file: Annotated[
        Path | None, typer.Option("--policy", exists=True, help="Credit policy YAML.")
    ] = None,
    data_end: Annotated[
        str | None, typer.Option(help="Ledger cut-off date (default: latest date in it).")
    ] = None,
    model_kind: Annotated[
        Literal["lightgbm", "scorecard"] | None,
        typer.Option(help="Default-model estimator (overrides the config)."),
    ] = None,
    late_only: Annotated[
        bool, typer.Option(help="Train only the late-payment model (ledgers without defaults).")
    ] = False,
    truth: Annotated[
        Path | None, typer.Option(help="Synthetic truth directory, for oracle metrics.")
    ] = None,
    run_name: Annotated[str | None, typer.Option(help="MLflow run name.")] = None,
    run_id_file: Annotated[
        Path | None, typer.Option(help="Also write the run id to this file (for scripts).")
    ] = None,
) -> None:
    """Train the late-payment and default models; log the run; register the bundle."""
    config = TrainingConfig.from_yaml(config_file) if config_file else TrainingConfig()
    updates: dict[str, object] = {}
    if model_kind:
        updates["model_kind"] = model_kind
    if late_only:
        updates["train_default"] = False
    config = config.model_copy(update=updates)
    policy = Policy.from_yaml(policy_file) if policy_file else Policy.default()
    tracking.configure(settings.tracking_uri(tracking_uri))
    engine = make_engine(settings.database_url(database_url))
    with console.status("reading the ledger"):
        ledger = read_ledger(engine)
    end = pd.Timestamp(data_end) if data_end else pd.Timestamp(ledger_max_date(ledger))
    truth_frames = read_truth(truth) if truth else None
    steps = STEPS_FULL if config.train_default else STEPS_LATE_ONLY
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("training", total=steps)

        def progress(step: str) -> None:
            bar.update(task, advance=1, description=step)

        bar.update(task, description="starting")
        try:
            result = run_training(ledger, config=config, data_end=end, policy=policy,
                                  truth=truth_frames, run_name=run_name, progress=progress)
        except TrainingError as exc:  # the edge: a clear message, no traceback
            bar.stop()
            errors.print(f"training failed: {exc}", style="red", markup=False)
            raise typer.Exit(code=2) from exc
        bar.update(task, completed=steps, description="done")
    print_result(result.metrics)
    console.print(f"run [bold]{result.run_id}[/bold]")
    if run_id_file:
        run_id_file.write_text(result.run_id + "\n")
    if result.version:
        console.print(
            f"registered [bold]{result.model_name}[/bold] version {result.version} "
            f"(alias challenger); promote with `creditrisk promote`"
        )


def print_result(metrics: dict[str, float]) -> None:
    table = Table(title="Out-of-time test metrics")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name in HEADLINE:
        shortfall = events_shortfall(metrics, name)
        if shortfall is not None:
            table.add_row(name, not_enough_events(shortfall))
        elif name in metrics:
            interval = (metrics.get(f"{name}_low"), metrics.get(f"{name}_high"))
            extra = f" [{interval[0]:.3f}, {interval[1]:.3f}]" if None not in interval else ""
            table.add_row(name, f"{metrics[name]:.4f}{extra}")
    console.print(table)
    for name, bar, check in ACCEPTANCE:
        if name in metrics:
            ok = check(metrics[name])
            mark = "[green]met[/green]" if ok else "[red]NOT met[/red]"
            console.print(f"{name} = {metrics[name]:.4f}  {bar}: {mark}")
