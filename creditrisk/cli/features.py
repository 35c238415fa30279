"""``creditrisk features build``: customer features as of a date, from the ledger database."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from creditrisk.cli import settings

app = typer.Typer(help="Point-in-time payment-history features.", no_args_is_help=True)
console = Console()


@app.command("build")
def build(
    as_of: Annotated[
        str | None, typer.Option(help="As-of date (default: the latest date in the ledger).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the features to this Parquet.")] = None,
    database_url: Annotated[str | None, typer.Option(help="Ledger database URL.")] = None,
) -> None:
    """Build one feature row per customer as known at the end of the as-of date."""
    from creditrisk.features.customer import build_features
    from creditrisk.ledger.database import ledger_max_date, make_engine, read_ledger
    from creditrisk.ledger.errors import LedgerError

    try:
        asked = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise typer.BadParameter(
            f"{as_of!r} is not a date such as 2025-12-31", param_hint="--as-of"
        ) from None
    engine = make_engine(settings.database_url(database_url))
    try:
        with console.status("reading the ledger"):
            ledger = read_ledger(engine)
        day = asked or ledger_max_date(ledger)
        if day is None:
            console.print("[red]the ledger is empty: import or generate one first[/red]")
            raise typer.Exit(1)
        started = time.perf_counter()
        with console.status(f"building features as of {day}"):
            frame = build_features(ledger, as_of=day)
    except LedgerError as exc:
        console.print(f"[red]the ledger breaks its contract:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    seconds = time.perf_counter() - started
    table = Table(title=f"Customer features as of {day}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("customers", f"{len(frame):,}")
    table.add_row("features", f"{frame.shape[1]}")
    table.add_row("invoices in ledger", f"{len(ledger.invoices):,}")
    table.add_row("open balance", f"{frame['open_balance'].sum():,.0f}")
    table.add_row("overdue balance", f"{frame['overdue_balance'].sum():,.0f}")
    share = frame["overdue_balance"].sum() / max(frame["open_balance"].sum(), 1e-9)
    table.add_row("overdue share", f"{share:.1%}")
    table.add_row("seconds", f"{seconds:.2f}")
    console.print(table)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        frame.reset_index().to_parquet(out, index=False)
        console.print(f"wrote {out}")


@app.command("catalog")
def show_catalog(
    level: Annotated[str, typer.Option(help="customer or invoice")] = "customer",
) -> None:
    """Print the feature catalog (name, meaning, risk direction) as Markdown."""
    from creditrisk.features.catalog import catalog_markdown

    if level not in ("customer", "invoice"):
        raise typer.BadParameter("level must be customer or invoice")
    console.print(catalog_markdown(level))  # type: ignore[arg-type]  # str checked above
