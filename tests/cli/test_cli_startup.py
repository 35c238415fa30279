"""The CLI starts without its heavy libraries (the rule in creditrisk/cli/__init__.py).

Checked through ``sys.modules`` in a fresh interpreter, not by timing: importing
``creditrisk.cli`` and printing every command's ``--help`` must import none of them. Also:
booleans are flags without a value placeholder, dates show as dates, and tables keep 80
columns.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pandas as pd
from rich.console import Console

from creditrisk.cli import runs as runs_cli

HEAVY = ("pandas", "numpy", "mlflow", "lightgbm", "sklearn", "scipy", "sqlalchemy", "fastapi",
         "uvicorn", "pydantic_settings", "matplotlib", "pyarrow", "optbinning")

PROBE = textwrap.dedent(
    """
    import contextlib, io, json, sys
    import typer
    from creditrisk.cli import app, main

    def paths(group, prefix):
        yield prefix
        for name, sub in getattr(group, "commands", {}).items():
            yield from paths(sub, [*prefix, name])

    helps = {}
    for path in paths(typer.main.get_command(app), []):
        out = io.StringIO()
        code = 0
        with contextlib.redirect_stdout(out):
            try:
                main([*path, "--help"])
            except SystemExit as exc:
                code = exc.code or 0
        helps[" ".join(path)] = [code, out.getvalue()]
    heavy = sorted(name for name in HEAVY if name in sys.modules)
    print(json.dumps({"heavy": heavy, "helps": helps}))
    """
)


def _probe() -> dict[str, object]:
    code = f"HEAVY = {HEAVY!r}\n{PROBE}"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={"COLUMNS": "80", "TERM": "dumb", "PATH": "/usr/bin:/bin"},
    )
    return dict(json.loads(done.stdout.splitlines()[-1]))


def test_help_of_every_command_imports_no_heavy_library() -> None:
    probe = _probe()
    helps = probe["helps"]
    assert isinstance(helps, dict)
    # every command group and command was reached (a few named ones at least)
    for path in ("", "runs compare", "ledger import", "ledger generate", "train", "promote",
                 "keys create", "features build", "serve"):
        assert path in helps, sorted(helps)
        assert helps[path][0] == 0, helps[path][1]
    assert probe["heavy"] == [], (
        f"`--help` imported {probe['heavy']}: move those imports inside the command functions"
    )
    generate = helps["ledger generate"][1]
    assert "[default: 2022-01-01]" in generate
    assert "00:00:00" not in generate
    assert "<bool>" not in helps["ledger import"][1]
    assert "--skip-bad-rows" in helps["ledger import"][1]
    assert "<bool>" not in helps["train"][1]
    for path, (_, text) in helps.items():
        widths = [len(line) for line in text.splitlines()]
        assert max(widths, default=0) <= 80, (path, max(widths))


def test_the_negative_control_sees_a_heavy_import() -> None:
    """The probe can fail: a command module importing pandas at the top is caught."""
    code = f"HEAVY = {HEAVY!r}\nimport pandas\n{PROBE}"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={"COLUMNS": "80", "TERM": "dumb", "PATH": "/usr/bin:/bin"},
    )
    assert "pandas" in json.loads(done.stdout.splitlines()[-1])["heavy"]


def test_runs_table_fits_80_columns_with_short_ids_and_readable_headers() -> None:
    frame = pd.DataFrame(
        {
            "run": ["0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"],
            "name": ["lightgbm-2025-12-31", "scorecard-2025-12-31"],
            "started": [pd.Timestamp("2026-11-30 21:05", tz="UTC")] * 2,
            "version": ["creditrisk v2 @champion", "creditrisk v3 @challenger"],
            **{f"default_test_{m}": [0.81234, 0.79876] for m in ("roc_auc", "ece", "brier")},
            **{f"late_test_{m}": [0.71234, 0.70876] for m in ("roc_auc", "ece", "brier")},
            "default_test_applicants_roc_auc": [0.7, 0.72],
        }
    )
    table, left_out = runs_cli._table(frame, title="runs", width=80)
    console = Console(width=80, record=True, color_system=None)
    console.print(table)
    text = console.export_text()
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "01234567" in text
    assert "0123456789abcdef" not in text
    assert "2026-11-30 21:05" in text
    assert "0.8123" in text  # numbers are never folded across lines
    assert left_out, "a 13-column frame cannot fit 80 columns: the rest is named, not squeezed"
    assert runs_cli.header("default_test_roc_auc") == "default_test_\nroc_auc"
