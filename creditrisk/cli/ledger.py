"""``creditrisk ledger ...``: migrate, import, generate."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from creditrisk.cli import settings
from features.ledger.database import upgrade_database

app = typer.Typer(
    help="The receivables ledger: schema, import, synthetic data.", no_args_is_help=True
)
console = Console(stderr=True)

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url", help="SQLAlchemy URL (default $CREDITRISK_DATABASE_URL or SQLite)."
    ),
]


@app.command("migrate")
def migrate(database_url: DatabaseOption = None) -> None:
    """Create or upgrade the ledger schema (Alembic migrations)."""
    url = settings.database_url(database_url)
    upgrade_database(url)
    console.print("[green]database schema is up to date[/green]")
