"""``creditrisk rescore``: re-rate the whole book as of a date, and report what changed.

- ``creditrisk rescore --as-of DATE [--model models:/NAME@champion]``: every customer, bucket
  by bucket, into the ``scores`` table (:mod:`creditrisk.serving.rescoring.runner`); safe to
  rerun (a complete run is left alone unless ``--force``) and to kill (the next call resumes).
- ``creditrisk rescore report [--as-of DATE] [--against DATE]``: migrations, limit moves,
  breaches, new defaults, credit events, PSI and the outcomes backtest
  (:mod:`creditrisk.serving.rescoring.report`), on the terminal and as files.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from creditrisk.cli import settings

if TYPE_CHECKING:
    from creditrisk.serving.rescoring.runner import BucketDone
    from creditrisk.serving.rescoring.store import OpenedRun, ScoreRun

MODEL_URI_ENV = "CREDITRISK_MODEL_URI"
"""The service's model setting (serving.settings.MODEL_URI_ENV; a test checks they agree)."""
DEFAULT_BUCKETS = 64
"""serving.rescoring.partitions.DEFAULT_BUCKETS (a test checks they agree)."""
DEFAULT_MODEL_URI = "models:/creditrisk@champion"
app = typer.Typer(
    help="Re-rate every customer as of a date (scores table), and report what changed.",
    invoke_without_command=True,
)
console = Console()


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date such as 2025-12-31",
                                 param_hint=option) from None


