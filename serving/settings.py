"""Service settings: one immutable object, built from the environment at the edge only.

``Settings.from_env()`` is called by the entry point (``creditrisk serve``, a uvicorn factory);
everything below it receives the ``Settings`` instance explicitly.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from creditrisk.serving.auth import API_SCOPES, ApiScope

DEFAULT_DATABASE_URL = "sqlite:///creditrisk.db"
DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
DEFAULT_MAX_BODY_BYTES = 64 * 1024

ENV_PREFIX = "CREDITRISK_"
TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"
API_KEYS_ENV = "CREDITRISK_API_KEYS"

_KEY_ID = re.compile(r"^[0-9a-f]{12}$")
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
ModelLoadMode = Literal["blocking", "background"]


class SettingsError(ValueError):
    """An environment variable holds a value the service cannot use (names the variable)."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable
        self.problem = problem


class SeededApiKey(BaseModel):
    """An API key known from configuration (demo, bootstrap admin): only its hash is kept."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key_id: str
    key_hash: str
    scopes: frozenset[ApiScope]
    label: str = "seeded"

    @field_validator("key_id")
    @classmethod
    def _key_id_is_hex(cls, value: str) -> str:
        if not _KEY_ID.fullmatch(value):
            raise ValueError("key id must be 12 lowercase hex characters")
        return value

    @field_validator("key_hash")
    @classmethod
    def _hash_is_sha256_hex(cls, value: str) -> str:
        if not _SHA256_HEX.fullmatch(value):
            raise ValueError("key hash must be a 64-character lowercase sha256 hex digest")
        return value


class Settings(BaseModel):
    """Everything the service needs to start; defaults suit a local demo."""

    model_config = ConfigDict(frozen=True, extra="forbid", protected_namespaces=())

    database_url: str = DEFAULT_DATABASE_URL
    model_uri: str | None = Field(
        default=None,
        description="models:/NAME@ALIAS (registry) or a local bundle path; None = no model.",
    )
    tracking_uri: str = DEFAULT_TRACKING_URI
    max_body_bytes: int = Field(default=DEFAULT_MAX_BODY_BYTES, gt=0)
    reload_poll_seconds: float = Field(
        default=30.0, ge=0, description="How often the registry alias is re-resolved; 0 = never."
    )
    model_load: ModelLoadMode = Field(
        default="blocking",
        description="blocking: startup waits for the first load; background: serve at once, "
        "/readyz says 503 until the model is in.",
    )
    api_keys: tuple[SeededApiKey, ...] = ()
    api_key_cache_seconds: float = Field(
        default=30.0, ge=0, description="How long a key looked up in the database is trusted."
    )
    log_level: LogLevel = "INFO"
    access_log: bool = True
    run_migrations: bool = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read ``CREDITRISK_*`` (and ``MLFLOW_TRACKING_URI``); unset variables keep defaults."""
        env = os.environ if environ is None else environ
        raw: dict[str, object] = {}
        simple = {
            "database_url": "CREDITRISK_DATABASE_URL",
            "model_uri": "CREDITRISK_MODEL_URI",
            "tracking_uri": TRACKING_URI_ENV,
            "max_body_bytes": "CREDITRISK_MAX_BODY_BYTES",
            "reload_poll_seconds": "CREDITRISK_RELOAD_POLL_SECONDS",
            "model_load": "CREDITRISK_MODEL_LOAD",
            "api_key_cache_seconds": "CREDITRISK_API_KEY_CACHE_SECONDS",
            "log_level": "CREDITRISK_LOG_LEVEL",
            "access_log": "CREDITRISK_ACCESS_LOG",
            "run_migrations": "CREDITRISK_RUN_MIGRATIONS",
        }
        for field, variable in simple.items():
            value = env.get(variable)
            if value is not None and value != "":
                raw[field] = value.upper() if field == "log_level" else value
        if env.get(API_KEYS_ENV):
            raw["api_keys"] = parse_seeded_api_keys(env[API_KEYS_ENV])
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = str(first["loc"][0]) if first["loc"] else "?"
            variable = simple.get(field, API_KEYS_ENV if field == "api_keys" else field)
            raise SettingsError(variable, str(first["msg"])) from exc


def parse_seeded_api_keys(text: str) -> tuple[SeededApiKey, ...]:
    """Parse ``KEYID:SHA256HEX:scope,scope;KEYID:...`` (what ``creditrisk keys create --env``
    prints). Entries are separated by ``;``; the hash is of the whole ``cr_...`` token."""
    keys: list[SeededApiKey] = []
    for position, entry in enumerate(part.strip() for part in text.split(";")):
        if not entry:
            continue
        fields = entry.split(":")
        if len(fields) != 3:
            raise SettingsError(
                API_KEYS_ENV, f"entry {position + 1} must look like KEYID:SHA256HEX:scope,scope"
            )
        key_id, key_hash, scopes_text = fields
        scopes = {s.strip() for s in scopes_text.split(",") if s.strip()}
        unknown = scopes - set(API_SCOPES)
        if unknown or not scopes:
            raise SettingsError(
                API_KEYS_ENV,
                f"entry {position + 1} has unknown or no scopes {sorted(unknown)}; "
                f"allowed: {', '.join(API_SCOPES)}",
            )
        try:
            keys.append(
                SeededApiKey.model_validate(
                    {"key_id": key_id, "key_hash": key_hash, "scopes": scopes}
                )
            )
        except ValidationError as exc:
            raise SettingsError(
                API_KEYS_ENV, f"entry {position + 1}: {exc.errors()[0]['msg']}"
            ) from exc
    return tuple(keys)
