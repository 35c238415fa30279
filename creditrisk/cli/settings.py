"""Settings read from the environment at the edge (the CLI). Library code takes arguments.

The variable names and defaults are the service settings' own
(:mod:`creditrisk.serving.settings`): defined once, for every command.
"""

from __future__ import annotations

import os

from creditrisk.serving.settings import (
    DATABASE_URL_ENV,
    DEFAULT_DATABASE_URL,
    DEFAULT_TRACKING_URI,
    TRACKING_URI_ENV,
)

__all__ = [
    "DATABASE_URL_ENV",
    "DEFAULT_DATABASE_URL",
    "DEFAULT_TRACKING_URI",
    "TRACKING_URI_ENV",
    "database_url",
    "tracking_uri",
]


def database_url(option: str | None) -> str:
    """The ledger database: ``--database-url``, else $CREDITRISK_DATABASE_URL, else SQLite."""
    return option or os.environ.get(DATABASE_URL_ENV) or DEFAULT_DATABASE_URL


def tracking_uri(option: str | None) -> str:
    """The MLflow store: ``--tracking-uri``, else $MLFLOW_TRACKING_URI, else local SQLite."""
    return option or os.environ.get(TRACKING_URI_ENV) or DEFAULT_TRACKING_URI
