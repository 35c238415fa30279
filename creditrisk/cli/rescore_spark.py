"""``creditrisk rescore --engine spark``: the Spark branch of the rescore command.

Kept apart from :mod:`creditrisk.cli.rescore` so that the local engine never imports pyspark:
this module imports it only when the branch runs (and says how to install the extra when it
is missing).
"""

from __future__ import annotations

from datetime import date

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from creditrisk.serving.registry import ServedBundle

SPARK_EXTRA_HINT = "pip install 'creditrisk[spark]' (pyspark and a Java 17+ runtime)"


def rescore_with_spark(
    console: Console,
    *,
    served: ServedBundle,
    as_of: date,
    master: str | None,
    ledger: str | None,
    out: str | None,
    force: bool,
) -> None:
    """Run the Spark engine and print its summary; a failure is one red line and exit 1."""
    if not ledger or not out:
        raise typer.BadParameter(
            "--engine spark reads a Parquet ledger folder and writes a folder or database: "
            "give --ledger PARQUET_DIR (creditrisk ledger export --format parquet) and "
            "--out PARQUET_DIR|JDBC_URL", param_hint="--ledger/--out")
    try:
        from creditrisk.serving.rescoring.spark.engine import (
            SparkRescoringError,
            run_spark_rescoring,
        )
    except ImportError as exc:
        console.print(f"[red]the Spark engine needs pyspark:[/red] {escape(str(exc))}; "
                      f"{SPARK_EXTRA_HINT}")
        raise typer.Exit(1) from None
    from creditrisk.ledger.errors import LedgerError

    try:
        summary = run_spark_rescoring(master=master, ledger=ledger, out=out, as_of=as_of,
                                      served=served, force=force)
    except (SparkRescoringError, LedgerError, ValueError) as exc:
        console.print(f"[red]Spark rescoring failed, the run is not complete:[/red] "
                      f"{escape(str(exc))}")
        raise typer.Exit(1) from None
    if summary.how == "complete":
        console.print(f"already complete: {summary.customers:,} customers as of "
                      f"{summary.as_of} (--force recomputes)", highlight=False)
        return
    table = Table(title=f"Rescoring on Spark as of {summary.as_of} ({summary.how})")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("customers", f"{summary.customers:,}")
    table.add_row("buckets", f"{summary.buckets} ({summary.buckets_skipped} already done)")
    table.add_row("model", f"{summary.model_name} v{summary.model_version}")
    table.add_row("policy", summary.policy_version)
    table.add_row("written to", summary.destination)
    table.add_row("seconds", f"{summary.seconds:.1f}")
    console.print(table)
