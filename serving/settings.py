"""Service settings: one immutable object; environment variable names defined once, here.

Every field ``name`` is read from ``CREDITRISK_<NAME>`` (``tracking_uri`` from
``MLFLOW_TRACKING_URI``, MLflow's own variable) by ``pydantic-settings``;
:func:`env_variable` names the variable of a field and :meth:`Settings.to_environment` writes
a settings object back as variables (what ``creditrisk serve`` hands to the uvicorn process
it starts). Constructing ``Settings(...)`` reads nothing from the environment: only
:meth:`Settings.from_env`, called at the edge (the CLI, the uvicorn factory), does.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Annotated, Any, Final, Literal

from limits import parse
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.sources.utils import parse_env_vars

from creditrisk.serving.api_keys import API_SCOPES, ApiScope
from creditrisk.serving.book_jobs import (
    DEFAULT_BOOK_JOBS_PER_PROCESS,
    DEFAULT_BOOK_QUEUE_LIMIT,
    DEFAULT_BOOK_RATE_LIMIT,
    DEFAULT_BOOK_WORKERS,
)
from creditrisk.serving.worklist import HORIZON_DAYS, DunningStages

DEFAULT_DATABASE_URL: Final = "sqlite:///creditrisk.db"
DEFAULT_TRACKING_URI: Final = "sqlite:///mlflow.db"
DEFAULT_MAX_BODY_BYTES: Final = 64 * 1024

ENV_PREFIX: Final = "CREDITRISK_"
TRACKING_URI_ENV: Final = "MLFLOW_TRACKING_URI"

_KEY_ID = re.compile(r"^[0-9a-f]{12}$")
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
_DEFAULT_STAGES = DunningStages()

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

    def entry(self) -> str:
        """This key as a ``CREDITRISK_API_KEYS`` entry (``KEYID:SHA256HEX:scope,scope``)."""
        return f"{self.key_id}:{self.key_hash}:{','.join(sorted(self.scopes))}"


class _MappingEnvSource(EnvSettingsSource):
    """pydantic-settings' environment source reading a given mapping instead of os.environ."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(
            self._environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str
        )


