"""The bundle gives the same answer through ``mlflow models serve`` and through our API.

Both serve the registered champion (``models:/creditrisk@champion`` in a temporary MLflow
store): MLflow's scoring server through the pyfunc (:mod:`creditrisk.models.pyfunc`), our
service, started with its real entry point
(``uvicorn creditrisk.serving.api.entrypoint:app_from_env --factory``), through the dict fast path
(``score_applicant``). For the same application rows: PD within 1e-9, same grade, decision
and recommended limit. The test is skipped (with the reason) only when MLflow's server cannot
be started on this machine at all; an error while it loads or scores our model fails it.

The bundle travels: the champion, copied out of the store, is served with
``mlflow models serve --env-manager virtualenv`` (pyenv's Python, a fresh environment MLflow
builds from the model's own ``python_env.yaml`` and ``requirements.txt``: no repository, no
``creditrisk`` installed) and answers one applicant like the API. Skipped with the reason when
pyenv or the model's Python version is missing.
"""

from __future__ import annotations

import dataclasses
import math
import os
import shutil
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from creditrisk.serving.api_keys import IssuedApiKey, generate_api_key, seed_entry
from tests.serving.bundle_fixture import ServingWorld, example_applications, tracking_store

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def base_env(world: ServingWorld) -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    return {
        **os.environ,
        "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")]),
        "MLFLOW_TRACKING_URI": world.tracking_uri,
        "MLFLOW_REGISTRY_URI": world.tracking_uri,
        "OMP_NUM_THREADS": "1",
    }


