"""``creditrisk serve`` never prints a key in clear unless asked (``--show-keys``): the
printed ``curl`` examples read the demo key from its file, and the shell expands them to a
working header."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from creditrisk.cli import serve as serve_command

SHELL = subprocess.run  # kept before the tests replace subprocess.run for serve


def run_serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, show_keys: bool) -> Path:
    def fake_run(command: Sequence[str], *, env: Mapping[str, str], check: bool) -> Any:
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(serve_command.subprocess, "run", fake_run)
    key_file = tmp_path / "demo key"
    serve_command.serve(
        host="127.0.0.1", port=8123, workers=1, model_uri="/models/bundle.pkl",
        database_url=f"sqlite:///{tmp_path / 'svc.db'}", tracking_uri="sqlite:///unused.db",
        demo_key_file=key_file, log_level="INFO", show_keys=show_keys,
    )
    return key_file


def test_serve_prints_no_key_by_default_and_the_examples_still_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    key_file = run_serve(tmp_path, monkeypatch, show_keys=False)
    key = key_file.read_text().strip()
    printed = capfd.readouterr()
    assert key not in printed.out + printed.err
    curl = next(line for line in printed.out.splitlines() if "/risk" in line or "-X POST" in line)
    words = SHELL(  # the shell's own expansion of the printed command
        ["bash", "-c", f"printf '%s\\n' {curl.strip().removeprefix('curl ')}"],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()
    assert f"Authorization: Bearer {key}" in words


def test_serve_shows_the_key_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    key_file = run_serve(tmp_path, monkeypatch, show_keys=True)
    assert key_file.read_text().strip() in capfd.readouterr().out
