"""``creditrisk serve``: settings reach the uvicorn workers through an environment built from the
settings object, never by writing into the CLI's own ``os.environ``; several workers work."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from creditrisk.cli import serve as serve_command
from creditrisk.serving.api.entrypoint import FACTORY
from creditrisk.serving.api_keys import generate_api_key
from creditrisk.serving.settings import SeededApiKey, Settings
from tests.serving.bundle_fixture import ServingWorld
from tests.serving.test_mlflow_parity import REPO, free_port, wait_until

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def seeded_key() -> SeededApiKey:
    record = generate_api_key(label="ops", scopes=["read"], created_at=NOW).record
    return SeededApiKey(key_id=record.key_id, key_hash=record.key_hash, scopes=record.scopes)


def test_options_override_the_environment_which_keeps_everything_else() -> None:
    key = seeded_key()
    environ = {
        "CREDITRISK_DATABASE_URL": "sqlite:///from-env.db",
        "CREDITRISK_API_KEYS": key.entry(),
        "CREDITRISK_RELOAD_POLL_SECONDS": "7",
    }
    settings = serve_command.service_settings_for(
        environ, database_url="sqlite:///option.db", tracking_uri="http://mlflow:5000",
        model_uri=None, log_level="warning",
    )
    assert settings.database_url == "sqlite:///option.db"
    assert settings.tracking_uri == "http://mlflow:5000"
    assert settings.model_uri == serve_command.DEFAULT_MODEL_URI
    assert settings.log_level == "WARNING"
    assert settings.reload_poll_seconds == 7.0
    assert settings.api_keys == (key,)


def test_the_worker_environment_is_exactly_the_settings_plus_unrelated_variables() -> None:
    settings = Settings(database_url="sqlite:///svc.db", model_uri="models:/creditrisk@champion",
                        api_keys=(seeded_key(),), run_migrations=False)
    inherited = {"PATH": "/bin", "CREDITRISK_MAX_BODY_BYTES": "1", "MLFLOW_TRACKING_URI": "x"}
    environment = serve_command.worker_environment(inherited, settings)
    assert environment["PATH"] == "/bin"
    assert Settings.from_env(environment) == settings  # stale variables do not leak through
    assert inherited == {"PATH": "/bin", "CREDITRISK_MAX_BODY_BYTES": "1",
                         "MLFLOW_TRACKING_URI": "x"}


def test_serve_never_writes_into_its_own_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The settings go to uvicorn as the child's explicit env; os.environ stays as it was."""
    calls: list[dict[str, Any]] = []

    def fake_run(command: Sequence[str], *, env: Mapping[str, str], check: bool) -> Any:
        calls.append({"command": list(command), "env": dict(env)})
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(serve_command.subprocess, "run", fake_run)
    monkeypatch.delenv("CREDITRISK_MODEL_URI", raising=False)
    before = dict(os.environ)
    database_url = f"sqlite:///{tmp_path / 'svc.db'}"
    serve_command.serve(
        host="127.0.0.1", port=8123, workers=3, model_uri="/models/bundle.pkl",
        database_url=database_url, tracking_uri="sqlite:///mlflow-test.db",
        demo_key_file=None, log_level="INFO",
    )
    assert dict(os.environ) == before
    (call,) = calls
    assert call["command"][:4] == [sys.executable, "-m", "uvicorn", FACTORY]
    assert call["command"][call["command"].index("--workers") + 1] == "3"
    workers = Settings.from_env(call["env"])
    assert workers.database_url == database_url
    assert workers.model_uri == "/models/bundle.pkl"
    assert workers.tracking_uri == "sqlite:///mlflow-test.db"
    assert workers.run_migrations is False  # applied once by the CLI, never raced by workers


@pytest.mark.slow
def test_serve_with_two_workers_becomes_ready_and_answers(
    serving_world: ServingWorld, serving_ledger_url: str, tmp_path: Path
) -> None:
    issued = generate_api_key(label="ops", scopes=["read"], created_at=NOW)
    port = free_port()
    log = tmp_path / "serve.log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CREDITRISK_")},
        "CREDITRISK_API_KEYS": f"{issued.record.key_id}:{issued.record.key_hash}:read",
        "CREDITRISK_RELOAD_POLL_SECONDS": "0",
        "OMP_NUM_THREADS": "1",
    }
    command = [
        sys.executable, "-c", "from creditrisk.cli import main; main()", "serve",
        "--port", str(port), "--workers", "2", "--log-level", "warning",
        "--model-uri", serving_world.model_uri, "--database-url", serving_ledger_url,
        "--tracking-uri", serving_world.tracking_uri,
    ]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT,
                                   cwd=REPO, start_new_session=True)
    try:
        problem = wait_until(f"http://127.0.0.1:{port}/readyz", process, log)
        assert problem is None, f"creditrisk serve did not become ready: {problem}"
        headers = {"Authorization": f"Bearer {issued.token}"}
        for _ in range(6):  # fresh connections, spread over the workers by the kernel
            answer = httpx.get(f"http://127.0.0.1:{port}/v1/model", headers=headers, timeout=30)
            assert answer.status_code == 200, answer.text
            assert answer.json()["model_version"] == serving_world.champion.version
    finally:
        os.killpg(process.pid, signal.SIGINT)  # our own process group (start_new_session)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