def wait_until(url: str, process: subprocess.Popen[bytes], log: Path,
               timeout_seconds: float = START_TIMEOUT_SECONDS) -> str | None:
    """None once ``url`` answers 200; otherwise why the server is not up."""
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return f"exited with code {process.returncode}:\n{log.read_text()[-3000:]}"
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return None
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    return f"not answering {url} after {timeout_seconds:.0f}s:\n{log.read_text()[-3000:]}"


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def mlflow_url(serving_world: ServingWorld, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("mlflow-serve") / "serve.log"
    command = [sys.executable, "-m", "mlflow", "models", "serve", "-m", serving_world.model_uri,
               "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port), "-w", "1"]
    with log.open("wb") as sink:
        try:
            process = subprocess.Popen(command, env=base_env(serving_world), stdout=sink,
                                       stderr=subprocess.STDOUT, cwd=REPO)
        except OSError as exc:
            pytest.skip(f"cannot run `mlflow models serve`: {exc}")
    try:
        problem = wait_until(f"http://127.0.0.1:{port}/ping", process, log)
        if problem is not None:
            text = log.read_text()
            if "returned non zero return code. Return code = 127" in text or (
                "No module named" in text and "uvicorn" in text
            ):
                pytest.skip(f"`mlflow models serve` cannot start here: {problem}")
            pytest.fail(f"`mlflow models serve` did not come up on our champion: {problem}")
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


@pytest.fixture(scope="module")
def api_key() -> IssuedApiKey:
    return generate_api_key(label="parity", scopes=["score", "read"], created_at=datetime.now(UTC))


@pytest.fixture(scope="module")
def api_url(serving_world: ServingWorld, serving_ledger_url: str, api_key: IssuedApiKey,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Our service from its real entry point, configured only through the environment."""
    port = free_port()
    log = tmp_path_factory.mktemp("api-serve") / "api.log"
    env = {
        **base_env(serving_world),
        "CREDITRISK_DATABASE_URL": serving_ledger_url,
        "CREDITRISK_MODEL_URI": serving_world.model_uri,
        "CREDITRISK_API_KEYS": seed_entry(api_key.record),
        "CREDITRISK_RELOAD_POLL_SECONDS": "0",
    }
    command = [sys.executable, "-m", "uvicorn", "creditrisk.serving.api.entrypoint:app_from_env",
               "--factory",
               "--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT,
                                   cwd=REPO)
    try:
        problem = wait_until(f"http://127.0.0.1:{port}/readyz", process, log)
        assert problem is None, f"our service did not become ready: {problem}"
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def application_rows() -> pd.DataFrame:
    """The example rows plus variations: missing optional fields, unseen country and
    industry, a young company, a large request, another decision date."""
    base = example_applications()
    variations = [
        {**base.iloc[0].to_dict(), "requested_limit": 2_000_000.0},
        {**base.iloc[1].to_dict(), "founded_on": "2025-11-30", "external_score": math.nan},
        {**base.iloc[2].to_dict(), "as_of": "2024-02-29", "payment_terms_days": 90.0},
        {**base.iloc[3].to_dict(), "annual_revenue": 0.0, "requested_limit": 0.0},
    ]
    return pd.concat([base, pd.DataFrame(variations)], ignore_index=True)


def json_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as a JSON client sends them: null for missing, whole days as integers (the API
    takes ``payment_terms_days`` as a JSON integer; the pyfunc as a number)."""
    def plain(key: str, value: Any) -> Any:
        if isinstance(value, float) and math.isnan(value):
            return None
        if key == "payment_terms_days" and float(value).is_integer():
            return int(value)
        return value

    return [{k: plain(k, v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def test_mlflow_models_serve_and_our_api_give_the_same_answers(
    mlflow_url: str, api_url: str, api_key: IssuedApiKey
) -> None:
    rows = json_rows(application_rows())
    theirs = httpx.post(f"{mlflow_url}/invocations", json={"dataframe_records": rows},
                        timeout=60)
    assert theirs.status_code == 200, theirs.text
    predictions = theirs.json()["predictions"]
    assert len(predictions) == len(rows)
    with httpx.Client(base_url=api_url, timeout=30,
                      headers={"Authorization": f"Bearer {api_key.token}"}) as http:
        for row, expected in zip(rows, predictions, strict=True):
            answer = http.post("/v1/applications", json=row)
            assert answer.status_code == 200, answer.text
            ours = answer.json()
            assert ours["pd_12m"] == pytest.approx(expected["pd_12m"], abs=1e-9), row
            assert ours["grade"] == str(expected["grade"]), row  # the API answers grade labels
            assert ours["decision"] == expected["decision"], row
            assert ours["recommended_limit"] == expected["recommended_limit"], row
            assert ours["expected_loss"] == pytest.approx(expected["expected_loss"]), row
            assert ",".join(r["code"] for r in ours["reasons"]) == expected["decision_reasons"]
            assert ours["as_of"] == row["as_of"]
    assert len({p["decision"] for p in predictions}) >= 2, "rows should not all decide alike"


# --------------------------------------------------------------------------- a bundle that travels

ENV_TIMEOUT_SECONDS = 900.0


def pyenv_binary() -> Path | None:
    """The ``pyenv`` MLflow's virtualenv env manager needs: on PATH or in ``~/.pyenv/bin``."""
    found = shutil.which("pyenv")
    if found is not None:
        return Path(found)
    default = Path.home() / ".pyenv" / "bin" / "pyenv"
    return default if default.is_file() else None


def model_python_version(model: Path) -> str:
    """The Python version the model's ``python_env.yaml`` asks for."""
    import yaml

    return str(yaml.safe_load((model / "python_env.yaml").read_text())["python"])


@pytest.fixture(scope="module")
def travelled_url(serving_world: ServingWorld, tmp_path_factory: pytest.TempPathFactory
                  ) -> Iterator[str]:
    """The champion copied out of the store into a folder of its own, served as its users
    would: ``mlflow models serve --env-manager virtualenv``. MLflow takes the model's Python
    from pyenv and builds a fresh environment from the model's ``python_env.yaml`` and
    ``requirements.txt`` alone (the index is PyPI or the machine's configured one): no
    repository, no ``creditrisk`` installed, nothing on PYTHONPATH; HOME and MLFLOW_ENV_ROOT
    in a temporary folder, so nothing is written to the user's home."""
    import mlflow

    pyenv = pyenv_binary()
    if pyenv is None:
        pytest.skip("`--env-manager virtualenv` needs pyenv (https://github.com/pyenv/pyenv): "
                    "not on PATH nor in ~/.pyenv/bin")
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or pyenv.resolve().parents[1])
    home = tmp_path_factory.mktemp("elsewhere")
    with tracking_store(serving_world.tracking_uri):
        model = Path(mlflow.artifacts.download_artifacts(serving_world.model_uri,
                                                         dst_path=str(home / "model")))
    python = model_python_version(model)
    if not (pyenv_root / "versions" / python).is_dir():
        pytest.skip(f"pyenv at {pyenv_root} has no Python {python} (the model's "
                    f"python_env.yaml); MLflow would build it from source: "
                    f"`pyenv install {python}` first")
    env_root = home / "mlflow-envs"
    clean = {
        "PATH": os.pathsep.join([str(pyenv.parent), "/usr/bin", "/bin"]),
        "HOME": str(home),  # pip's cache, pyenv's and MLflow's state: all in tmp
        "PYENV_ROOT": str(pyenv_root),
        "MLFLOW_ENV_ROOT": str(env_root),
        "OMP_NUM_THREADS": "1",
        # pip installs every requirement as usual but leaves the byte-compiling of the whole
        # environment (minutes of CPU on 2 cores) to the imports that need it
        "PIP_COMPILE": "0",  # pip install --no-compile (PIP_NO_COMPILE=1 would mean the opposite)
    }
    port = free_port()
    serve_log = home / "serve.log"
    # the outer `mlflow` is this venv's (a user's own MLflow); it serves from the env it builds
    command = [sys.executable, "-m", "mlflow", "models", "serve", "-m", str(model),
               "--env-manager", "virtualenv", "-h", "127.0.0.1", "-p", str(port), "-w", "1"]
    with serve_log.open("wb") as sink:
        process = subprocess.Popen(command, env=clean, stdout=sink, stderr=subprocess.STDOUT,
                                   cwd=home)
    try:
        problem = wait_until(f"http://127.0.0.1:{port}/ping", process, serve_log,
                             timeout_seconds=ENV_TIMEOUT_SECONDS)
        assert problem is None, f"the travelled model did not come up: {problem}"
        (env,) = (env_root).iterdir()
        alone = subprocess.run([str(env / "bin" / "python"), "-c", "import creditrisk"],
                               env=clean, cwd=home, capture_output=True, check=False)
        assert alone.returncode != 0, "the model's environment must not see this repository"
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def test_the_bundle_serves_from_a_fresh_virtualenv_built_from_the_model_alone(
    travelled_url: str, api_url: str, api_key: IssuedApiKey
) -> None:
    """Same PD, grade, decision and reason codes as the API for one applicant who leaves the
    optional inputs out; the answer carries the reason sentences; bad input is a 400 that
    names the row and field without a stack trace."""
    row = json_rows(example_applications().iloc[[1]])[0]
    applicant = {k: v for k, v in row.items()
                 if k not in ("external_score", "expected_monthly_sales")}
    theirs = httpx.post(f"{travelled_url}/invocations",
                        json={"dataframe_records": [applicant]}, timeout=60)
    assert theirs.status_code == 200, theirs.text
    predicted = theirs.json()["predictions"][0]
    ours = httpx.post(f"{api_url}/v1/applications", json=applicant, timeout=30,
                      headers={"Authorization": f"Bearer {api_key.token}"})
    assert ours.status_code == 200, ours.text
    answer = ours.json()
    assert answer["pd_12m"] == pytest.approx(predicted["pd_12m"], abs=1e-9)
    assert answer["grade"] == predicted["grade"]
    assert answer["decision"] == predicted["decision"]
    assert answer["recommended_limit"] == predicted["recommended_limit"]
    assert [r["code"] for r in answer["reasons"]] == predicted["decision_reasons"].split(",")
    assert [r["text"] for r in answer["reasons"]] == predicted["decision_reason_texts"].split("\n")
    bad = httpx.post(f"{travelled_url}/invocations",
                     json={"dataframe_records": [{**applicant, "founded_on": "2031-02-30"}]},
                     timeout=60)
    assert bad.status_code == 400, bad.text
    assert "founded_on" in bad.json()["message"]
    assert "Traceback" not in bad.text
    assert "stack_trace" not in bad.json()


# --------------------------------------------------------------------------- a late-only bundle

def test_a_late_only_bundle_logs_without_mlflow_warnings_and_answers_a_503(
    serving_world: ServingWorld, tmp_path: Path
) -> None:
    """A bundle without a default model (a ledger that cannot support one) is logged as the
    pipeline logs it (``log_options`` without an example): MLflow prints no warning; served,
    it answers an application with a 503 naming the missing model, not a stack trace."""
    import mlflow
    from mlflow.exceptions import MlflowException

    from creditrisk.models.pyfunc import log_options, save_bundle
    from creditrisk.training import tracking

    late_only = dataclasses.replace(
        serving_world.champion.bundle, default_model=None,
        metadata={"model_kind": "late_only", "default_model_skipped": "no default event"})
    path = save_bundle(late_only, tmp_path / "bundle.pkl")
    with tracking_store(f"sqlite:///{tmp_path / 'mlflow.db'}"):
        # artifacts under tmp_path: a bare set_experiment would put them in ./mlruns (the cwd)
        mlflow.create_experiment("late-only", artifact_location=(tmp_path / "art").as_uri())
        mlflow.set_experiment("late-only")
        with warnings.catch_warnings(record=True) as caught, mlflow.start_run():
            warnings.simplefilter("always")
            uri = tracking.log_model(name="bundle", **log_options(path, None, tmp_path))
        from_mlflow = [str(w.message) for w in caught if "mlflow" in w.filename]
        assert from_mlflow == []
        model = mlflow.pyfunc.load_model(uri)
        assert model.metadata.get_input_schema() is not None
        with pytest.raises(MlflowException) as answer:
            model.predict(example_applications().iloc[:1])
    assert answer.value.error_code == "TEMPORARILY_UNAVAILABLE"  # MLflow's scoring server: 503
    assert "no default model in this bundle (no default event)" in answer.value.message
