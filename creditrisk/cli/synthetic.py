"""``creditrisk ledger generate``: write a seeded synthetic ledger and its truth as Parquet.

A plain function with typer annotations; the ``ledger`` command group registers it.
Customers are generated and written partition by partition, so memory stays bounded.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

if TYPE_CHECKING:
    from creditrisk.synthetic import SyntheticSummary


def generate(
    customers: Annotated[
        int, typer.Option("--customers", min=0, help="Number of customers to generate.")
    ] = 10_000,
    start: Annotated[
        date, typer.Option("--start", help="First day of the ledger (YYYY-MM-DD).")
    ] = date(2022, 1, 1),
    end: Annotated[
        date, typer.Option("--end", help="Last day of the ledger, inclusive (YYYY-MM-DD).")
    ] = date(2025, 12, 31),
    seed: Annotated[
        int, typer.Option("--seed", min=0, help="Random seed (same seed, same ledger).")
    ] = 42,
    out: Annotated[Path, typer.Option("--out", help="Directory for the Parquet files.")] = Path(
        "synthetic"
    ),
    partition_size: Annotated[
        int,
        typer.Option("--partition-size", min=1, help="Customers generated per partition."),
    ] = 100_000,
) -> None:
    """Generate a synthetic receivables ledger with its truth (PD per month, P(late))."""
    from creditrisk.synthetic import (
        LEDGER_FILES,
        TRUTH_FILES,
        SyntheticLedgerError,
        SyntheticSummary,
        SyntheticWriter,
        count_partitions,
        iter_synthetic_partitions,
        summarize,
    )

    console = Console()
    try:
        partitions = iter_synthetic_partitions(
            n_customers=customers,
            start=start,
            end=end,
            seed=seed,
            partition_size=partition_size,
        )
    except SyntheticLedgerError as exc:
        raise typer.BadParameter(str(exc)) from exc
    summary = SyntheticSummary()
    progress = Progress(
        TextColumn("[bold]generating[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("partitions"),
        TimeElapsedColumn(),
        console=console,
    )
    with progress, SyntheticWriter(out) as writer:
        task = progress.add_task("generate", total=count_partitions(customers, partition_size))
        for part in partitions:
            writer.write(part)
            summary = summary + summarize(part)
            progress.advance(task)
    console.print(_summary_table(summary, out))
    console.print(f"ledger: {', '.join(LEDGER_FILES.values())}")
    console.print(f"truth (keep apart from the ledger): {', '.join(TRUTH_FILES.values())}")


def _summary_table(summary: SyntheticSummary, out: Path) -> Table:
    table = Table(title=f"synthetic ledger in {out}", show_header=True)
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("customers", f"{summary.customers:,}")
    table.add_row("invoices", f"{summary.invoices:,}")
    table.add_row("payments", f"{summary.payments:,}")
    table.add_row("credit events", f"{summary.credit_events:,}")
    table.add_row("defaults", f"{summary.defaults:,}")
    table.add_row("yearly default rate", f"{summary.yearly_default_rate:.2%}")
    return table