class _Progress:
    """A rich bar on a terminal, one plain line per bucket otherwise."""

    def __init__(self) -> None:
        self.bar: Progress | None = None
        self.task: TaskID | None = None

    def opened(self, opened: OpenedRun, customers: int) -> None:
        run = opened.run
        resumed = f", {len(opened.done_buckets)} already done" if opened.how == "resumed" else ""
        console.print(
            f"run {run.run_id}: as of {run.as_of}, model {escape(run.model_name)} version "
            f"{escape(run.model_version)}, {customers:,} customers in {run.buckets} buckets "
            f"({opened.how}{resumed})",
            highlight=False,
        )
        if opened.how == "complete" or not console.is_terminal:
            return
        self.bar = Progress(TextColumn("rescoring"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("buckets"), TimeElapsedColumn(), console=console)
        self.bar.start()
        self.task = self.bar.add_task("buckets", total=run.buckets,
                                      completed=len(opened.done_buckets))

    def bucket(self, done: BucketDone) -> None:
        if self.bar is not None and self.task is not None:
            self.bar.update(self.task, completed=done.buckets_done)
        else:
            print(f"bucket {done.bucket}: {done.customers} customers "
                  f"({done.buckets_done}/{done.buckets})", flush=True)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


@app.callback()
def rescore_command(
    ctx: typer.Context,
    as_of: Annotated[str | None, typer.Option(help="Rate as known at the end of this date.")]
    = None,
    model: Annotated[str | None, typer.Option(
        help=f"models:/NAME@ALIAS, models:/NAME/VERSION or a bundle path (default "
             f"${MODEL_URI_ENV} or {DEFAULT_MODEL_URI}).")] = None,
    buckets: Annotated[int, typer.Option(min=1, max=100_000,
                                         help="Customer buckets (chunks).")] = DEFAULT_BUCKETS,
    force: Annotated[bool, typer.Option(help="Recompute a complete run.")] = False,
    workers: Annotated[int | None, typer.Option(
        min=1, max=256, help="Worker processes rating buckets (default: one per core).")]
    = None,
    database_url: Annotated[str | None, typer.Option(help="Ledger database URL.")] = None,
    tracking_uri: Annotated[str | None, typer.Option(help="MLflow tracking URI.")] = None,
    engine_name: Annotated[str, typer.Option(
        "--engine", help="local (the ledger database) or spark (a Parquet ledger folder).")]
    = "local",
    master: Annotated[str | None, typer.Option(
        help="--engine spark: local[*], spark://HOST:PORT... (default: spark-submit's).")]
    = None,
    ledger: Annotated[str | None, typer.Option(
        help="--engine spark: the Parquet ledger folder (creditrisk ledger export).")] = None,
    out: Annotated[str | None, typer.Option(
        help="--engine spark: a Parquet folder or a database/JDBC URL for the scores.")] = None,
) -> None:
    """Rate every customer as of --as-of into the scores table (chunked, resumable)."""
    if ctx.invoked_subcommand is not None:
        return
    from creditrisk.ledger.database import make_engine, upgrade_database
    from creditrisk.serving.registry import ModelRegistry, ModelUriError
    from creditrisk.serving.rescoring.run_lock import RunLockedError
    from creditrisk.serving.rescoring.runner import rescore
    from creditrisk.serving.rescoring.store import RescoringError

    day = _day(as_of, "--as-of")
    if day is None:
        raise typer.BadParameter("give the date to rate as of, e.g. --as-of 2025-12-31",
                                 param_hint="--as-of")
    uri = model or os.environ.get(MODEL_URI_ENV) or DEFAULT_MODEL_URI
    url = settings.database_url(database_url)
    try:
        served = ModelRegistry(settings.tracking_uri(tracking_uri)).load(uri)
    except (ModelUriError, OSError, LookupError) as exc:
        console.print(f"[red]cannot load the model {escape(uri)}:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from None
    except Exception as exc:  # MLflow raises its own types for a missing name or alias
        console.print(f"[red]cannot load the model {escape(uri)}:[/red] "
                      f"{escape(type(exc).__name__)}: {escape(str(exc).splitlines()[0])}")
        raise typer.Exit(1) from None
    if engine_name == "spark":
        from creditrisk.cli.rescore_spark import rescore_with_spark

        rescore_with_spark(console, served=served, as_of=day, master=master, ledger=ledger,
                           out=out, force=force)
        return
    if engine_name != "local":
        raise typer.BadParameter("expected local or spark", param_hint="--engine")
    upgrade_database(url)
    engine = make_engine(url)
    progress = _Progress()
    try:
        result = rescore(engine, served, as_of=day, model_uri=uri, buckets=buckets, force=force,
                         on_open=progress.opened, on_bucket=progress.bucket,
                         workers=workers or os.cpu_count() or 1)
    except RunLockedError as exc:
        progress.stop()
        console.print(f"[red]not started:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from None
    except RescoringError as exc:
        progress.stop()
        console.print(f"[red]rescoring failed, the run is not complete:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from None
    except Exception as exc:  # a database or ledger problem before any bucket: no traceback
        progress.stop()
        console.print(f"[red]rescoring could not start:[/red] {escape(type(exc).__name__)}: "
                      f"{escape(str(exc).splitlines()[0] if str(exc) else '')}")
        raise typer.Exit(1) from None
    finally:
        progress.stop()
        engine.dispose()
    run = result.run
    if result.how == "complete":
        console.print(f"already complete: {run.customer_count:,} customers as of {run.as_of} "
                      "(--force recomputes)", highlight=False)
        return
    table = Table(title=f"Rescoring as of {run.as_of} ({result.how})")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("customers", f"{run.customer_count:,}")
    table.add_row("model", f"{run.model_name} v{run.model_version}")
    table.add_row("policy", run.policy_version)
    table.add_row("seconds", f"{result.seconds:.1f}")
    total = sum(result.timings.values()) or 1.0
    for stage, seconds in result.timings.items():
        table.add_row(f"  {stage}", f"{seconds:.1f} s ({seconds / total:.0%})")
    console.print(table)


def pinned_uri(run: ScoreRun) -> str:
    """The exact model version a run scored with (an alias may have moved since)."""
    from creditrisk.serving.registry import parse_model_uri

    if parse_model_uri(run.model_uri) is not None:
        return f"models:/{run.model_name}/{run.model_version}"
    return run.model_uri


@app.command("report")
def report_command(
    as_of: Annotated[str | None, typer.Option(
        help="The run to report (default: the latest complete run).")] = None,
    against: Annotated[str | None, typer.Option(
        help="As-of date of the run to compare with (default: the previous complete run).")]
    = None,
    out: Annotated[Path, typer.Option(help="Folder for the CSV/Parquet exports and the HTML.")]
    = Path("rescoring-report"),
    database_url: Annotated[str | None, typer.Option(help="Ledger database URL.")] = None,
    tracking_uri: Annotated[str | None, typer.Option(help="MLflow tracking URI.")] = None,
) -> None:
    """What changed since the previous run, and whether the model still holds."""
    from creditrisk.ledger.database import make_engine, read_ledger
    from creditrisk.ledger.errors import LedgerError
    from creditrisk.serving.registry import ModelRegistry
    from creditrisk.serving.rescoring import report as reports
    from creditrisk.serving.rescoring.store import RescoringError, latest_complete_run

    day = _day(as_of, "--as-of")
    previous_day = _day(against, "--against")
    engine = make_engine(settings.database_url(database_url))
    try:
        current = latest_complete_run(engine, as_of=day)
        if current is None:
            what = f"as of {day}" if day else "at all"
            console.print(f"[red]no complete rescoring run {what}:[/red] run `creditrisk "
                          "rescore --as-of DATE` first")
            raise typer.Exit(1)
        previous = latest_complete_run(
            engine, as_of=previous_day, before=None if previous_day else current.as_of)
        if previous_day is not None and previous is None:
            console.print(f"[red]no complete rescoring run as of {previous_day}[/red]")
            raise typer.Exit(1)
        served = ModelRegistry(settings.tracking_uri(tracking_uri)).load(pinned_uri(current))
        built = reports.build_report(engine, current, previous, served=served,
                                     ledger=read_ledger(engine))
    except (RescoringError, LedgerError) as exc:
        console.print(f"[red]cannot report:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    reports.print_summary(built, console)
    written = reports.write_report(built, out)
    for path in written:
        console.print(f"wrote {path}")
