"""``creditrisk serve``: run the HTTP service on this machine.

Builds the service :class:`~creditrisk.serving.settings.Settings` once (environment, then
the command's options), applies the database migrations once (the workers then start with
``run_migrations`` off, so several workers never race on them), optionally makes sure a demo
API key exists (``--demo-key-file``), prints a working ``curl`` example, then runs uvicorn
with the factory :data:`~creditrisk.serving.api.entrypoint.FACTORY` in a child process whose
environment is built explicitly from the settings (:meth:`Settings.to_environment`): this
process's own ``os.environ`` is never written, and every worker (``--workers N``) inherits the
same settings from the child.
"""

from __future__ import annotations

import hmac
import json
import os
import shlex
import subprocess
import sys
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from creditrisk.cli import settings

if TYPE_CHECKING:  # heavy: imported inside the functions (rule in creditrisk/cli/__init__.py)
    from sqlalchemy import Engine

    from creditrisk.serving.settings import Settings

DEFAULT_MODEL_URI = "models:/creditrisk@champion"
DEMO_KEY_LABEL = "demo"
DEMO_KEY_SCOPES = ("score", "read")
EXIT_USAGE = 2


def _stderr() -> Console:
    return Console(stderr=True)


def ensure_demo_key(engine: Engine, path: Path, *, now: datetime) -> tuple[str, bool]:
    """The demo key kept in ``path``: reused while it is stored and not revoked, otherwise a
    new ``score,read`` key is stored (hashed) and written to ``path`` (mode 600).
    Returns the key and whether it was created."""
    from creditrisk.serving.api_keys import (
        generate_api_key,
        hash_api_key,
        insert_api_key,
        load_api_key,
        parse_key_id,
    )

    if path.is_file():
        token = path.read_text(encoding="utf-8").strip()
        key_id = parse_key_id(token)
        record = load_api_key(engine, key_id) if key_id else None
        if (
            record is not None
            and record.revoked_at is None
            and hmac.compare_digest(record.key_hash, hash_api_key(token))
        ):
            return token, False
    issued = generate_api_key(label=DEMO_KEY_LABEL, scopes=DEMO_KEY_SCOPES, created_at=now)
    insert_api_key(engine, issued.record)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(issued.token + "\n", encoding="utf-8")
    path.chmod(0o600)
    return issued.token, True


def ledger_example(engine: Engine) -> tuple[str | None, date | None]:
    """A customer id and the ledger's last invoice date, for the printed examples."""
    from sqlalchemy import func, select

    from creditrisk.ledger.schema import LEDGER_TABLES

    customers = LEDGER_TABLES["customers"]
    invoices = LEDGER_TABLES["invoices"]
    with engine.connect() as conn:
        customer = conn.execute(
            select(customers.c.customer_id).order_by(customers.c.customer_id).limit(1)
        ).scalar()
        last = conn.execute(select(func.max(invoices.c.issue_date))).scalar()
    last_day = last.date() if isinstance(last, datetime) else last
    return (None if customer is None else str(customer)), last_day


def curl_examples(base_url: str, key: str, *, customer_id: str | None,
                  as_of: date | None, key_file: Path | None = None) -> list[str]:
    """Copy-paste ``curl`` commands for the application and customer-risk endpoints. With
    ``key_file`` the commands read the key from that file (``$(cat ...)``) and ``key`` is
    not printed."""
    application = {
        "country": "DE",
        "industry": "manufacturing",
        "founded_on": "2012-05-01",
        "annual_revenue": 4_000_000,
        "external_score": 62,
        "payment_terms_days": 30,
        "requested_limit": 50_000,
        "expected_monthly_sales": 25_000,
    }
    if as_of is not None:
        application["as_of"] = as_of.isoformat()
    if key_file is not None:  # the shell expands $(cat ...) inside the double quotes
        auth = f'"Authorization: Bearer $(cat {shlex.quote(str(key_file))})"'
    else:
        auth = shlex.quote(f"Authorization: Bearer {key}")
    lines = [
        f"curl -s -X POST {base_url}/v1/applications -H {auth} "
        f"-H 'Content-Type: application/json' -d {shlex.quote(json.dumps(application))}"
    ]
    if customer_id is not None:
        query = f"?as_of={as_of.isoformat()}" if as_of else ""
        risk_url = shlex.quote(f"{base_url}/v1/customers/{customer_id}/risk{query}")
        lines.append(f"curl -s {risk_url} -H {auth}")
    return lines


