"""``creditrisk train``: check what the ledger supports, fit the models, log the run, register
the bundle (late-only when the ledger cannot support a default model; docs/training.md)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console
from rich.table import Table

from creditrisk.cli import settings
from creditrisk.training import tracking

if TYPE_CHECKING:  # heavy: imported inside the functions (rule in creditrisk/cli/__init__.py)
    import pandas as pd

    from creditrisk.ledger.frame import Ledger
    from creditrisk.models.policy import Policy
    from creditrisk.training.config import TrainingConfig
    from creditrisk.training.pipeline import TrainingResult

console = Console()
errors = Console(stderr=True)

STEPS_FULL = 7
STEPS_LATE_ONLY = 5
STEPS_CHALLENGER = 3

# (metric, threshold text, check) printed after training; the issue's acceptance bars
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
    "late_test_days_late_mae_median_baseline",
    "late_test_days_coverage",
)


def read_truth(directory: Path) -> dict[str, pd.DataFrame]:
    """The generator's truth files (synthetic ledgers only)."""
    import pandas as pd

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
        Path | None, typer.Option("--config", exists=True,
                                  help="Training config YAML (docs/training.md).")
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
    fit_windows: Annotated[
        bool, typer.Option(help="Ledger too short for the default model's label window and "
                                "holdout: use the longest that fit (default.fit_windows).")
    ] = False,
    require_default: Annotated[
        bool, typer.Option(help="Fail at once when the ledger cannot support the default "
                                "model instead of skipping it (default.when_unsupported).")
    ] = False,
    challenger: Annotated[
        Literal["scorecard", "lightgbm"] | None,
        typer.Option(help="Also log and register a second run with this default-model "
                          "estimator, reusing the late-payment and open-invoice models."),
    ] = None,
    truth: Annotated[
        Path | None, typer.Option(help="Synthetic truth directory, for oracle metrics.")
    ] = None,
    run_name: Annotated[str | None, typer.Option(help="MLflow run name.")] = None,
    run_id_file: Annotated[
        Path | None, typer.Option(help="Also write the run id to this file (for scripts).")
    ] = None,
    challenger_run_name: Annotated[
        str | None, typer.Option(help="MLflow run name of the --challenger run.")
    ] = None,
    challenger_run_id_file: Annotated[
        Path | None, typer.Option(help="Write the --challenger run id to this file.")
    ] = None,
) -> None:
    """Check what the ledger supports, train the late-payment and default models, log the
    run, register the bundle (late-only when the ledger cannot support a default model)."""
    import pandas as pd

    from creditrisk.ledger.database import make_engine, read_ledger
    from creditrisk.ledger.span import read_ledger_span
    from creditrisk.training.capacity import check_windows_fit
    from creditrisk.training.config import TrainingConfig
    from creditrisk.training.errors import TrainingError

    if challenger and late_only:
        raise typer.BadParameter("a challenger needs the default model", param_hint="--late-only")
    config = TrainingConfig.from_yaml(config_file) if config_file else TrainingConfig()
    updates: dict[str, object] = {}
    if model_kind:
        updates["model_kind"] = model_kind
    if late_only:
        updates["train_default"] = False
    default_updates: dict[str, object] = {}
    if fit_windows:
        default_updates["fit_windows"] = True
    if require_default:
        default_updates["when_unsupported"] = "fail"
    if default_updates:
        updates["default"] = config.default.model_copy(update=default_updates)
    config = config.model_copy(update=updates)
    engine = make_engine(settings.database_url(database_url))
    # first what a few aggregate queries tell (seconds, not minutes): MLflow, the estimators
    # and the whole ledger come after, so a ledger too short for the windows fails at once
    span = read_ledger_span(engine)
    try:
        end = pd.Timestamp(data_end) if data_end else pd.Timestamp(span.last_date)
    except ValueError as exc:
        raise typer.BadParameter(f"{data_end!r} is not a date such as 2025-12-31",
                                 param_hint="--data-end") from exc
    if span.first_issue is None or pd.isna(end):
        errors.print("training failed: the ledger holds no invoices (import one first: "
                     "creditrisk ledger import)", style="red", markup=False)
        raise typer.Exit(code=2)
    try:
        check_windows_fit(span.first_issue, end, config)
        from creditrisk.models.policy import Policy

        policy = Policy.from_yaml(policy_file) if policy_file else Policy.default()
        truth_frames = read_truth(truth) if truth else None
        tracking.configure(settings.tracking_uri(tracking_uri))
        with console.status("reading the ledger"):
            ledger = read_ledger(engine)
        results = _train(ledger, config, end, policy, truth_frames,
                         run_name=run_name, challenger=challenger,
                         challenger_run_name=challenger_run_name)
    except TrainingError as exc:  # the edge: a clear message, no traceback
        errors.print(f"training failed: {exc}", style="red", markup=False, soft_wrap=True)
        raise typer.Exit(code=2) from exc
    for result, id_file in zip(results, (run_id_file, challenger_run_id_file), strict=False):
        print_result(result.metrics)
        console.print(f"run [bold]{result.run_id}[/bold]")
        if id_file:
            id_file.write_text(result.run_id + "\n")
        for model, reason in result.skipped.items():
            console.print(f"{model} model skipped: {reason}", markup=False, soft_wrap=True)
        if result.version:
            late_only_note = " (late-payment only)" if "default" in result.skipped else ""
            console.print(
                f"registered [bold]{result.model_name}[/bold] version {result.version}"
                f"{late_only_note} (alias challenger); promote with `creditrisk promote`"
            )


def _train(
    ledger: Ledger,
    config: TrainingConfig,
    end: pd.Timestamp,
    policy: Policy,
    truth: dict[str, pd.DataFrame] | None,
    *,
    run_name: str | None,
    challenger: str | None,
    challenger_run_name: str | None,
) -> list[TrainingResult]:
    """Pre-flight report, then fit once and log one run (two with a challenger)."""
    from creditrisk.cli.training_progress import TrainingProgress
    from creditrisk.training.capacity import assess_ledger, plan_default_model

    with console.status("checking what the ledger supports"):  # before MLflow is imported
        support = assess_ledger(ledger, data_end=end, default_config=config.default,
                                late_config=config.late, fit_windows=config.default.fit_windows)
    for line in support.lines():
        console.print(line, markup=False, soft_wrap=True, highlight=False)
    _, skip = plan_default_model(support, config)  # fails here, in seconds, when it must
    if skip:
        console.print(f"default model skipped: {skip}; the late-payment model is trained and "
                      "registered alone", markup=False, soft_wrap=True, highlight=False)
    from creditrisk.training.pipeline import fit_models, log_training, run_challenger

    steps = STEPS_LATE_ONLY if skip else STEPS_FULL + (STEPS_CHALLENGER if challenger else 0)
    with TrainingProgress(console, steps=steps) as progress:
        fitted = fit_models(ledger, config=config, data_end=end, truth=truth, support=support,
                            progress=progress.step, boosting=progress.boosting)
        results = [log_training(ledger, fitted, policy=policy, run_name=run_name,
                                progress=progress.step)]
        if challenger and fitted.default is not None:
            results.append(run_challenger(ledger, fitted, model_kind=challenger, policy=policy,
                                          run_name=challenger_run_name,
                                          progress=progress.step))
        progress.done()
    return results


def print_result(metrics: dict[str, float]) -> None:
    from creditrisk.training.evaluation import events_shortfall, not_enough_events

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
