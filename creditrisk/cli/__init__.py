"""``creditrisk``: one console command composing the packages. Settings are read here only."""

from __future__ import annotations

import typer

from creditrisk.cli import ledger as ledger_commands

app = typer.Typer(
    name="creditrisk",
    help="Trade-credit risk from your receivables ledger: import, features, models, service.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(ledger_commands.app, name="ledger")


def main() -> None:
    app()
