"""``creditrisk``: one console command composing the packages. Settings are read here only."""

from __future__ import annotations

import typer

from creditrisk.cli import features as features_commands
from creditrisk.cli import keys as keys_commands
from creditrisk.cli import ledger as ledger_commands
from creditrisk.cli import rescore as rescore_commands
from creditrisk.cli import runs as runs_commands
from creditrisk.cli import serve as serve_command
from creditrisk.cli import synthetic as synthetic_command
from creditrisk.cli import train as train_commands
from creditrisk.training.scoring import direction_violations, score_evaluation_frame

app = typer.Typer(
    name="creditrisk",
    help="Trade-credit risk from your receivables ledger: import, features, models, service.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
ledger_commands.app.command("generate")(synthetic_command.generate)
app.add_typer(ledger_commands.app, name="ledger")
app.add_typer(features_commands.app, name="features")
app.command("train")(train_commands.train)
app.add_typer(runs_commands.app, name="runs")
app.command("promote")(
    runs_commands.make_promote_command(score_evaluation_frame, direction_violations)
)
app.add_typer(keys_commands.app, name="keys")
app.command("serve")(serve_command.serve)
app.add_typer(rescore_commands.app, name="rescore")


def main() -> None:
    app()