def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option("--workers", min=1, help="uvicorn worker processes.")]
    = 1,
    model_uri: Annotated[
        str | None,
        typer.Option("--model-uri", help="models:/NAME@ALIAS, models:/NAME/VERSION or a path "
                     f"(default $CREDITRISK_MODEL_URI or {DEFAULT_MODEL_URI})."),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", help="Ledger and service database "
                     "(default $CREDITRISK_DATABASE_URL or SQLite)."),
    ] = None,
    tracking_uri: Annotated[
        str | None,
        typer.Option("--tracking-uri", help="MLflow store (default $MLFLOW_TRACKING_URI)."),
    ] = None,
    demo_key_file: Annotated[
        Path | None,
        typer.Option("--demo-key-file", help="Keep a demo key (score, read) in this file: "
                     "reused if still valid, created otherwise."),
    ] = None,
    log_level: Annotated[
        str, typer.Option("--log-level", help="DEBUG, INFO, WARNING or ERROR.")
    ] = "INFO",
    show_keys: Annotated[
        bool, typer.Option("--show-keys", help="Print the demo key in clear in the examples "
                           "(default: they read it from --demo-key-file).")
    ] = False,
) -> None:
    """Run the credit-risk HTTP service (uvicorn) until interrupted."""
    from creditrisk.ledger.database import make_engine, upgrade_database
    from creditrisk.serving.settings import SettingsError

    try:
        service_settings = service_settings_for(
            os.environ,
            database_url=settings.database_url(database_url),
            tracking_uri=settings.tracking_uri(tracking_uri),
            model_uri=model_uri,
            log_level=log_level,
        )
    except SettingsError as exc:
        _stderr().print(f"[red]{exc}[/red]")
        raise typer.Exit(EXIT_USAGE) from exc

    console = _stderr()
    url = service_settings.database_url
    if service_settings.run_migrations:
        upgrade_database(url)

    engine = make_engine(url)
    try:
        customer_id, as_of = ledger_example(engine)
        key = None
        if demo_key_file is not None:
            key, created = ensure_demo_key(engine, demo_key_file, now=datetime.now(UTC))
            what = "created" if created else "reusing"
            console.print(f"{what} demo key (score, read) in {demo_key_file}", highlight=False)
    finally:
        engine.dispose()

    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
    base_url = f"http://{shown_host}:{port}"
    console.print(
        f"serving {service_settings.model_uri} on {base_url} with {workers} worker(s); "
        f"docs at {base_url}/docs",
        highlight=False,
    )
    if key is not None:
        typer.echo("Try it:")
        key_file = None if show_keys else demo_key_file
        for line in curl_examples(base_url, key, customer_id=customer_id, as_of=as_of,
                                  key_file=key_file):
            typer.echo(f"  {line}")
    else:
        console.print("no --demo-key-file: create a key with `creditrisk keys create --label me`",
                      highlight=False)

    worker_settings = service_settings.model_copy(update={"run_migrations": False})
    command = uvicorn_command(host=host, port=port, workers=workers,
                              log_level=service_settings.log_level)
    try:
        completed = subprocess.run(  # noqa: S603 (our own interpreter and arguments)
            command, env=worker_environment(os.environ, worker_settings), check=False
        )
    except KeyboardInterrupt:  # the child got the same Ctrl-C and shuts down on its own
        return
    if completed.returncode != 0:
        raise typer.Exit(completed.returncode)


def service_settings_for(
    environ: Mapping[str, str],
    *,
    database_url: str,
    tracking_uri: str,
    model_uri: str | None,
    log_level: str,
) -> Settings:
    """The service settings: the ``CREDITRISK_*`` environment, overridden by the options."""
    from creditrisk.serving.settings import (
        DATABASE_URL_ENV,
        MODEL_URI_ENV,
        TRACKING_URI_ENV,
        Settings,
        env_variable,
    )

    base = Settings.from_env(environ)
    return Settings.from_env(
        {
            **base.to_environment(),
            DATABASE_URL_ENV: database_url,
            TRACKING_URI_ENV: tracking_uri,
            MODEL_URI_ENV: model_uri or base.model_uri or DEFAULT_MODEL_URI,
            env_variable("log_level"): log_level,
        }
    )


def worker_environment(environ: Mapping[str, str], service_settings: Settings) -> dict[str, str]:
    """The uvicorn process's environment: this one without any service variable, plus the
    settings written as variables (so the workers read exactly ``service_settings``)."""
    from creditrisk.serving.settings import ENV_PREFIX, TRACKING_URI_ENV

    inherited = {
        name: value
        for name, value in environ.items()
        if not name.startswith(ENV_PREFIX) and name != TRACKING_URI_ENV
    }
    return {**inherited, **service_settings.to_environment()}


def uvicorn_command(*, host: str, port: int, workers: int, log_level: str) -> list[str]:
    """uvicorn from this interpreter (never from PATH) on the service factory; uvicorn's own
    access log stays off: it would log raw paths and query strings (customer ids)."""
    from creditrisk.serving.api.entrypoint import FACTORY

    return [
        sys.executable, "-m", "uvicorn", FACTORY, "--factory",
        "--host", host, "--port", str(port), "--workers", str(workers),
        "--no-access-log", "--log-level", log_level.lower(),
    ]