class Settings(BaseSettings):
    """Everything the service needs to start; defaults suit a local demo."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_ignore_empty=True,
        frozen=True,
        extra="forbid",
        protected_namespaces=(),
        validate_by_name=True,
    )

    database_url: str = DEFAULT_DATABASE_URL
    model_uri: str | None = Field(
        default=None,
        description="models:/NAME@ALIAS (registry) or a local bundle path; None = no model.",
    )
    tracking_uri: str = Field(default=DEFAULT_TRACKING_URI, validation_alias=TRACKING_URI_ENV)
    max_body_bytes: int = Field(default=DEFAULT_MAX_BODY_BYTES, gt=0)
    reload_poll_seconds: float = Field(
        default=30.0, ge=0, description="How often the registry alias is re-resolved; 0 = never."
    )
    model_load: ModelLoadMode = Field(
        default="blocking",
        description="blocking: startup waits for the first load; background: serve at once, "
        "/readyz says 503 until the model is in.",
    )
    api_keys: Annotated[tuple[SeededApiKey, ...], NoDecode] = ()
    api_key_cache_seconds: float = Field(
        default=30.0, ge=0, description="How long a key looked up in the database is trusted."
    )
    log_level: LogLevel = "INFO"
    access_log: bool = True
    run_migrations: bool = True
    portfolio_cache_seconds: float = Field(
        default=60.0, ge=0, description="How long a scored book (portfolio, worklist) is reused."
    )
    portfolio_cache_mb: float = Field(
        default=256.0, gt=0, description="Memory bound of the scored books kept (MB)."
    )
    book_workers: int = Field(
        default=DEFAULT_BOOK_WORKERS, ge=1, le=8,
        description="Worker processes that may score the whole book at once (portfolio, "
        "worklist).",
    )
    book_jobs_per_process: int = Field(
        default=DEFAULT_BOOK_JOBS_PER_PROCESS, ge=1, le=1000,
        description="Book computations a worker process does before it is replaced (its "
        "memory given back).",
    )
    book_queue_limit: int = Field(
        default=DEFAULT_BOOK_QUEUE_LIMIT, ge=0, le=64,
        description="Book computations that may wait for a worker; beyond: 503 + Retry-After.",
    )
    book_rate_limit: str = Field(
        default=DEFAULT_BOOK_RATE_LIMIT,
        description='Book requests per API key ("12/minute", the limits library\'s notation).',
    )

    @field_validator("book_rate_limit")
    @classmethod
    def _rate_limit_parses(cls, value: str) -> str:
        try:
            parse(value)
        except ValueError as exc:
            raise ValueError(f'not a rate limit such as "12/minute": {value!r}') from exc
        return value
    as_of_max_days_ahead: int = Field(
        default=366, ge=0, le=36_500,
        description="Latest decision date (as_of) accepted: the service's today plus this "
        "many days (a plausibility bound; later is 422 naming as_of).",
    )
    worklist_horizon_days: int = Field(
        default=HORIZON_DAYS, ge=1, le=365,
        description="Invoices due within this many days count as soon due on the worklist.",
    )
    dunning_call_from_days: int = Field(default=_DEFAULT_STAGES.call_from_days, ge=1)
    dunning_hold_deliveries_from_days: int = Field(
        default=_DEFAULT_STAGES.hold_deliveries_from_days, ge=1
    )
    dunning_collections_from_days: int = Field(
        default=_DEFAULT_STAGES.collections_from_days, ge=1
    )
    dunning_write_off_review_from_days: int = Field(
        default=_DEFAULT_STAGES.write_off_review_from_days, ge=1
    )

    @model_validator(mode="after")
    def _stages_escalate(self) -> Settings:
        self.dunning_stages  # noqa: B018 (raises ValueError when the thresholds do not increase)
        return self

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("api_keys", mode="before")
    @classmethod
    def _parse_key_entries(cls, value: Any) -> Any:
        return parse_seeded_api_keys(value) if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Explicit values only: the environment is read by :meth:`from_env`, never implicitly."""
        return (init_settings,)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read ``CREDITRISK_*`` (and ``MLFLOW_TRACKING_URI``); unset variables keep defaults.
        :class:`SettingsError` names the variable of a bad value."""
        env = os.environ if environ is None else environ
        try:
            return cls(**_MappingEnvSource(cls, env)())
        except ValidationError as exc:
            first = exc.errors()[0]
            field = str(first["loc"][0]) if first["loc"] else "?"
            variable = env_variable(field) if field in cls.model_fields else field
            raise SettingsError(variable, str(first["msg"])) from exc

    def to_environment(self) -> dict[str, str]:
        """These settings as environment variables (None fields left out):
        ``Settings.from_env(s.to_environment()) == s``."""
        out: dict[str, str] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is None:
                continue
            if name == "api_keys":
                text = ";".join(key.entry() for key in value)
            elif isinstance(value, bool):
                text = "true" if value else "false"
            else:
                text = str(value)
            if text:
                out[env_variable(name)] = text
        return out

    @property
    def dunning_stages(self) -> DunningStages:
        """The worklist's escalation thresholds (days past due of the oldest invoice)."""
        return DunningStages(
            call_from_days=self.dunning_call_from_days,
            hold_deliveries_from_days=self.dunning_hold_deliveries_from_days,
            collections_from_days=self.dunning_collections_from_days,
            write_off_review_from_days=self.dunning_write_off_review_from_days,
        )


def env_variable(field: str) -> str:
    """The environment variable of a settings field (``database_url`` ->
    ``CREDITRISK_DATABASE_URL``; ``tracking_uri`` -> ``MLFLOW_TRACKING_URI``)."""
    alias = Settings.model_fields[field].validation_alias
    return alias if isinstance(alias, str) else f"{ENV_PREFIX}{field.upper()}"


API_KEYS_ENV: Final = env_variable("api_keys")
DATABASE_URL_ENV: Final = env_variable("database_url")
MODEL_URI_ENV: Final = env_variable("model_uri")


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
