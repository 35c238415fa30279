"""``creditrisk``: one console command composing the packages. Settings are read here only.

Rule for every command module in this package (tests/cli/test_cli_startup.py enforces it):
**the CLI starts without the heavy libraries.** Importing ``creditrisk.cli`` and printing any
``--help`` must not import pandas, numpy, mlflow, lightgbm, sklearn, scipy, sqlalchemy,
fastapi, uvicorn, pydantic_settings or matplotlib. So at module level a command module imports
only typer, rich, the standard library and light constants (``creditrisk.training.tracking``'s
names are light); everything else is imported inside the command function that uses it (and
names only needed for annotations under ``TYPE_CHECKING``). Option defaults are plain values.
Booleans are flags (``--late-only``, ``--skip-bad-rows/--no-skip-bad-rows``), dates are
``datetime.date`` options (shown and parsed as ``2022-01-01``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from creditrisk.cli import features as features_commands
from creditrisk.cli import keys as keys_commands
from creditrisk.cli import ledger as ledger_commands
from creditrisk.cli import rescore as rescore_commands
from creditrisk.cli import runs as runs_commands
from creditrisk.cli import serve as serve_command
from creditrisk.cli import synthetic as synthetic_command
from creditrisk.cli import train as train_commands

if TYPE_CHECKING:
    from creditrisk.training.promotion import BehaviourFn, ScoreFn

app = typer.Typer(
    name="creditrisk",
    help="Trade-credit risk from your receivables ledger: import, features, models, service.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _bundle_checks() -> tuple[ScoreFn, BehaviourFn]:
    """The promotion gate's scorer and declared-direction check (imported when promoting)."""
    from creditrisk.training.scoring import direction_violations, score_evaluation_frame

    return score_evaluation_frame, direction_violations


ledger_commands.app.command("generate")(synthetic_command.generate)
app.add_typer(ledger_commands.app, name="ledger")
app.add_typer(features_commands.app, name="features")
app.command("train")(train_commands.train)
app.add_typer(runs_commands.app, name="runs")
app.command("promote")(runs_commands.make_promote_command(checks=_bundle_checks))
app.add_typer(keys_commands.app, name="keys")
app.command("serve")(serve_command.serve)
app.add_typer(rescore_commands.app, name="rescore")


def _flags_without_placeholder(command: Any) -> None:
    """Show a boolean flag as ``--late-only``, not ``--late-only <bool>`` (typer's default),
    ``--help`` included (the command creates that option once and keeps it)."""
    helper = command.get_help_option(command.context_class(command))
    for param in [*getattr(command, "params", ()), *([helper] if helper else [])]:
        if getattr(param, "is_bool_flag", False) and param.metavar is None:
            param.metavar = ""
    for sub in getattr(command, "commands", {}).values():
        _flags_without_placeholder(sub)


def main(args: list[str] | None = None) -> None:
    """The console script (``args``: the command line, default ``sys.argv[1:]``)."""
    command = typer.main.get_command(app)
    _flags_without_placeholder(command)
    command(args=args, prog_name="creditrisk")
