"""Settings read from the environment at the edge (the CLI). Library code takes arguments.

The variable names and defaults are the service settings' own
(:mod:`creditrisk.serving.settings`): defined once, for every command. That module is read
when a command runs, not when the CLI starts (it needs pydantic-settings).
"""

from __future__ import annotations

import os

__all__ = ["database_url", "tracking_uri"]


def database_url(option: str | None) -> str:
    """The ledger database: ``--database-url``, else $CREDITRISK_DATABASE_URL, else SQLite."""
    from creditrisk.serving.settings import DATABASE_URL_ENV, DEFAULT_DATABASE_URL

    return option or os.environ.get(DATABASE_URL_ENV) or DEFAULT_DATABASE_URL


def tracking_uri(option: str | None) -> str:
    """The MLflow store: ``--tracking-uri``, else $MLFLOW_TRACKING_URI, else local SQLite."""
    from creditrisk.serving.settings import DEFAULT_TRACKING_URI, TRACKING_URI_ENV

    return option or os.environ.get(TRACKING_URI_ENV) or DEFAULT_TRACKING_URI
