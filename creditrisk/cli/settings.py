"""Settings read from the environment at the edge (the CLI). Library code takes arguments."""

from __future__ import annotations

import os

DATABASE_URL_ENV = "CREDITRISK_DATABASE_URL"
TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"
DEFAULT_DATABASE_URL = "sqlite:///creditrisk.db"
DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"


def database_url(option: str | None) -> str:
    """The ledger database: ``--database-url``, else $CREDITRISK_DATABASE_URL, else SQLite."""
    return option or os.environ.get(DATABASE_URL_ENV) or DEFAULT_DATABASE_URL


def tracking_uri(option: str | None) -> str:
    """The MLflow store: ``--tracking-uri``, else $MLFLOW_TRACKING_URI, else local SQLite."""
    return option or os.environ.get(TRACKING_URI_ENV) or DEFAULT_TRACKING_URI
