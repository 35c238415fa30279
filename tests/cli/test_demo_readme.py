"""The README's demo section tells a newcomer what `make demo` leaves behind: it says the demo
ends in a running service and how to skip it (the switch the script really reads), and it
has a `curl` line for every endpoint the service answers."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from creditrisk.cli import app as cli_app
from creditrisk.serving.api.app import create_app
from creditrisk.serving.settings import Settings

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()
SCRIPT = (REPO / "scripts" / "demo.sh").read_text()
NOT_ENDPOINTS = {"/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"}


def _curl_paths() -> set[str]:
    found = set()
    for command in README.replace("\\\n", " ").splitlines():  # continued lines joined
        if command.lstrip().startswith("curl"):
            found |= set(re.findall(r"\$URL(/[A-Za-z0-9_/{}.-]*)", command))
    return found


def _template_matches(template: str, path: str) -> bool:
    pattern = re.sub(r"\{[^}]+\}", "[^/]+", template)
    return re.fullmatch(pattern, path) is not None


def test_the_readme_has_a_curl_line_for_every_endpoint(tmp_path: Path) -> None:
    service = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'unused.db'}"))
    # every documented path, plus the Prometheus endpoint kept out of the OpenAPI document
    templates = set(service.openapi()["paths"]) | {"/metrics"}
    templates -= NOT_ENDPOINTS
    assert templates, "no routes found"
    curls = _curl_paths()
    missing = [t for t in sorted(templates) if not any(_template_matches(t, p) for p in curls)]
    assert not missing, f"README has no curl line for {missing}"


def test_the_readme_says_the_demo_ends_in_a_service_and_how_to_skip_it() -> None:
    assert "ends in a running service" in README
    assert "DEMO_SERVE=0" in README
    assert re.search(r'\$\{DEMO_SERVE:-1\}" != "1"', SCRIPT), "the script reads DEMO_SERVE"


def test_every_train_option_the_demo_passes_exists() -> None:
    command = typer.main.get_command(cli_app)
    train = command.commands["train"]  # type: ignore[attr-defined]  # a click Group
    options = {opt for param in train.params for opt in param.opts}
    calls = re.findall(r"creditrisk train((?:[^\n]|\\\n)*)", SCRIPT)
    assert calls
    for call in calls:
        for flag in re.findall(r"(--[a-z-]+)", call):
            assert flag in options, flag
