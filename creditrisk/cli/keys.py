"""``creditrisk keys ...``: issue, list and revoke API keys for the service.

The key is printed once, on stdout, and never stored: only its SHA-256 is written to the
``api_keys`` table (``KEY=$(creditrisk keys create --label demo)`` captures it).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from creditrisk.cli import settings

app = typer.Typer(help="API keys for the HTTP service (scopes: score, read, admin).",
                  no_args_is_help=True)
console = Console(stderr=True)

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url", help="SQLAlchemy URL (default $CREDITRISK_DATABASE_URL or SQLite)."
    ),
]


@app.command("create")
def create(
    label: Annotated[str, typer.Option("--label", help="Who or what uses the key.")],
    scopes: Annotated[
        str, typer.Option("--scopes", help="Comma-separated: score, read, admin.")
    ] = "score,read",
    database_url: DatabaseOption = None,
    env_only: Annotated[
        bool,
        typer.Option(
            "--env-only",
            help="Do not store the key; print the CREDITRISK_API_KEYS entry for it instead "
            "(on stderr) to seed it through the environment.",
            metavar="",
        ),
    ] = False,
) -> None:
    """Issue a new key and print it once on stdout."""
    from creditrisk.ledger.database import make_engine, upgrade_database
    from creditrisk.serving.api_keys import (
        UnknownScopeError,
        generate_api_key,
        insert_api_key,
        seed_entry,
    )

    try:
        issued = generate_api_key(
            label=label, scopes=scopes.split(","), created_at=datetime.now(UTC)
        )
    except UnknownScopeError as exc:
        raise typer.BadParameter(str(exc), param_hint="--scopes") from exc
    if env_only:
        console.print(
            f"CREDITRISK_API_KEYS={seed_entry(issued.record)}", highlight=False, soft_wrap=True
        )
    else:
        url = settings.database_url(database_url)
        upgrade_database(url)
        engine = make_engine(url)
        try:
            insert_api_key(engine, issued.record)
        finally:
            engine.dispose()
        console.print(
            f"[green]stored key {issued.record.key_id}[/green] "
            f"({label}; scopes {','.join(sorted(issued.record.scopes))}); "
            "it is shown once, keep it now",
            highlight=False,
        )
    typer.echo(issued.token)


@app.command("list")
def list_keys(database_url: DatabaseOption = None) -> None:
    """Stored keys: id, label, scopes, created, revoked (never the keys)."""
    from creditrisk.ledger.database import make_engine, upgrade_database
    from creditrisk.serving.api_keys import list_api_keys

    url = settings.database_url(database_url)
    upgrade_database(url)
    engine = make_engine(url)
    try:
        records = list_api_keys(engine)
    finally:
        engine.dispose()
    table = Table("key id", "label", "scopes", "created", "revoked")
    for record in records:
        table.add_row(
            record.key_id,
            record.label,
            ",".join(sorted(record.scopes)),
            f"{record.created_at:%Y-%m-%d %H:%M}" if record.created_at else "",
            f"{record.revoked_at:%Y-%m-%d %H:%M}" if record.revoked_at else "",
        )
    Console().print(table)


@app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key id (the part after 'cr_').")],
    database_url: DatabaseOption = None,
) -> None:
    """Revoke a key; running services stop accepting it within their key cache time."""
    from creditrisk.ledger.database import make_engine
    from creditrisk.serving.api_keys import revoke_api_key

    url = settings.database_url(database_url)
    engine = make_engine(url)
    try:
        revoked = revoke_api_key(engine, key_id, revoked_at=datetime.now(UTC))
    finally:
        engine.dispose()
    if not revoked:
        console.print(f"[red]no active key {key_id}[/red]")
        raise typer.Exit(code=1)
    console.print(f"[green]revoked {key_id}[/green]")
